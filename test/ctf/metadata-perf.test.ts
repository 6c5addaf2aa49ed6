// Metadata parsing cost must grow linearly: live sessions re-parse metadata that keeps growing.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { parseMetadata } from '../../src/ctf/metadata.js';

/** An LTTng-kernel-like metadata text with `events` event classes. */
function bigMetadata(events: number): Uint8Array {
  const parts = [`/* CTF 1.8 */
typealias integer { size = 8; align = 8; signed = false; } := uint8_t;
typealias integer { size = 16; align = 8; signed = false; } := uint16_t;
typealias integer { size = 32; align = 8; signed = false; } := uint32_t;
typealias integer { size = 64; align = 8; signed = false; } := uint64_t;
typealias integer { size = 32; align = 8; signed = true; } := int32_t;
typealias integer { size = 5; align = 1; signed = false; } := uint5_t;
trace { major = 1; minor = 8; byte_order = le; uuid = "0051d20e-3389-4157-9693-e7d5d8565aa0";
  packet.header := struct { uint32_t magic; uint8_t uuid[16]; uint32_t stream_id; uint64_t stream_instance_id; }; };
env { hostname = "h"; tracer_name = "lttng-modules"; };
clock { name = monotonic; freq = 1000000000; offset = 1594406328768346378; };
typealias integer { size = 27; align = 1; signed = false; map = clock.monotonic.value; } := uint27_clock_monotonic_t;
typealias integer { size = 64; align = 8; signed = false; map = clock.monotonic.value; } := uint64_clock_monotonic_t;
struct event_header_compact {
  enum : uint5_t { compact = 0 ... 30, extended = 31 } id;
  variant <id> { struct { uint27_clock_monotonic_t timestamp; } compact; struct { uint32_t id; uint64_clock_monotonic_t timestamp; } extended; } v;
} align(8);
stream { id = 0; event.header := struct event_header_compact;
  packet.context := struct { uint64_clock_monotonic_t timestamp_begin; uint64_clock_monotonic_t timestamp_end; uint64_t content_size; uint64_t packet_size; uint64_t packet_seq_num; uint64_t events_discarded; uint32_t cpu_id; }; };
`];
  for (let i = 0; i < events; i++) {
    parts.push(`event { name = "subsys:event_${i}"; id = ${i}; stream_id = 0; fields := struct {
  integer { size = 8; align = 8; signed = 0; encoding = UTF8; base = 10; } _comm[16];
  int32_t _tid; int32_t _prio; uint64_t _state;
  uint32_t __len; uint16_t _data[__len];
  enum : uint8_t { A, B = 5 ... 9, C } _kind;
  variant <_kind> { uint8_t A; string B; struct { uint16_t x; } C; } _v;
  string _name;
}; };
`);
  }
  return new TextEncoder().encode(parts.join(''));
}

function timeParse(bytes: Uint8Array): number {
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const t0 = process.hrtime.bigint();
    parseMetadata(bytes);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return best;
}

describe('metadata parsing cost', () => {
  it('grows linearly with the number of event classes', () => {
    const small = bigMetadata(500);
    const large = bigMetadata(4000);
    timeParse(small); // warm up the JIT
    const ts = timeParse(small);
    const tl = timeParse(large);
    const { tc } = parseMetadata(large);
    assert.equal(tc.streamClasses.get(0)!.eventClasses.size, 4000);
    console.log(`# metadata parse: ${(small.length / 1024).toFixed(0)} KiB in ${ts.toFixed(1)} ms, ${(large.length / 1024).toFixed(0)} KiB in ${tl.toFixed(1)} ms (${((large.length / 1024 / 1024) / (tl / 1000)).toFixed(1)} MiB/s)`);
    // 8x the input must cost well under 8x squared; allow noise on a shared machine.
    assert.ok(tl < ts * 20, `500 events: ${ts} ms, 4000 events: ${tl} ms`);
  });
});
