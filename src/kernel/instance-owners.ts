// Who owns which tracefs instances and dynamic probes, recorded outside tracefs so a restarted daemon can
// remove what a dead one left behind (tracefs itself keeps no owner: instances and uprobes outlive processes).
//
// Contract: each live KernelSession keeps one JSON record OWNER_DIR/SESSION.PID.json listing its instances
// and its uprobe/kprobe events; writeOwnerRecord() replaces it, removeOwnerRecord() deletes it (both best
// effort: without a record nothing is ever reclaimed automatically, which is safe). reclaimStale() removes
// the instances (only ltt-* names) and probes of records whose pid is not alive, and those records;
// reclaimOwner(pid) those of one daemon known to have exited (instance-supervisor.ts). Neither ever touches
// instances that have no record (tests and other tools create their own).

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tracefs from '../ftrace/tracefs.js';
import { makeDirectories } from '../make-directories.js';

export const OWNER_DIR = process.env.LTT_KERNEL_OWNER_DIR ?? '/run/ltt/kernel-owners';

export interface OwnerRecord {
  pid: number;
  instances: string[];
  uprobes: string[];
  kprobes?: string[];
}

export function ownerRecordPath(sessionName: string): string {
  return path.join(OWNER_DIR, `${sessionName.replace(/[^A-Za-z0-9_.-]/g, '_')}.${process.pid}.json`);
}

export function writeOwnerRecord(file: string, rec: OwnerRecord): void {
  try {
    makeDirectories(OWNER_DIR);
    fs.writeFileSync(file, JSON.stringify(rec));
  } catch {
    // Without a record the instance is simply never reclaimed automatically.
  }
}

export function removeOwnerRecord(file: string): void {
  fs.rmSync(file, { force: true });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed daemon that its parent has not reaped yet still answers kill(0): it is a zombie (state Z), gone
  // for our purposes, and its instances must be reclaimed now rather than whenever init gets to it.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false; // gone between the two checks
  }
}

/**
 * Remove tracefs instances and probes recorded by processes that are gone. `livePids`: owners known alive
 * (default: any running process counts as alive). Returns what was removed.
 */
export function reclaimStale(livePids?: Iterable<number>): string[] {
  const live = livePids ? new Set(livePids) : undefined;
  return reclaimRecords((pid) => pid !== process.pid && !(live ? live.has(pid) : processAlive(pid))).removed;
}

/**
 * Remove what the records of `pid` (a daemon known to have exited) still list. Returns whether everything went
 * (false: an instance was still busy, its record is kept for another try).
 */
export function reclaimOwner(pid: number): boolean {
  return reclaimRecords((owner) => owner === pid).kept === 0;
}

function reclaimRecords(select: (pid: number) => boolean): { removed: string[]; kept: number } {
  const removed: string[] = [];
  let kept = 0;
  let files: string[] = [];
  try {
    files = fs.readdirSync(OWNER_DIR);
  } catch {
    return { removed, kept };
  }
  for (const f of files) {
    const p = path.join(OWNER_DIR, f);
    let rec: OwnerRecord;
    try {
      rec = JSON.parse(fs.readFileSync(p, 'utf8')) as OwnerRecord;
    } catch {
      continue;
    }
    if (!select(rec.pid)) continue;
    let complete = true;
    for (const inst of rec.instances ?? []) {
      if (!inst.startsWith('ltt-') || !tracefs.instanceExists(inst)) continue;
      try {
        tracefs.writeText('tracing_on', '0', inst);
        tracefs.writeText('events/enable', '0', inst);
      } catch {
        // Best effort: rmdir below reports the real failure.
      }
      try {
        tracefs.rmdirInstance(inst);
        removed.push(inst);
      } catch {
        complete = false; // Still busy (a reader left open): retried on the next reclaim.
      }
    }
    for (const [file, names] of [['uprobe_events', rec.uprobes ?? []], ['kprobe_events', rec.kprobes ?? []]] as const) {
      for (const name of names) {
        try {
          tracefs.appendText(file, `-:${name}\n`);
          removed.push(name);
        } catch {
          // Already removed, or still enabled in an instance another tool owns: leave it.
        }
      }
    }
    if (complete) fs.rmSync(p, { force: true });
    else kept++;
  }
  return { removed, kept };
}
