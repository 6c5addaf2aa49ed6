// Differential fuzzing: token-level mutations (delete, duplicate, replace, swap) of corpus metadata
// must be accepted or rejected exactly as the real babeltrace2 does, and never crash ltt with
// anything but an LttError. Deterministic (seeded), so a failure reproduces.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LttError } from '../../src/errors.js';
import { parseMetadata } from '../../src/ctf/metadata.js';
import { CORPUS } from '../repo-paths.js';

const BABELTRACE = '/usr/bin/babeltrace2';
const SEEDS = [
  'synthetic/all-types',
  'synthetic/big-endian',
  'succeed/wk-heartbeat-u',
  'succeed/meta-variant-two-underscores',
  'succeed/sequence',
  'succeed/debug-info',
  'succeed/succeed3',
  'succeed/multi-domains/kernel',
];
const CASES = 400;

/** Tokens of a TSDL text, whitespace and comments included (so joining gives the text back). */
function tokens(text: string): string[] {
  return text.match(/\/\*[\s\S]*?\*\/|\/\/[^\n]*\n|"(?:\\.|[^"\\])*"|[A-Za-z_][A-Za-z0-9_]*|0[xX][0-9a-fA-F]+|\d+|:=|\.\.\.|->|\s+|[\s\S]/g) ?? [];
}

function mutations(): Array<{ name: string; text: string }> {
  let state = 20261126;
  const rand = (n: number): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state % n;
  };
  const out: Array<{ name: string; text: string }> = [];
  for (let k = 0; k < CASES; k++) {
    const seed = SEEDS[rand(SEEDS.length)]!;
    const toks = tokens(readFileSync(join(CORPUS, seed, 'metadata'), 'latin1'));
    const real = toks.map((t, i) => (i === 0 || /^\s+$/.test(t) || t.startsWith('/*') || t.startsWith('//') ? -1 : i)).filter((i) => i >= 0);
    const i = real[rand(real.length)]!;
    const j = real[rand(real.length)]!;
    const t = [...toks];
    let what: string;
    switch (rand(4)) {
      case 0:
        what = `delete ${JSON.stringify(t[i])}`;
        t[i] = '';
        break;
      case 1:
        what = `duplicate ${JSON.stringify(t[i])}`;
        t[i] = `${t[i]} ${t[i]}`;
        break;
      case 2:
        what = `replace ${JSON.stringify(t[i])} with ${JSON.stringify(t[j])}`;
        t[i] = t[j]!;
        break;
      default:
        what = `swap ${JSON.stringify(t[i])} and ${JSON.stringify(t[j])}`;
        [t[i], t[j]] = [t[j]!, t[i]!];
    }
    out.push({ name: `${k}: ${seed}: ${what}`, text: t.join('') });
  }
  return out;
}

describe('mutated corpus metadata against babeltrace2', { skip: !existsSync(BABELTRACE) && 'babeltrace2 is not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ltt-meta-fuzz-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  for (const m of mutations()) {
    it(m.name, (t) => {
      const bytes = Buffer.from(m.text, 'latin1');
      let ours: unknown;
      try {
        parseMetadata(bytes);
      } catch (err) {
        ours = err;
        assert.ok(err instanceof LttError, `LttError expected, got ${String(err)}`);
      }
      const trace = join(dir, `t${n++}`);
      mkdirSync(trace);
      writeFileSync(join(trace, 'metadata'), bytes);
      const bt = spawnSync(BABELTRACE, [trace], { encoding: 'utf8', timeout: 20_000 });
      // An abort is a failed library precondition (the metadata is refused the hard way); another
      // signal is a babeltrace2 crash that gives no verdict to compare with.
      const rejects = bt.status === 1 || bt.signal === 'SIGABRT';
      if (bt.status !== 0 && !rejects) return t.skip(`babeltrace2 crashed (${bt.status ?? bt.signal})`);
      if (!rejects && ours !== undefined) assert.fail(`babeltrace2 accepts, ltt says: ${(ours as Error).message}`);
      if (rejects && ours === undefined) assert.fail('babeltrace2 rejects, ltt accepts');
    });
  }
});
