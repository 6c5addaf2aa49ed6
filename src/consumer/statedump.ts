// The LTTng kernel state dump, read from /proc instead of from kernel data structures.
//
// Contract: STATEDUMP_EVENTS declares the lttng_statedump_* event classes as lttng-modules 2.13 records them
// (mod:include/instrumentation/events/lttng-statedump.h). collectStatedump() walks /proc once and returns
// the records (event name + positional payload) in LTTng's order: start, processes (process_state and
// process_pid_ns per thread, file descriptors per process), block devices, network interfaces, end.
// Differences forced by /proc: file_table_address is the process's tgid (a stable per-process key in place of
// the kernel pointer), mode/submode are MODE_UNKNOWN/UNKNOWN as lttng-modules writes for non-current tasks.

import * as fs from 'node:fs';
import * as os from 'node:os';
import type { EnumFieldType, FieldDef, IntegerFieldType } from '../ctf/writer/field-types.js';

const i32: IntegerFieldType = { kind: 'int', size: 32, signed: true };
const u32: IntegerFieldType = { kind: 'int', size: 32 };
const u64hex: IntegerFieldType = { kind: 'int', size: 64, base: 16 };

const enumOf = (labels: string[]): EnumFieldType => ({
  kind: 'enum',
  container: i32,
  mappings: labels.map((label, value) => ({ label, value })),
});

export const STATEDUMP_EVENTS: ReadonlyArray<{ name: string; fields: FieldDef[] }> = [
  { name: 'lttng_statedump_start', fields: [] },
  { name: 'lttng_statedump_end', fields: [] },
  {
    name: 'lttng_statedump_process_state',
    fields: [
      { name: 'tid', ...i32 },
      { name: 'pid', ...i32 },
      { name: 'ppid', ...i32 },
      { name: 'name', kind: 'text', length: 16 },
      { name: 'type', ...enumOf(['LTTNG_USER_THREAD', 'LTTNG_KERNEL_THREAD']) },
      { name: 'mode', ...enumOf(['LTTNG_USER_MODE', 'LTTNG_SYSCALL', 'LTTNG_TRAP', 'LTTNG_IRQ', 'LTTNG_SOFTIRQ', 'LTTNG_MODE_UNKNOWN']) },
      { name: 'submode', ...enumOf(['LTTNG_NONE', 'LTTNG_UNKNOWN']) },
      { name: 'status', ...enumOf(['LTTNG_UNNAMED', 'LTTNG_WAIT_FORK', 'LTTNG_WAIT_CPU', 'LTTNG_EXIT', 'LTTNG_ZOMBIE', 'LTTNG_WAIT', 'LTTNG_RUN', 'LTTNG_DEAD']) },
      { name: 'cpu', ...u32 },
      { name: 'file_table_address', ...u64hex },
    ],
  },
  {
    name: 'lttng_statedump_process_pid_ns',
    fields: [
      { name: 'tid', ...i32 },
      { name: 'vtid', ...i32 },
      { name: 'vpid', ...i32 },
      { name: 'vppid', ...i32 },
      { name: 'ns_level', ...i32 },
      { name: 'ns_inum', ...u32 },
    ],
  },
  {
    name: 'lttng_statedump_file_descriptor',
    fields: [
      { name: 'file_table_address', ...u64hex },
      { name: 'fd', ...i32 },
      { name: 'flags', kind: 'int', size: 32, base: 8 },
      { name: 'fmode', kind: 'int', size: 32, base: 16 },
      { name: 'filename', kind: 'string' },
    ],
  },
  {
    name: 'lttng_statedump_interrupt',
    fields: [{ name: 'irq', ...u32 }, { name: 'name', kind: 'string' }, { name: 'action', kind: 'string' }],
  },
  {
    name: 'lttng_statedump_cpu_topology',
    fields: [
      { name: 'architecture', kind: 'string' },
      { name: 'cpu_id', kind: 'int', size: 16 },
      { name: 'vendor', kind: 'string' },
      { name: 'family', kind: 'int', size: 8 },
      { name: 'model', kind: 'int', size: 8 },
      { name: 'model_name', kind: 'string' },
      { name: 'physical_id', kind: 'int', size: 16 },
      { name: 'core_id', kind: 'int', size: 16 },
      { name: 'cores', kind: 'int', size: 16 },
    ],
  },
  { name: 'lttng_statedump_block_device', fields: [{ name: 'dev', ...u32 }, { name: 'diskname', kind: 'string' }] },
  {
    name: 'lttng_statedump_network_interface',
    fields: [{ name: 'name', kind: 'string' }, { name: 'address_ipv4', kind: 'int', size: 32, byteOrder: 'be' }],
  },
];

export const STATEDUMP_EVENT_NAMES = STATEDUMP_EVENTS.map((e) => e.name);

export interface StatedumpRecord {
  name: string;
  payload: unknown[];
}

export interface ThreadInfo {
  tid: number;
  pid: number;
  ppid: number;
  comm: string;
  prio: number;
  nice: number;
  cpu: number;
}

/** /proc/PID/stat fields after the comm (which may hold spaces and parentheses). */
function readStat(path: string): { comm: string; rest: string[] } | undefined {
  let s: string;
  try {
    s = fs.readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
  const open = s.indexOf('(');
  const close = s.lastIndexOf(')');
  if (open < 0 || close < 0) return undefined;
  return { comm: s.slice(open + 1, close), rest: s.slice(close + 2).trim().split(' ') };
}

const PF_KTHREAD = 0x00200000;

/** Every thread of every process, from /proc (used for the statedump and to seed the context table). */
export function listThreads(): Array<ThreadInfo & { state: string; kthread: boolean }> {
  const out: Array<ThreadInfo & { state: string; kthread: boolean }> = [];
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const pid of pids) {
    let tids: string[];
    try {
      tids = fs.readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      const st = readStat(`/proc/${pid}/task/${tid}/stat`);
      if (!st) continue;
      // rest[0] = state, [1] = ppid, [6] = flags, [15] = priority (prio - 100), [16] = nice, [36] = processor
      const r = st.rest;
      out.push({
        tid: Number(tid),
        pid: Number(pid),
        ppid: Number(r[1]),
        comm: st.comm,
        state: r[0] ?? '?',
        kthread: (Number(r[6]) & PF_KTHREAD) !== 0,
        prio: Number(r[15]),
        nice: Number(r[16]),
        cpu: Number(r[36]),
      });
    }
  }
  return out;
}

function statusOf(state: string): number {
  switch (state) {
    case 'R': return 2; // LTTNG_WAIT_CPU: lttng-modules lets the viewer sort out who really ran
    case 'S':
    case 'D':
    case 'I': return 5; // LTTNG_WAIT
    case 'Z': return 4;
    case 'X': return 7;
    default: return 0;
  }
}

function nsInum(pid: number | string, ns: string): number {
  try {
    return Number(fs.statSync(`/proc/${pid}/ns/${ns}`).ino);
  } catch {
    return 0;
  }
}

/** open(2) flags and fmode of an fd, from /proc/PID/fdinfo/FD. */
function fdFlags(pid: number, fd: string): { flags: number; fmode: number } {
  try {
    const m = /flags:\s*([0-7]+)/.exec(fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'latin1'));
    const flags = m ? parseInt(m[1]!, 8) : 0;
    const acc = flags & 3;
    // FMODE_READ 0x1, FMODE_WRITE 0x2 from the access mode (the kernel's fmode has more bits we cannot see).
    const fmode = acc === 0 ? 1 : acc === 1 ? 2 : 3;
    return { flags, fmode };
  } catch {
    return { flags: 0, fmode: 0 };
  }
}

export function collectStatedump(): StatedumpRecord[] {
  const out: StatedumpRecord[] = [{ name: 'lttng_statedump_start', payload: [] }];
  const threads = listThreads();
  const seenProcess = new Set<number>();
  for (const t of threads) {
    const vtid = t.tid;
    out.push({
      name: 'lttng_statedump_process_state',
      payload: [t.tid, t.pid, t.ppid, t.comm, t.kthread ? 1 : 0, 5, 1, statusOf(t.state), t.cpu, t.pid],
    });
    out.push({ name: 'lttng_statedump_process_pid_ns', payload: [t.tid, vtid, t.pid, t.ppid, 0, nsInum(t.pid, 'pid')] });
    if (!seenProcess.has(t.pid) && !t.kthread) {
      seenProcess.add(t.pid);
      let fds: string[] = [];
      try {
        fds = fs.readdirSync(`/proc/${t.pid}/fd`);
      } catch {
        // The process exited or hides its fds: nothing to dump.
      }
      for (const fd of fds.sort((a, b) => Number(a) - Number(b))) {
        let filename: string;
        try {
          filename = fs.readlinkSync(`/proc/${t.pid}/fd/${fd}`);
        } catch {
          continue;
        }
        const { flags, fmode } = fdFlags(t.pid, fd);
        out.push({ name: 'lttng_statedump_file_descriptor', payload: [t.pid, Number(fd), flags, fmode, filename] });
      }
    }
  }
  try {
    for (const dev of fs.readdirSync('/sys/class/block')) {
      try {
        const [maj, min] = fs.readFileSync(`/sys/class/block/${dev}/dev`, 'latin1').trim().split(':').map(Number);
        // The kernel's internal dev_t: major << 20 | minor (what lttng-modules records).
        out.push({ name: 'lttng_statedump_block_device', payload: [((maj! << 20) | min!) >>> 0, dev] });
      } catch {
        // A device without a dev file (e.g. being removed).
      }
    }
  } catch {
    // No sysfs: no block devices to dump.
  }
  for (const [name, addrs] of Object.entries(os.networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family !== 'IPv4') continue;
      const v = a.address.split('.').reduce((acc, x) => acc * 256 + Number(x), 0);
      out.push({ name: 'lttng_statedump_network_interface', payload: [name, v] });
    }
  }
  out.push(...interrupts(), ...cpuTopology());
  out.push({ name: 'lttng_statedump_end', payload: [] });
  return out;
}

/** /proc/interrupts: one record per action of each numbered IRQ (name = the irq chip, as lttng-modules). */
function interrupts(): StatedumpRecord[] {
  const out: StatedumpRecord[] = [];
  let lines: string[];
  try {
    lines = fs.readFileSync('/proc/interrupts', 'latin1').split('\n');
  } catch {
    return out;
  }
  const cpus = (lines[0] ?? '').trim().split(/\s+/).length;
  for (const line of lines.slice(1)) {
    const m = /^\s*(\d+):(.*)$/.exec(line);
    if (!m) continue;
    const cols = m[2]!.trim().split(/\s+/);
    const rest = cols.slice(cpus);
    if (rest.length < 2) continue;
    const chip = rest[0]!;
    // After the chip: hwirq-trigger (e.g. "4-edge"), then the comma-separated action names.
    const actions = rest.slice(2).join(' ').split(',').map((a) => a.trim()).filter((a) => a !== '');
    for (const action of actions) out.push({ name: 'lttng_statedump_interrupt', payload: [Number(m[1]), chip, action] });
  }
  return out;
}

/** /proc/cpuinfo, x86 fields (lttng-modules emits this event on x86 only). */
function cpuTopology(): StatedumpRecord[] {
  if (process.arch !== 'x64' && process.arch !== 'ia32') return [];
  let text: string;
  try {
    text = fs.readFileSync('/proc/cpuinfo', 'latin1');
  } catch {
    return [];
  }
  const out: StatedumpRecord[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const get = (k: string): string | undefined => new RegExp(`^${k}\\s*:\\s*(.*)$`, 'm').exec(block)?.[1];
    const id = get('processor');
    if (id === undefined) continue;
    out.push({
      name: 'lttng_statedump_cpu_topology',
      payload: ['x86', Number(id), get('vendor_id') ?? '', Number(get('cpu family') ?? 0) & 0xff, Number(get('model') ?? 0) & 0xff,
        get('model name') ?? '', Number(get('physical id') ?? 0), Number(get('core id') ?? 0), Number(get('cpu cores') ?? 0)],
    });
  }
  return out;
}
