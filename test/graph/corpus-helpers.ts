// Shared helpers for the reader tests driven by the CTF corpus (shared/ctf-traces) and its babeltrace2
// 2.0.4 expectations (expected/manifest.jsonl): run our source → muxer graph and summarise what came out.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openTrace, type OpenTraceOptions } from '../../src/ctf/index.js';
import { clockNs, type Message } from '../../src/ctf/ir/message.js';
import { CORPUS } from '../repo-paths.js';

export { CORPUS };

export interface ManifestEntry {
  readonly stdout: string;
  readonly stderr: string | null;
  readonly exit: number;
  readonly TZ: string;
  readonly args: string[];
}

export function manifest(): ManifestEntry[] {
  return readFileSync(join(CORPUS, 'expected/manifest.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as ManifestEntry);
}

export function lines(file: string): string[] {
  return readFileSync(join(CORPUS, file), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
}

/**
 * `[HH:MM:SS.nnnnnnnnn]` in UTC, as babeltrace2 prints with TZ=UTC. Negative times print in odd ways in
 * 2.0.4 (view's concern): '' so that only the order and names are compared for them.
 */
export function utcStamp(ns: bigint): string {
  if (ns < 0n) return '';
  const s = ns / 1_000_000_000n;
  const n = ns % 1_000_000_000n;
  const d = new Date(Number(s) * 1000);
  return `[${d.toISOString().slice(11, 19)}.${n.toString().padStart(9, '0')}]`;
}

export interface RunResult {
  readonly messages: Message[];
  readonly error: unknown;
}

/** Runs source → (trimmers) → muxer and collects every message, and the error if one ended the run. */
export async function run(paths: string[], opts: OpenTraceOptions = {}): Promise<RunResult> {
  const messages: Message[] = [];
  let error: unknown;
  try {
    const o = await openTrace(paths, opts);
    for await (const b of o.messages) messages.push(...b);
  } catch (err) {
    error = err;
  }
  return { messages, error };
}

/** The stamp + name babeltrace2 would start an event line with (stamp empty for clock-less streams). */
export function eventHead(m: Message): { stamp: string; name: string } | undefined {
  if (m.type !== 'event') return undefined;
  const c = m.stream.sc.defaultClock;
  return { stamp: c && m.cycles !== undefined ? utcStamp(clockNs(c, m.cycles)) : '', name: m.ec.name };
}

/** babeltrace2's discarded-items warning text up to the stream part (pretty sink, TZ=UTC, 2.0.4). */
export function discardedWarning(m: Message): string | undefined {
  if (m.type !== 'discarded-events' && m.type !== 'discarded-packets') return undefined;
  const c = m.stream.sc.defaultClock;
  const what = m.type === 'discarded-events' ? 'event' : 'packet';
  const count =
    m.count === undefined ? `may have discarded ${what}s` : `discarded ${m.count} ${what}${m.count === 1 ? '' : 's'}`;
  const range =
    c && m.beginCycles !== undefined && m.endCycles !== undefined
      ? `between ${utcStamp(clockNs(c, m.beginCycles))} and ${utcStamp(clockNs(c, m.endCycles))}`
      : '(unknown time range)';
  const uuid = m.stream.trace.tc.uuid;
  return (
    `WARNING: Tracer ${count} ${range} in trace "${m.stream.trace.name}" ` +
    `${uuid ? `(UUID: ${uuid})` : '(no UUID)'} within stream "${m.stream.name.replace(CORPUS, '@CORPUS@')}" ` +
    `(stream class ID: ${m.stream.sc.id}, stream ID: ${m.stream.id}).`
  );
}

/** Every trace folder (one holding `metadata`) at or below `dir`, in name order. */
export function traceDirs(dir: string, out: string[] = []): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return out;
  }
  if (names.includes('metadata')) {
    out.push(dir);
    return out;
  }
  for (const n of names) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) traceDirs(p, out);
  }
  return out;
}
