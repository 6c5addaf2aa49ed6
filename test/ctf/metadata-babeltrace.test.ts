// Differential test: hand-written TSDL corner cases must be accepted or rejected exactly as the real
// babeltrace2 (Debian 2.0.4) does. Each case becomes a trace folder holding only `metadata`.
// Left out on purpose: clocks without `freq` in traces without data (2.0.4 dies of SIGFPE there,
// a reader bug unrelated to the metadata) and `struct { } align(3)` (2.0.4 accepts a non power of
// two structure alignment, which cannot be decoded sensibly; ltt refuses it).
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LttError } from '../../src/errors.js';
import { parseMetadata } from '../../src/ctf/metadata.js';

const BABELTRACE = '/usr/bin/babeltrace2';

const TYPES = `typealias integer { size = 8; align = 8; signed = false; } := uint8_t;
typealias integer { size = 32; align = 8; signed = false; } := uint32_t;
typealias integer { size = 32; align = 8; signed = true; } := int32_t;
`;
const TRACE = 'trace { major = 1; minor = 8; byte_order = le; };\n';

/** [name, metadata]: `$T` = the integer types, `$TR` = a trace block, leading `!` = no signature added. */
const CASES: ReadonlyArray<readonly [string, string]> = [
  ["dotted-tag", "$T$TR event { name = e; fields := struct { enum : uint8_t { a, b } t; variant <event.fields.t> { uint8_t a; uint8_t b; } v; }; };"],
  ["seq-later", "$T$TR event { name = e; fields := struct { uint8_t d[n]; uint8_t n; }; };"],
  ["seq-self-scope-abs-later", "$T$TR event { name = e; fields := struct { uint8_t d[event.fields.n]; uint8_t n; }; };"],
  ["seq-abs-same-scope-before", "$T$TR event { name = e; fields := struct { uint8_t n; uint8_t d[event.fields.n]; }; };"],
  ["seq-in-array", "$T$TR event { name = e; fields := struct { struct { uint8_t n; } a[2]; uint8_t d[a.n]; }; };"],
  ["seq-signed-enum", "$T$TR event { name = e; fields := struct { enum : int32_t { a } n; uint8_t d[n]; }; };"],
  ["seq-unsigned-enum", "$T$TR event { name = e; fields := struct { enum : uint8_t { a } n; uint8_t d[n]; }; };"],
  ["seq-into-variant", "$T$TR event { name = e; fields := struct { enum : uint8_t { a, b } t; variant <t> { uint8_t a; uint8_t b; } v; uint8_t d[v.a]; }; };"],
  ["seq-outer-descend", "$T$TR event { name = e; fields := struct { struct { uint8_t n; } s; struct { uint8_t d[s.n]; } x; }; };"],
  ["untagged-variant-field", "$T$TR event { name = e; fields := struct { variant { uint8_t a; } v; }; };"],
  ["variant-no-matching-label", "$T$TR event { name = e; fields := struct { enum : uint8_t { x, y } t; variant <t> { uint8_t a; uint8_t b; } v; }; };"],
  ["bitfield", "$T$TR event { name = e; fields := struct { uint8_t x : 3; }; };"],
  ["dup-field", "$T$TR event { name = e; fields := struct { uint8_t x; uint8_t x; }; };"],
  ["dup-field-underscore", "$T$TR event { name = e; fields := struct { uint8_t _x; uint8_t x; }; };"],
  ["dup-field-underscore-rev", "$T$TR event { name = e; fields := struct { uint8_t x; uint8_t _x; }; };"],
  ["enum-no-int", "$T$TR event { name = e; fields := struct { enum { A } x; }; };"],
  ["enum-empty", "$T$TR event { name = e; fields := struct { enum : uint8_t { } x; }; };"],
  ["enum-range-reversed", "$T$TR event { name = e; fields := struct { enum : uint8_t { A = 5 ... 2 } x; }; };"],
  ["enum-out-of-range", "$T$TR event { name = e; fields := struct { enum : uint8_t { A = 300 } x; }; };"],
  ["enum-neg-unsigned", "$T$TR event { name = e; fields := struct { enum : uint8_t { A = -1 } x; }; };"],
  ["event-no-name", "$T$TR event { id = 1; };"],
  ["stream-id-without-header", "$T$TR stream { id = 1; };"],
  ["event-unknown-stream", "$T$TR event { name = a; stream_id = 3; };"],
  ["two-events-no-id", "$T$TR event { name = a; }; event { name = b; };"],
  ["two-events-ids-no-header-id", "$T$TR event { name = a; id = 0; }; event { name = b; id = 1; };"],
  ["float-bad", "$T$TR event { name = e; fields := struct { floating_point { exp_dig = 5; mant_dig = 10; } f; }; };"],
  ["float-ok", "$T$TR event { name = e; fields := struct { floating_point { exp_dig = 8; mant_dig = 24; } f; }; };"],
  ["ts-begin-signed", "$T$TR stream { packet.context := struct { int32_t timestamp_begin; }; };"],
  ["fields-not-struct", "$T$TR event { name = e; fields := uint32_t; };"],
  ["typealias-redefine", "$T typealias integer { size = 16; } := uint8_t; $TR"],
  ["typedef-in-struct-scope", "$T$TR event { name = e; fields := struct { typedef uint8_t my_t; my_t a; struct { my_t b; } s; }; };"],
  ["ul-suffix", "$TR env { a = 5ul; };"],
  ["int-size-65", "$TR typealias integer { size = 65; } := t;"],
  ["int-no-size", "$TR typealias integer { signed = true; } := t;"],
  ["int-dup-attr", "$TR typealias integer { size = 8; size = 8; } := t;"],
  ["int-base-7", "$TR typealias integer { size = 8; base = 7; } := t;"],
  ["int-encoding-bad", "$TR typealias integer { size = 8; encoding = latin1; } := t;"],
  ["signed-yes", "$TR typealias integer { size = 8; signed = yes; } := t;"],
  ["string-attr-unknown", "$T$TR event { name = e; fields := struct { string { foo = 1; } s; }; };"],
  ["env-array", "$T$TR env { n = 3; }; event { name = e; fields := struct { uint8_t a[env.n]; }; };"],
  ["env-array-missing", "$T$TR event { name = e; fields := struct { uint8_t a[env.n]; }; };"],
  ["struct-align-0", "$T$TR event { name = e; fields := struct { uint8_t a; } align(0); };"],
  ["loglevel-99", "$T$TR event { name = e; loglevel = 99; };"],
  ["event-name-int", "$T$TR event { name = 5; };"],
  ["stream-dup-pc", "$T$TR stream { packet.context := struct { uint8_t a; }; packet.context := struct { uint8_t a; }; };"],
  ["typeassign-unknown", "$T$TR stream { foo := struct { uint8_t a; }; };"],
  ["callsite", "$TR callsite { name = a; };"],
  ["var-named-later", "$T$TR variant v_t { uint8_t a; uint8_t b; }; event { name = e; fields := struct { enum : uint8_t { a, b } t; variant v_t <t> v; }; };"],
  ["var-named-tag-keyword", "$T$TR event { name = e; fields := struct { enum : uint8_t { a, b } _event; variant <_event> { uint8_t a; uint8_t b; } v; }; };"],
  ["seq-len-keyword-path", "$T$TR stream { event.context := struct { uint8_t n; }; }; event { name = e; fields := struct { uint8_t d[stream.event.context.n]; }; };"],
  ["id-header-signed", "$T$TR stream { event.header := struct { int32_t id; }; };"],
  ["pointer-missing-alias", "$T$TR event { name = e; fields := struct { uint8_t *p; }; };"],
  ["two-clocks-automap-ok-explicit", "$T$TR clock { name = a; freq = 1000; }; clock { name = b; freq = 1000; }; typealias integer { size = 32; map = clock.b.value; } := tb; stream { event.header := struct { tb timestamp; }; }; event { name = e; };"],
  ["map-weird-with-clock", "$TR clock { name = x; freq = 1000; }; typealias integer { size = 8; map = foo; } := t; event { name = e; };"],
  ["clock-offset-big", "$TR clock { name = a; freq = 1000; offset = 123456789; offset_s = -5; }; event { name = e; };"],
  ["clock-offset-s-neg-only", "$TR clock { name = a; freq = 1000; offset_s = -5; }; event { name = e; };"],
  ["clock-name-string", "$TR clock { name = \"my clock\"; freq = 1000; }; event { name = e; };"],
  ["clock-uuid-bad", "$TR clock { name = a; uuid = \"nope\"; }; event { name = e; };"],
  ["clock-desc-ident", "$TR clock { name = a; description = abc; }; event { name = e; };"],
  ["clock-precision-neg", "$TR clock { name = a; precision = -1; }; event { name = e; };"],
  ["clock-unknown-attr", "$TR clock { name = a; freq = 1000; foo = 3; }; event { name = e; };"],
  ["env-ident", "$TR env { a = ident; b = a.b; c = 'c'; }; event { name = e; };"],
  ["env-dup", "$TR env { a = 1; a = 2; }; event { name = e; };"],
  ["env-type-assign", "$T$TR env { a := uint8_t; }; event { name = e; };"],
  ["env-typealias", "$TR env { typealias integer { size = 8; } := t; }; event { name = e; };"],
  ["trace-typealias", "trace { major = 1; minor = 8; byte_order = le; typealias integer { size = 8; } := t; packet.header := struct { t x; }; }; event { name = e; };"],
  ["stream-typedef", "$T$TR stream { typedef uint8_t x_t; event.context := struct { x_t a; }; }; event { name = e; };"],
  ["event-typealias-leaks", "$T$TR event { name = a; id = 0; typedef uint8_t x_t; fields := struct { x_t a; }; }; event { name = b; id = 1; fields := struct { x_t a; }; }; stream { event.header := struct { uint8_t id; }; };"],
  ["struct-in-struct-named-reuse", "$T$TR event { name = e; fields := struct { struct s { uint8_t a; } x; struct s y; }; };"],
  ["struct-named-redefine-inner", "$T$TR struct s { uint8_t a; }; event { name = e; fields := struct { struct s { uint32_t b; } x; }; };"],
  ["struct-named-redefine-root", "$T$TR struct s { uint8_t a; }; struct s { uint8_t b; }; event { name = e; };"],
  ["enum-named-redefine", "$T$TR enum e : uint8_t { A }; enum e : uint8_t { B }; event { name = e; };"],
  ["variant-named-untagged-twice", "$T$TR variant v { uint8_t a; }; event { name = e; fields := struct { enum : uint8_t { a } t; variant v <t> x; variant v <t> y; }; };"],
  ["variant-tag-in-header", "$T trace { major = 1; minor = 8; byte_order = le; packet.header := struct { enum : uint8_t { a, b } sel; }; }; event { name = e; fields := struct { variant <sel> { uint8_t a; uint8_t b; } v; }; };"],
  ["seq-header-abs", "$T trace { major = 1; minor = 8; byte_order = le; packet.header := struct { uint8_t n; }; }; event { name = e; fields := struct { uint8_t d[trace.packet.header.n]; }; };"],
  ["seq-header-rel", "$T trace { major = 1; minor = 8; byte_order = le; packet.header := struct { uint8_t n; }; }; event { name = e; fields := struct { uint8_t d[n]; }; };"],
  ["seq-into-struct-member", "$T$TR event { name = e; fields := struct { struct { uint8_t n; } s; uint8_t d[s.n]; }; };"],
  ["seq-to-struct", "$T$TR event { name = e; fields := struct { struct { uint8_t n; } s; uint8_t d[s]; }; };"],
  ["seq-arrow", "$T$TR event { name = e; fields := struct { struct { uint8_t n; } s; uint8_t d[s->n]; }; };"],
  ["seq-of-seq", "$T$TR event { name = e; fields := struct { uint8_t n; uint8_t m; uint8_t d[n][m]; }; };"],
  ["seq-negative", "$T$TR event { name = e; fields := struct { uint8_t d[-1]; }; };"],
  ["seq-keyword-name", "$T$TR event { name = e; fields := struct { uint8_t _string; uint8_t d[_string]; }; };"],
  ["array-0", "$T$TR event { name = e; fields := struct { uint8_t d[0]; }; };"],
  ["array-hex", "$T$TR event { name = e; fields := struct { uint8_t d[0x10]; }; };"],
  ["field-name-keyword", "$T$TR event { name = e; fields := struct { uint8_t string; }; };"],
  ["field-name-type", "$T$TR event { name = e; fields := struct { uint8_t uint32_t; }; };"],
  ["field-name-align", "$T$TR event { name = e; fields := struct { uint8_t align; }; };"],
  ["int-signed-string", "$TR typealias integer { size = 8; signed = \"true\"; } := t; event { name = e; };"],
  ["int-base-string", "$TR typealias integer { size = 8; base = \"hex\"; } := t; event { name = e; };"],
  ["int-byte-order-string", "$TR typealias integer { size = 8; byte_order = \"be\"; } := t; event { name = e; };"],
  ["int-byte-order-bad", "$TR typealias integer { size = 8; byte_order = middle; } := t; event { name = e; };"],
  ["int-encoding-string", "$TR typealias integer { size = 8; encoding = \"UTF-8\"; } := t; event { name = e; };"],
  ["int-unknown-attr", "$TR typealias integer { size = 8; foo = bar; } := t; event { name = e; };"],
  ["int-empty", "$TR typealias integer { } := t; event { name = e; };"],
  ["float-byte-order-native", "$TR typealias floating_point { exp_dig = 11; mant_dig = 53; byte_order = native; align = 64; } := d; event { name = e; };"],
  ["float-align-3", "$TR typealias floating_point { exp_dig = 11; mant_dig = 53; align = 3; } := d; event { name = e; };"],
  ["float-missing-exp", "$TR typealias floating_point { mant_dig = 53; } := d; event { name = e; };"],
  ["string-encoding-none", "$T$TR event { name = e; fields := struct { string { encoding = none; } s; }; };"],
  ["string-encoding-bad", "$T$TR event { name = e; fields := struct { string { encoding = latin1; } s; }; };"],
  ["typedef-multi", "$T$TR typedef uint8_t a_t, b_t[2]; event { name = e; fields := struct { a_t a; b_t b; }; };"],
  ["typealias-with-dims", "$T$TR typealias uint8_t [3] := trio; event { name = e; fields := struct { trio t; }; };"],
  ["typealias-pointer-const", "$TR typealias integer { size = 64; } := char * const; event { name = e; };"],
  ["alias-long-long", "$TR typealias integer { size = 64; signed = true; } := long long; event { name = e; fields := struct { long long x; }; };"],
  ["alias-order-matters", "$TR typealias integer { size = 64; } := unsigned long; event { name = e; fields := struct { long unsigned x; }; };"],
  ["typealias-to-existing-struct", "$T$TR struct s { uint8_t a; }; typealias struct s := s_t; event { name = e; fields := struct { s_t x; }; };"],
  ["event-stream-id-string", "$T$TR event { name = e; stream_id = \"0\"; };"],
  ["event-id-neg", "$T$TR event { name = e; id = -1; };"],
  ["event-big-id", "$T$TR event { name = e; id = 4294967296; };"],
  ["event-emf-ident", "$T$TR event { name = e; model.emf.uri = abc; };"],
  ["event-loglevel-string", "$T$TR event { name = e; loglevel = \"x\"; };"],
  ["stream-id-string", "$T trace { major = 1; minor = 8; byte_order = le; packet.header := struct { uint32_t stream_id; }; }; stream { id = \"1\"; };"],
  ["stream-event-header-not-struct", "$T$TR stream { event.header := uint8_t; }; event { name = e; };"],
  ["event-stream-dropped", "$T$TR stream { id = 1; }; event { name = e; stream_id = 1; };"],
  ["header-stream-id-signed", "$T$TR typealias integer { size = 32; signed = true; } := s32; trace { major = 1; minor = 8; byte_order = le; packet.header := struct { s32 stream_id; }; }; event { name = e; };"],
  ["two-streams-no-header-id", "$T trace { major = 1; minor = 8; byte_order = le; packet.header := struct { uint32_t stream_id; }; }; stream { id = 0; }; stream { id = 1; }; event { name = e; stream_id = 1; };"],
  ["pc-ts-end-not-int", "$T$TR stream { packet.context := struct { string timestamp_end; }; }; event { name = e; };"],
  ["pc-underscore-size", "$T$TR stream { packet.context := struct { uint32_t _packet_size; }; }; event { name = e; };"],
  ["ids-in-variant-header", "$T$TR stream { event.header := struct { enum : uint8_t { a, b } id; variant <id> { struct { uint8_t id; } a; struct { } b; } v; }; }; event { name = x; id = 0; }; event { name = y; id = 1; };"],
  ["char-literal-name", "$T$TR event { name = 'x'; };"],
  ["unterminated-comment", "$TR /* foo"],
  ["line-comment-eof", "$TR event { name = e; }; // end"],
  ["nul-in-text", "$TR event { name = e; };\u0000"],
  ["utf8-event-name", "$TR event { name = \"héllo ✓\"; };"],
  ["semicolon-root", "$TR ;"],
  ["struct-align-expr", "$T$TR event { name = e; fields := struct { uint8_t a; } align(8) ; };"],
  ["enum-label-keyword", "$T$TR event { name = e; fields := struct { enum : uint8_t { struct, int = 5 } x; }; };"],
  ["enum-label-type", "$T$TR event { name = e; fields := struct { enum : uint8_t { uint8_t, uint32_t } x; }; };"],
  ["enum-string-value", "$T$TR event { name = e; fields := struct { enum : uint8_t { A = \"x\" } x; }; };"],
  ["enum-container-string", "$T$TR event { name = e; fields := struct { enum : string { A } x; }; };"],
  ["enum-ref-with-container", "$T$TR enum e : uint8_t { A }; event { name = e; fields := struct { enum e : uint8_t x; }; };"],
  ["enum-signed-big", "$T$TR typealias integer { size = 64; signed = true; } := s64; event { name = e; fields := struct { enum : s64 { A = 0xFFFFFFFFFFFFFFFF } x; }; };"],
  ["variant-tag-type", "$T$TR event { name = e; fields := struct { enum : uint8_t { a } uint8_t; variant <uint8_t> { uint8_t a; } v; }; };"],
  ["variant-empty", "$T$TR event { name = e; fields := struct { enum : uint8_t { a } t; variant <t> { } v; }; };"],
  ["variant-dup-option", "$T$TR event { name = e; fields := struct { enum : uint8_t { a } t; variant <t> { uint8_t a; uint16_t a; } v; }; };"],
  ["variant-option-underscore-label", "$T$TR event { name = e; fields := struct { enum : uint8_t { a } t; variant <t> { uint8_t _a; } v; }; };"],
  ["variant-tag-signed-enum", "$T$TR event { name = e; fields := struct { enum : integer { size = 8; signed = true; } { a = -1, b } t; variant <t> { uint8_t a; uint8_t b; } v; }; };"],
  ["variant-tag-outer", "$T$TR event { name = e; fields := struct { enum : uint8_t { a, b } t; struct { variant <t> { uint8_t a; uint8_t b; } v; } s; }; };"],
  ["variant-tag-in-later-scope", "$T$TR stream { event.context := struct { variant <t> { uint8_t a; } v; }; }; event { name = e; context := struct { enum : uint8_t { a } t; }; };"],
  ["variant-named-tagged-retag", "$T$TR event { name = e; fields := struct { enum : uint8_t { a } t; enum : uint8_t { a } u; variant v <t> { uint8_t a; } x; variant v <u> y; }; };"],
  ["sequence-length-from-variant-sibling", "$T$TR event { name = e; fields := struct { enum : uint8_t { a } t; variant <t> { struct { uint8_t n; uint8_t d[n]; } a; } v; }; };"],
  ["clock-no-name", "$TR clock { freq = 100; }; event { name = e; };"],
  ["clock-freq-0", "$TR clock { name = a; freq = 0; }; event { name = e; };"],
  ["clock-neg-offset", "$TR clock { name = a; freq = 1000; offset = -1; }; event { name = e; };"],
  ["clock-absolute-yes", "$TR clock { name = a; freq = 1000; absolute = yes; }; event { name = e; };"],
  ["map-unknown-clock", "$TR typealias integer { size = 8; map = clock.x.value; } := t; event { name = e; };"],
  ["two-clocks-automap", "$T$TR clock { name = a; freq = 1000; }; clock { name = b; freq = 1000; }; stream { event.header := struct { uint32_t timestamp; }; }; event { name = e; };"],
  ["two-clocks-in-stream", "$T$TR clock { name = a; freq = 1000; }; clock { name = b; freq = 1000; }; typealias integer { size = 8; map = clock.a.value; } := ta; typealias integer { size = 8; map = clock.b.value; } := tb; stream { event.header := struct { ta x; tb y; }; }; event { name = e; };"],
  ["clock-dup-automap", "$T$TR clock { name = a; freq = 1000; }; clock { name = a; freq = 1000; }; stream { event.header := struct { uint32_t timestamp; }; }; event { name = e; };"],
  ["map-weird-no-clock", "$TR typealias integer { size = 8; map = foo; } := t; event { name = e; };"],
  ["clock-in-packet-header", "$T clock { name = c; freq = 1000; }; typealias integer { size = 32; map = clock.c.value; } := tc; trace { major = 1; minor = 8; byte_order = le; packet.header := struct { tc t; }; }; event { name = e; };"],
  ["unterminated-string", "$TR env { a = \"abc; }; event { name = e; };"],
  ["octal-bad-digit", "$TR env { a = 09; }; event { name = e; };"],
  ["hex-empty", "$TR env { a = 0x; }; event { name = e; };"],
  ["negative-array-expr", "$T$TR event { name = e; fields := struct { uint8_t a[+3]; }; };"],
  ["paren-expr", "$TR env { a = (5); }; event { name = e; };"],
  ["variant-tag-later-member", "$T$TR event { name = e; fields := struct { variant <t> { uint8_t a; } v; enum : uint8_t { a } t; }; };"],
  ["seq-nested-outer-shadow", "$T$TR event { name = e; fields := struct { uint8_t n; struct { uint8_t d[n]; uint8_t n; } s; }; };"],
  ["typedef-named-struct", "$T$TR typedef struct { uint8_t a; } s_t; event { name = e; fields := struct { s_t x; s_t y[2]; }; };"],
  ["const-qualifier", "$T$TR event { name = e; fields := struct { const uint8_t a; }; };"],
  ["const-alias-name", "$T typealias integer { size = 8; } := const foo; $TR event { name = e; fields := struct { const foo a; }; };"],
  ["const-postfix", "$T$TR event { name = e; fields := struct { uint8_t const a; }; };"],
  ["const-with-integer", "$T$TR event { name = e; fields := struct { const integer { size = 8; } a; }; };"],
  ["map-two-words", "$TR clock { name = c; freq = 1000; }; typealias integer { size = 8; map = clock.c; } := t; event { name = e; fields := struct { t x; }; };"],
  ["map-two-words-unknown", "$TR clock { name = c; freq = 1000; }; typealias integer { size = 8; map = clock.cvalue; } := t; event { name = e; };"],
  ["map-four-words", "$TR clock { name = c; freq = 1000; }; typealias integer { size = 8; map = clock.c.value.x; } := t; event { name = e; };"],
  ["member-without-name", "$T$TR event { name = e; fields := struct { uint8_t ; }; };"],
];

function metadataText(body: string): string {
  const b = body.replaceAll('$TR', TRACE).replaceAll('$T', TYPES);
  return b.startsWith('!') ? b.slice(1) : `/* CTF 1.8 */\n${b}`;
}

describe('TSDL corner cases against babeltrace2', { skip: !existsSync(BABELTRACE) && 'babeltrace2 is not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ltt-tsdl-diff-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  for (const [name, body] of CASES) {
    it(name, () => {
      const text = metadataText(body);
      const trace = join(dir, `t${n++}`);
      mkdirSync(trace);
      writeFileSync(join(trace, 'metadata'), text);
      const bt = spawnSync(BABELTRACE, [trace], { encoding: 'utf8', timeout: 20_000 });
      let ours: unknown;
      try {
        parseMetadata(new TextEncoder().encode(text));
      } catch (err) {
        ours = err;
        assert.ok(err instanceof LttError, `LttError expected, got ${String(err)}`);
        assert.ok(!err.message.includes('\n'), 'one-line message');
      }
      const btAccepts = bt.status === 0;
      if (btAccepts && ours !== undefined) assert.fail(`babeltrace2 accepts, ltt says: ${(ours as Error).message}`);
      if (!btAccepts && ours === undefined) assert.fail(`babeltrace2 rejects (status ${bt.status ?? bt.signal}), ltt accepts`);
    });
  }
});
