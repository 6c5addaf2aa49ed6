// `ltt enable-rotation` / `ltt disable-rotation`: automatic rotation schedules, with lttng's options, messages
// and units (--timer=PERIOD in µs unless suffixed us, ms, s, m or h; --size=SIZE with k, M, G).

import type { CommandSpec } from '../command-spec.js';
import { usageError } from '../cli-error.js';
import { ExitCode } from '../exit-codes.js';
import { parseSize } from '../size-option.js';
import { array, group, leaf, type MiNode } from '../output/mi-document.js';
import { rotationScheduleNodes, successNode } from '../output/mi-model.js';

const UNITS: Record<string, number> = { '': 1, us: 1, ms: 1000, s: 1_000_000, m: 60_000_000, h: 3_600_000_000 };

function periodUs(text: string): number {
  const m = /^(\d+)(us|ms|s|m|h)?$/.exec(text);
  const value = m ? Number(m[1]) * UNITS[m[2] ?? '']! : NaN;
  if (!Number.isSafeInteger(value) || value <= 0) throw usageError('Invalid value for periodic option');
  return value;
}

function size(text: string): number {
  const value = parseSize('size', text);
  if (value <= 0) throw usageError('Invalid value for size option');
  return value;
}

/** enable-rotation / disable-rotation: each schedule set or removed, with its outcome. */
function scheduleResults(session: string, schedules: MiNode[]): MiNode {
  return group('rotation_schedule_results', [
    leaf('session_name', session),
    ...schedules.map((s) => group('rotation_schedule_result', [group('rotation_schedule', [s]), successNode(true)])),
  ]);
}

export const enableRotationCommand: CommandSpec = {
  name: 'enable-rotation',
  help: `Usage: ltt enable-rotation [--session=SESSION] (--timer=PERIOD | --size=SIZE)

Rotate SESSION (default: the current session) automatically: at least every PERIOD (µs, or with a unit: us,
ms, s, m, h), and/or each time SIZE more bytes of trace were written (k, M, G suffixes).
`,
  options: { 'list-options': { type: 'boolean' }, session: { type: 'string', short: 's' }, timer: { type: 'string' }, size: { type: 'string' } },
  async run(ctx, { positionals, values }) {
    if (positionals.length > 0) throw usageError(`Unknown argument: ${positionals[0]}`);
    const timerUs = values.timer !== undefined ? periodUs(values.timer as string) : undefined;
    const sizeBytes = values.size !== undefined ? size(values.size as string) : undefined;
    if (timerUs === undefined && sizeBytes === undefined) throw usageError('No session rotation schedule parameter provided.');
    const name = ctx.session(values.session as string | undefined);
    const client = await ctx.control();
    await client.request('enable-rotation', { session: name, ...(timerUs !== undefined ? { timerUs } : {}), ...(sizeBytes !== undefined ? { sizeBytes } : {}) });
    ctx.miOutput = scheduleResults(name, rotationScheduleNodes(timerUs, sizeBytes));
    if (timerUs !== undefined) ctx.out(`Enabled periodic rotations every ${timerUs} us on session ${name}`);
    if (sizeBytes !== undefined) ctx.out(`Enabled size-based rotations every ${sizeBytes} bytes written on session ${name}`);
    return ExitCode.SUCCESS;
  },
};

export const disableRotationCommand: CommandSpec = {
  name: 'disable-rotation',
  help: `Usage: ltt disable-rotation [--session=SESSION] (--timer | --size)

Remove the periodic (--timer) and/or size-based (--size) rotation schedule of SESSION (default: the current
session).
`,
  options: { 'list-options': { type: 'boolean' }, session: { type: 'string', short: 's' }, timer: { type: 'boolean' }, size: { type: 'boolean' } },
  async run(ctx, { positionals, values }) {
    if (positionals.length > 0) throw usageError(`Unknown argument: ${positionals[0]}`);
    const timer = values.timer === true;
    const bySize = values.size === true;
    if (!timer && !bySize) throw usageError('No session rotation schedule type provided.');
    const name = ctx.session(values.session as string | undefined);
    const client = await ctx.control();
    // lttng's document names the schedules removed, with their values: read them first.
    const before = await client.request('get-session', { session: name });
    await client.request('disable-rotation', { session: name, timer, size: bySize });
    ctx.miOutput = scheduleResults(name, rotationScheduleNodes(timer ? before.rotationTimerUs : undefined, bySize ? before.rotationSizeBytes : undefined));
    if (timer) ctx.out(`Disabled periodic rotation on session ${name}`);
    if (bySize) ctx.out(`Disabled size-based rotation on session ${name}`);
    return ExitCode.SUCCESS;
  },
};
