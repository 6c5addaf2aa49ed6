// Every `metadata` file of the shared corpus through parseMetadata, checked against the corpus
// expectations and against the real babeltrace2 (accept/reject must agree).
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LttError } from '../../src/errors.js';
import { parseMetadata } from '../../src/ctf/metadata.js';
import { CORPUS } from '../repo-paths.js';

const BABELTRACE = '/usr/bin/babeltrace2';

/** Corpus metadata files, relative to CORPUS. */
const files = (readdirSync(CORPUS, { recursive: true }) as string[])
  .filter((p) => (p === 'metadata' || p.endsWith('/metadata')) && !p.startsWith('babeltrace-expect'))
  .sort();

/** Traces babeltrace2 rejects because of their metadata (the rest of fail/ fails on data). */
const METADATA_FAILURES = new Set([
  'fail/fail1/metadata',
  'fail/fail2/metadata',
  'fail/integer-range/metadata',
  'fail/invalid-sequence-length-field-class/metadata',
  'fail/invalid-variant-selector-field-class/metadata',
  'fail/lttng-modules-2.0-pre1/metadata',
  'fail/metadata-syntax-error/metadata',
  'fail/packet-based-metadata/metadata',
  'fail/smalltrace/metadata',
  'live/invalid-metadata/metadata',
  'ctf2/fail/meta-no-stream-cls/metadata',
  'ctf2/fail/meta-no-trace-cls-no-stream-cls/metadata',
]);

function tryParse(bytes: Uint8Array, path: string): { ok: true } | { ok: false; err: unknown } {
  try {
    const { tc } = parseMetadata(bytes, { path });
    assert.ok(tc.streamClasses.size >= 1 || tc.ctfVersion === 1);
    return { ok: true };
  } catch (err) {
    return { ok: false, err };
  }
}

/** Exit status of babeltrace2 on a trace folder holding only `metadata` (no data streams). */
function babeltraceAccepts(metadata: Uint8Array): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'ltt-meta-'));
  try {
    mkdirSync(join(dir, 't'));
    writeFileSync(join(dir, 't', 'metadata'), metadata);
    const r = spawnSync(BABELTRACE, [join(dir, 't')], { encoding: 'utf8', timeout: 20_000 });
    return r.status === 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('corpus metadata', () => {
  it('finds the corpus', () => {
    assert.ok(files.length > 100, `found ${files.length} metadata files`);
  });

  for (const f of files) {
    it(f, () => {
      const r = tryParse(readFileSync(join(CORPUS, f)), f);
      if (METADATA_FAILURES.has(f)) {
        assert.equal(r.ok, false, 'must be rejected');
        const err = (r as { err: unknown }).err;
        assert.ok(err instanceof LttError, `LttError expected, got ${String(err)}`);
        assert.equal(err.code, 'CTF_METADATA');
        assert.ok(err.message.startsWith(`${f}: `));
        assert.ok(!err.message.includes('\n'));
      } else {
        assert.equal(r.ok, true, r.ok ? '' : String((r as { err: unknown }).err));
      }
    });
  }

  it('every failing run of the manifest on a trace we accept fails on data, not metadata', () => {
    const manifest = readFileSync(join(CORPUS, 'expected/manifest.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { args: string[]; exit: number });
    // Runs that fail in babeltrace2 while their metadata is fine: data errors, options, or 2.0.4's abort.
    const DATA_FAILURES = /^(fail\/(incomplete-packet-header|invalid-packet-size|valid-events-then-invalid-events)|deterministic-ordering|intersection\/no(intersect|stream)|succeed\/meta-ctx-sequence)/;
    for (const run of manifest.filter((r) => r.exit !== 0)) {
      for (const arg of run.args.filter((a) => !a.startsWith('-'))) {
        const meta = files.filter((f) => f === `${arg}/metadata` || f.startsWith(`${arg}/`));
        const rejected = meta.filter((f) => METADATA_FAILURES.has(f));
        if (rejected.length === 0) assert.match(arg, DATA_FAILURES, `${run.args.join(' ')} fails in babeltrace2 but its metadata is accepted`);
      }
    }
  });
});

describe('corpus metadata against babeltrace2', { skip: !existsSync(BABELTRACE) && 'babeltrace2 is not installed' }, () => {
  // babeltrace 2.0.4 cannot read CTF 2; everything else must be accepted/rejected the same way.
  // succeed/meta-ctx-sequence makes 2.0.4 abort on an assertion (exit 134); upstream reads it.
  for (const f of files.filter((p) => !p.startsWith('ctf2/') && p !== 'succeed/meta-ctx-sequence/metadata')) {
    it(f, () => {
      const bytes = readFileSync(join(CORPUS, f));
      assert.equal(tryParse(bytes, f).ok, babeltraceAccepts(bytes), 'ltt and babeltrace2 disagree');
    });
  }
});
