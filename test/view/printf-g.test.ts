// formatG against C's own printf("%g") (a tiny C program compiled with gcc here): the values are passed as bit
// patterns, so both sides see the very same doubles, including ties, near-ties, subnormals, -0, NaNs and
// widened floats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatG } from '../../src/view/printf-g.js';

const C_SOURCE = `#include <stdio.h>
#include <stdint.h>
#include <string.h>
int main(void) {
  char line[64];
  while (fgets(line, sizeof line, stdin)) {
    uint64_t bits;
    double d;
    sscanf(line, "%lx", &bits);
    memcpy(&d, &bits, 8);
    printf("%g\\n", d);
  }
  return 0;
}
`;

function cPrintfG(values: number[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'ltt-printf-g-'));
  try {
    writeFileSync(join(dir, 'g.c'), C_SOURCE);
    execFileSync('gcc', ['-O2', '-o', join(dir, 'g'), join(dir, 'g.c')]);
    const f = new Float64Array(values);
    const b = new BigUint64Array(f.buffer);
    const input = Array.from(b, (x) => x.toString(16)).join('\n') + '\n';
    return execFileSync(join(dir, 'g'), { input, maxBuffer: 256 << 20 }).toString().split('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function nextUp(x: number): number {
  const f = new Float64Array([x]);
  const b = new BigInt64Array(f.buffer);
  b[0] = x >= 0 ? b[0]! + 1n : b[0]! - 1n;
  return f[0]!;
}
function nextDown(x: number): number {
  return -nextUp(-x);
}

/** Deterministic pseudo-random numbers (xorshift), so that a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

function trickyValues(): number[] {
  const v: number[] = [0, -0, NaN, -NaN, Infinity, -Infinity, Number.MIN_VALUE, -Number.MIN_VALUE, Number.MAX_VALUE];
  v.push(new Float64Array(new Uint32Array([0, 0xfff80000]).buffer)[0]!, 2.2250738585072014e-308, 2.225073858507201e-308);
  const rand = rng(12345);
  // Exact ties at the 7th digit (d.dddddd5 * 10^k that a double holds exactly), and the doubles on either side.
  for (let i = 0; i < 3000; i++) {
    const k = Math.floor(rand() * 16) - 6;
    const head = 100000 + Math.floor(rand() * 900000);
    const tie = (head * 10 + 5) * 2 ** (-Math.floor(rand() * 4)) * (k >= 0 ? 10 ** k : 1);
    v.push(tie, nextUp(tie), nextDown(tie), -tie);
  }
  // Halves and quarters that are 7-digit ties in fixed notation (1024.125 and the like).
  for (let i = 0; i < 2000; i++) {
    const x = Math.floor(rand() * 2 ** 24) / 2 ** Math.floor(rand() * 12);
    v.push(x, nextUp(x), nextDown(x));
  }
  // Shortest decimals with 7 digits ending in 5 (not exact in binary: the exact value decides the rounding).
  for (let i = 0; i < 3000; i++) {
    const s = `${1 + Math.floor(rand() * 9)}.${String(Math.floor(rand() * 100000)).padStart(5, '0')}5e${Math.floor(rand() * 80) - 40}`;
    v.push(Number(s), nextUp(Number(s)), nextDown(Number(s)));
  }
  // Rounding that carries into a new power of ten: 9.999995, 999999.5, 0.000099999950...
  for (let k = -320; k <= 308; k++) {
    const x = 9.999995 * 10 ** k;
    if (Number.isFinite(x)) v.push(x, nextUp(x), nextDown(x), 10 ** k, nextDown(10 ** k));
  }
  v.push(999999.5, 999999.4999999999, 99999.95, 0.0001, nextDown(0.0001), 0.000099999950000000, 100000, 1e6, 999999);
  // Subnormals, random bit patterns (every exponent) and widened floats.
  const f = new Float64Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < 20000; i++) {
    u[0] = Math.floor(rand() * 2 ** 32);
    u[1] = Math.floor(rand() * 2 ** 32);
    v.push(f[0]!);
    u[1] = u[1]! & 0x800fffff;
    v.push(f[0]!);
  }
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  for (let i = 0; i < 20000; i++) {
    u32[0] = Math.floor(rand() * 2 ** 32);
    v.push(f32[0]!);
    v.push(Math.fround((rand() - 0.5) * 10 ** (Math.floor(rand() * 20) - 10)));
  }
  return v;
}

test('formatG prints what C printf("%g") prints, on ties, near-ties, subnormals, extremes and widened floats', () => {
  const values = trickyValues();
  const want = cPrintfG(values);
  let bad = 0;
  const first: string[] = [];
  values.forEach((x, i) => {
    const got = formatG(x);
    if (got !== want[i]) {
      bad++;
      if (first.length < 10) first.push(`${x} (${new BigUint64Array(new Float64Array([x]).buffer)[0]!.toString(16)}): got ${got}, printf ${want[i]}`);
    }
  });
  assert.equal(bad, 0, `${bad} of ${values.length} differ:\n${first.join('\n')}`);
});
