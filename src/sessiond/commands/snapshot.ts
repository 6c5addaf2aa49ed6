// The `snapshot` commands of sessions without output (snapshot mode, or --no-output), as lttng-sessiond's: add-output, del-output, list-output and
// record. A snapshot session keeps the newest buffers of each channel (the tracers hold them; nothing goes to
// disk while tracing); `record` writes what they hold to OUTPUT/NAME-YYYYmmdd-HHMMSS-N (N counts the session's
// snapshots), with kernel/ and ust/ inside, and tracing goes on, so successive snapshots overlap.
// LTTng allows one output per session: a local folder, or a relay (net://, -C/-D; the CLI parses the URLs as for
// create), to which each snapshot streams as lttng's does (relay-output.ts snapshotOnRelay: a relay session of its
// own per snapshot, a chunk named NAME-YYYYmmdd-HHMMSS-N).

import { isAbsolute, join, normalize } from 'node:path';
import { ControlError } from '../../control/error-codes.js';
import type { CommandResult, SnapshotOutputInfo } from '../../control/messages.js';
import { folderDateTime } from '../../ctf/writer/lttng-time-names.js';
import { makeDirectoryAs, needsOwnedOutput, removeEmptyFolders } from '../../ctf/writer/owned-output.js';
import { isLttError } from '../../errors.js';
import { makeTraceDirectories } from '../../ctf/writer/trace-modes.js';
import { asArgs, hasControlCharacter, optionalInteger, optionalString, requiredString } from '../command-args.js';
import type { DaemonContext } from '../daemon-context.js';
import type { DomainState, LockedSession } from '../session.js';
import { checkRelayTarget } from './create-session.js';
import { snapshotOnRelay } from '../relay-output.js';
import { relayUris } from '../../relay/relay-url.js';
import type { RelaySinkTarget } from '../../relay/relay-sink.js';

function snapshotSession(session: LockedSession): void {
  if (!session.inMemory) throw new ControlError('NOT_SNAPSHOT_SESSION');
}

/** An absolute path or file:// URL as a folder; a network URL must come parsed (`relay`). */
function localFolder(url: string): string {
  let path = url;
  if (/^file:\/\//.test(url)) path = url.slice('file://'.length);
  else if (/^[a-z0-9]+:\/\//i.test(url)) {
    throw new ControlError('INVALID', `Invalid parameter: snapshot output ${url}: a network output needs its parsed relay target`);
  }
  if (!isAbsolute(path) || path.includes('\0')) throw new ControlError('INVALID', `Invalid parameter: snapshot output ${url} is not an absolute path`);
  return normalize(path);
}

function checkName(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  if (name.length === 0 || name.length > 255 || name.includes('/') || name.startsWith('.') || hasControlCharacter(name)) {
    throw new ControlError('INVALID', `Invalid parameter: snapshot output name ${JSON.stringify(name.slice(0, 80))}`);
  }
  return name;
}

export async function snapshotAddOutput(ctx: DaemonContext, rawArgs: unknown, session: LockedSession): Promise<CommandResult<'snapshot-add-output'>> {
  snapshotSession(session);
  const args = asArgs(rawArgs);
  const url = requiredString(args, 'url');
  const relay = args.relay === undefined ? undefined : checkRelayTarget(args.relay);
  const path = relay ? relayUris(relay).control : localFolder(url);
  const name = checkName(optionalString(args, 'name'));
  const maxSize = optionalInteger(args, 'maxSize') ?? 0;
  if (session.snapshotOutputs.length > 0) throw new ControlError('SNAPSHOT_OUTPUT_EXIST');
  const id = session.nextSnapshotOutputId++;
  const output: SnapshotOutputInfo = { id, name: name ?? `snapshot-${id}`, path, maxSize, ...(relay ? { relay } : {}) };
  session.snapshotOutputs.push(output);
  ctx.log(`Session ${session.name}: snapshot output ${output.name} added (${path})`);
  return { ...output };
}

export async function snapshotDelOutput(ctx: DaemonContext, rawArgs: unknown, session: LockedSession): Promise<CommandResult<'snapshot-del-output'>> {
  snapshotSession(session);
  const which = requiredString(asArgs(rawArgs), 'output');
  const at = session.snapshotOutputs.findIndex((o) => (/^\d+$/.test(which) ? o.id === Number(which) : o.name === which));
  if (at < 0) throw new ControlError('INVALID', `Invalid parameter: no snapshot output ${which} in session ${session.name}`);
  const [output] = session.snapshotOutputs.splice(at, 1);
  ctx.log(`Session ${session.name}: snapshot output ${output!.name} deleted`);
  return { ...output! };
}

export async function snapshotListOutput(_ctx: DaemonContext, _args: unknown, session: LockedSession): Promise<CommandResult<'snapshot-list-output'>> {
  snapshotSession(session);
  return session.snapshotOutputs.map((o) => ({ ...o }));
}

export async function snapshotRecord(ctx: DaemonContext, rawArgs: unknown, session: LockedSession): Promise<CommandResult<'snapshot-record'>> {
  snapshotSession(session);
  const args = asArgs(rawArgs);
  const url = optionalString(args, 'url');
  const name = checkName(optionalString(args, 'name'));
  const maxSize = optionalInteger(args, 'maxSize');
  // A URL given here is a one-time output, id 0, as lttng's.
  const relay = args.relay === undefined ? undefined : checkRelayTarget(args.relay);
  const output: SnapshotOutputInfo | undefined =
    relay !== undefined
      ? { id: 0, name: 'snapshot-0', path: relayUris(relay).control, maxSize: 0, relay }
      : url !== undefined
        ? { id: 0, name: 'snapshot-0', path: localFolder(url), maxSize: 0 }
        : session.snapshotOutputs[0];
  if (!session.startedOnce) throw new ControlError('START_SESSION_ONCE');
  if (output === undefined) throw new ControlError('SNAPSHOT_NO_OUTPUT');
  const tracers = [...session.domains.values()].filter((state) => state.tracer && state.channels.size > 0);
  const snapshotName = `${name ?? output.name}-${folderDateTime(new Date())}-${session.snapshotsTaken}`;
  // A size limit is the whole snapshot's: the domains share it equally (each shares its part among its streams).
  const limit = maxSize ?? output.maxSize;
  const share = limit > 0 ? Math.max(1, Math.floor(limit / Math.max(1, tracers.length))) : 0;
  if (output.relay !== undefined) {
    const written = { bytes: 0, packets: 0 };
    const path = await snapshotOnRelay(
      output.relay,
      session,
      snapshotName,
      (to) => recordDomains(tracers, to, share, written),
      () => written.packets === 0,
    );
    session.snapshotsTaken++;
    ctx.log(`Session ${session.name}: snapshot recorded on the relay in ${path} (${written.bytes} bytes, ${written.packets} packets)`);
    return { path, ...written };
  }
  const folder = join(output.path, snapshotName);
  try {
    // The output folder and the snapshot's, made with the session owner's rights (owned-output.ts).
    if (needsOwnedOutput(session.owner)) await makeDirectoryAs(session.owner, folder);
    else makeTraceDirectories(folder);
  } catch (error) {
    const reason = isLttError(error) || error instanceof Error ? error.message : String(error);
    throw new ControlError('CREATE_DIR_FAIL', `Create directory failed: ${folder}: ${reason}`);
  }
  try {
    const { bytes, packets } = await recordDomains(tracers, folder, share, { bytes: 0, packets: 0 });
    session.snapshotsTaken++;
    ctx.log(`Session ${session.name}: snapshot recorded in ${folder} (${bytes} bytes, ${packets} packets)`);
    return { path: folder, bytes, packets };
  } catch (error) {
    // A refused size writes nothing: leave no empty snapshot folders behind (what was written stays for the
    // user to see).
    await removeEmptyFolders(session.owner, folder);
    throw error;
  }
}

/**
 * Each domain writes what it holds into `to` (a folder, or the relay's snapshot chunk), `share` bytes at most;
 * `total` counts what the domains wrote so far (also when a later one fails).
 */
async function recordDomains(tracers: DomainState[], to: string | RelaySinkTarget, share: number, total: { bytes: number; packets: number }): Promise<{ bytes: number; packets: number }> {
  for (const state of tracers) {
    if (!state.tracer!.recordSnapshot) continue;
    try {
      const written = await state.tracer!.recordSnapshot(to, share);
      total.bytes += written.bytes;
      total.packets += written.packets;
    } catch (error) {
      if (isLttError(error) && error.code === 'MAX_SIZE_INVALID') throw new ControlError(error.code, error.message);
      const reason = error instanceof Error ? error.message : String(error);
      throw new ControlError('SNAPSHOT_FAIL', `Snapshot record failed: ${reason}`);
    }
  }
  return total;
}
