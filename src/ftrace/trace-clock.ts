// The kernel trace's CTF clock: tracefs `trace_clock mono` counts CLOCK_MONOTONIC nanoseconds, the clock LTTng
// names "monotonic", with the boot id as uuid and offset = realtime - monotonic.
//
// Contract: measureMonotonicOffset() returns realtime - monotonic in ns. Date.now() has millisecond resolution,
// so it waits for millisecond edges of the realtime clock and reads the monotonic clock right after each edge;
// the largest of several samples is the closest to the true offset (a late read only makes it smaller), which
// bounds the error by the read latency (about a microsecond), like LTTng keeping its fastest measurement.

import * as fs from 'node:fs';
import type { ClockDef } from '../ctf/writer/metadata.js';

export function monotonicNow(): number {
  return Number(process.hrtime.bigint());
}

export function measureMonotonicOffset(samples = 5): bigint {
  let best: bigint | undefined;
  for (let i = 0; i < samples; i++) {
    const start = Date.now();
    let now = start;
    let mono = 0n;
    // Spin to the next millisecond edge (at most ~1 ms).
    while (now === start) {
      mono = process.hrtime.bigint();
      now = Date.now();
    }
    mono = process.hrtime.bigint();
    const offset = BigInt(now) * 1000000n - mono;
    if (best === undefined || offset > best) best = offset;
  }
  return best!;
}

export function bootId(): string | undefined {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim();
  } catch {
    return undefined;
  }
}

export function monotonicClockDef(): ClockDef {
  return {
    name: 'monotonic',
    uuid: bootId(),
    description: 'Monotonic Clock',
    frequency: 1000000000,
    offsetSeconds: 0n,
    offsetCycles: measureMonotonicOffset(),
  };
}
