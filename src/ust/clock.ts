// The trace clock of Node tracepoints: CLOCK_MONOTONIC in nanoseconds, the clock of ltt's kernel traces.
//
// Contract: `nowRel()` is exact CLOCK_MONOTONIC minus BASE_NS, as a float holding an integer number of ns
// (exact while the process lives < 104 days, whatever the machine's uptime). BASE_NS / BASE_LO let writers
// rebuild the absolute 64-bit value. `clockUuid()` is the boot id, as LTTng uses for its "monotonic" clock,
// so UST and kernel traces of one boot correlate. `measureRealtimeOffset()` gives realtime - monotonic (ns).
//
// Why process.hrtime(): Node's process.hrtime() is uv_hrtime(), i.e. clock_gettime(CLOCK_MONOTONIC) through
// the vDSO, returned as [seconds, nanoseconds] without loss. The [s, ns] array it returns does not escape the
// hot path, so TurboFan's escape analysis removes the allocation (verified: 2e7 calls, no scavenges after
// warm-up; process.hrtime.bigint() allocates a BigInt per call and costs ~2x). performance.now() is the same
// clock but as fractional ms relative to a time origin we cannot read back exactly, so it is not used.
// test/ust/clock.test.ts checks the values against the kernel's CLOCK_MONOTONIC (trace_marker with
// trace_clock=mono) and /proc/uptime bounds.

import { readFileSync } from 'node:fs';

const hrtime = process.hrtime;

/** Whole seconds of CLOCK_MONOTONIC at load time; every relative timestamp counts from here. */
export const BASE_SEC = hrtime()[0];
export const BASE_NS: bigint = BigInt(BASE_SEC) * 1_000_000_000n;
/** Low 32 bits of BASE_NS: (BASE_LO + rel) mod 2^32 is the low word of the absolute timestamp. */
export const BASE_LO = Number(BASE_NS & 0xffffffffn);

/** CLOCK_MONOTONIC now, relative to BASE_NS (ns). */
export function nowRel(): number {
  const h = hrtime();
  return (h[0] - BASE_SEC) * 1e9 + h[1];
}

/** Absolute CLOCK_MONOTONIC value (ns) of a relative timestamp. */
export function absNs(rel: number): bigint {
  return BASE_NS + BigInt(rel);
}

let bootId: string | undefined;
/** /proc/sys/kernel/random/boot_id: the uuid LTTng gives its monotonic clock (one per boot). */
export function clockUuid(): string {
  if (bootId === undefined) {
    try {
      bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      bootId = '00000000-0000-0000-0000-000000000000';
    }
  }
  return bootId;
}

/**
 * realtime - monotonic in ns. Date.now() only has ms resolution, so we watch for the instant its value changes
 * (that instant is exactly N ms of realtime) and pair it with the monotonic reads around it; the narrowest of a
 * few edges wins, like LTTng's measure_clock_offset keeps its fastest sample. Costs a few ms once per session.
 */
export function measureRealtimeOffset(): bigint {
  let best: bigint | undefined;
  let bestWidth = Infinity;
  for (let k = 0; k < 3; k++) {
    let prevMs = Date.now();
    let before = nowRel();
    for (;;) {
      const ms = Date.now();
      const after = nowRel();
      if (ms !== prevMs) {
        const width = after - before;
        if (width < bestWidth) {
          bestWidth = width;
          const mono = BASE_NS + BigInt(Math.round((before + after) / 2));
          best = BigInt(ms) * 1_000_000n - mono;
        }
        break;
      }
      prevMs = ms;
      before = after;
    }
  }
  return best as bigint;
}
