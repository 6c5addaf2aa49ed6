// Catalog parsing on this kernel's real tracefs format files (top-level events/, read only).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tracefs from '../../src/ftrace/tracefs.js';
import {
  listEventNames,
  parseEventFormat,
  parseHeaderEvent,
  parseHeaderPage,
  readEventFormat,
} from '../../src/ftrace/event-format.js';
import { shapeEvent, lttngNameOf } from '../../src/ftrace/lttng-shaping.js';
import { KernelSession } from '../../src/kernel/kernel-session.js';

test('every real format file parses, with common fields apart and offsets inside the record', () => {
  const names = listEventNames();
  assert.ok(names.length > 500, `expected hundreds of events, got ${names.length}`);
  let withFields = 0;
  for (const { system, name } of names) {
    if (!tracefs.exists(`events/${system}/${name}/format`)) continue;
    const f = readEventFormat(system, name);
    assert.equal(f.name, name);
    assert.ok(f.id > 0, 'f.id > 0');
    assert.deepEqual(f.common.map((c) => c.name), ['common_type', 'common_flags', 'common_preempt_count', 'common_pid']);
    for (const fld of f.fields) {
      assert.ok(!fld.name.startsWith('common_'), '!fld.name.startsWith(\'common_\')');
      assert.ok(fld.offset >= 8, `${system}/${name}.${fld.name} offset ${fld.offset}`);
    }
    if (f.fields.length > 0) withFields++;
    // Shaping (without code generation) must accept every event: `ltt list -k -f` shows them all.
    const shaped = shapeEvent(f, system === 'syscalls' ? 'syscall' : 'tracepoint', undefined, false);
    assert.ok(shaped.fields.every((x) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(x.name)), 'shaped.fields.every((x) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(x.name))');
  }
  assert.ok(withFields > 500, 'withFields > 500');
});

test('sched_switch: char arrays, pid_t, long prev_state', () => {
  const f = readEventFormat('sched', 'sched_switch');
  const byName = Object.fromEntries(f.fields.map((x) => [x.name, x]));
  assert.equal(byName.prev_comm!.layout, 'char-array');
  assert.equal(byName.prev_comm!.count, 16);
  assert.equal(byName.prev_pid!.layout, 'int');
  assert.equal(byName.prev_pid!.size, 4);
  assert.equal(byName.prev_pid!.signed, true);
  assert.equal(byName.prev_state!.size, 8);
  const shaped = shapeEvent(f);
  assert.deepEqual(shaped.fields.map((x) => x.name), ['prev_comm', 'prev_tid', 'prev_prio', 'prev_state', 'next_comm', 'next_tid', 'next_prio']);
  assert.equal(shaped.fields[3]!.kind, 'enum');
  assert.ok(shaped.transformed.has('prev_prio'), 'shaped.transformed.has(\'prev_prio\')');
});

test('__data_loc strings, fixed arrays and syscall shapes', () => {
  const irq = readEventFormat('irq', 'irq_handler_entry');
  assert.equal(irq.fields.find((x) => x.name === 'name')!.layout, 'dyn-string');
  const raw = readEventFormat('raw_syscalls', 'sys_enter');
  const args = raw.fields.find((x) => x.name === 'args')!;
  assert.equal(args.layout, 'array');
  assert.equal(args.count, 6);
  assert.equal(args.elemSize, 8);
  const enter = shapeEvent(readEventFormat('syscalls', 'sys_enter_openat'), 'syscall');
  assert.equal(enter.name, 'syscall_entry_openat');
  assert.deepEqual(enter.fields.map((x) => x.name), ['dfd', 'filename', 'flags', 'mode']);
  const exit = shapeEvent(readEventFormat('syscalls', 'sys_exit_openat'), 'syscall');
  assert.equal(exit.name, 'syscall_exit_openat');
  assert.deepEqual(exit.fields, [{ name: 'ret', kind: 'int', size: 64, signed: true, base: 10 }]);
});

test('LTTng renames of well-known events', () => {
  assert.equal(lttngNameOf('irq', 'softirq_entry'), 'irq_softirq_entry');
  assert.equal(lttngNameOf('timer', 'hrtimer_start'), 'timer_hrtimer_start');
  assert.equal(lttngNameOf('kmem', 'mm_page_alloc'), 'kmem_mm_page_alloc');
  assert.equal(lttngNameOf('sched', 'sched_wakeup'), 'sched_wakeup');
  const wake = shapeEvent(readEventFormat('sched', 'sched_waking'));
  assert.deepEqual(wake.fields.map((x) => x.name), ['comm', 'tid', 'prio', 'target_cpu']);
  const fork = shapeEvent(readEventFormat('sched', 'sched_process_fork'));
  assert.deepEqual(fork.fields.map((x) => x.name), ['parent_comm', 'parent_tid', 'parent_pid', 'parent_ns_inum', 'child_comm', 'child_tid', 'vtids', 'child_pid', 'child_ns_inum']);
});

test('header_page and header_event of this kernel', () => {
  const hp = parseHeaderPage(tracefs.readText('events/header_page'));
  assert.deepEqual([hp.timestampOffset, hp.commitOffset, hp.commitSize, hp.dataOffset], [0, 8, 8, 16]);
  const he = parseHeaderEvent(tracefs.readText('events/header_event'));
  assert.deepEqual(he, { typeLenBits: 5, timeDeltaBits: 27, padding: 29, timeExtend: 30, timeStamp: 31, dataMaxTypeLen: 28 });
});

test('malformed format text is a one-line LttError', () => {
  assert.throws(() => parseEventFormat('garbage\n', 'x'), { code: 'KERNEL_FORMAT' });
  const f = parseEventFormat('name: t\nID: 7\nformat:\n\tfield:__data_loc u32[] vals;\toffset:8;\tsize:4;\tsigned:0;\n\tfield:__rel_loc char[] s;\toffset:12;\tsize:4;\tsigned:0;\n', 'x');
  assert.deepEqual(f.fields.map((x) => [x.name, x.layout, x.elemSize]), [['vals', 'dyn-array', 4], ['s', 'rel-string', 1]]);
});

test('listTracepoints and listSyscalls for ltt list --kernel / --syscall', async () => {
  const tps = await KernelSession.listTracepoints();
  const names = new Set(tps.map((t) => t.name));
  for (const n of ['sched_switch', 'irq_softirq_entry', 'lttng_statedump_process_state']) assert.ok(names.has(n), n);
  assert.ok(!names.has('sys_enter_openat'), '!names.has(\'sys_enter_openat\')');
  const sc = await KernelSession.listSyscalls();
  assert.ok(sc.some((s) => s.name === 'chroot' && s.bitness === 64), 'sc.some((s) => s.name === \'chroot\' && s.bitness === 64)');
  assert.ok(sc.some((s) => s.name === 'openat'), 'sc.some((s) => s.name === \'openat\')');
});

test('block events as lttng-modules records them: tid from common_pid, rwbs as RWBS_FLAG_* bits', () => {
  const issue = readEventFormat('block', 'block_rq_issue');
  const shaped = shapeEvent(issue);
  assert.deepEqual(shaped.fields.map((x) => x.name), ['dev', 'sector', 'nr_sector', 'bytes', 'tid', 'rwbs', 'comm']);
  // A hand-made record: common_pid 4242, rwbs "FWS" (preflush, write, sync), comm "kworker".
  const buf = Buffer.alloc(256);
  const dv = new DataView(buf.buffer);
  buf.writeUInt16LE(issue.id, 0);
  buf.writeInt32LE(4242, 4);
  const f = Object.fromEntries(issue.fields.map((x) => [x.name, x]));
  buf.writeUInt32LE(0x800001, f.dev!.offset);
  buf.writeBigUInt64LE(123456n, f.sector!.offset);
  buf.writeUInt32LE(8, f.nr_sector!.offset);
  buf.writeUInt32LE(4096, f.bytes!.offset);
  buf.write('FWS', f.rwbs!.offset, 'latin1');
  buf.write('kworker', f.comm!.offset, 'latin1');
  const out: unknown[] = [];
  shaped.convert(dv, buf, 0, 256, out);
  assert.deepEqual(out, [0x800001, 123456, 8, 4096, 4242, (1 << 10) | 1 | 32, 'kworker']);
});
