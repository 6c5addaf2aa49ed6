// The per-UID user-space traces of one session (LTTng's default buffering, `--buffers-uid`): one trace per user,
// BASE/ust/uid/UID/64-bit/ in the session's output (each rotation chunk) and in each local snapshot, written by
// every app of that user. The daemon owns what the apps share: it makes the folder (handed to the user when the
// daemon is root), writes the metadata's preamble (the user's trace uuid, the session's clock offset, an env
// without process: tracer_buffering_scheme "uid"), and gives each app of the user a slot, from which the session
// tracer derives the app's stream class ids, so the declarations the apps append never collide (the apps write
// their own per-thread streams and declarations: src/ust/app-protocol.ts). Clear and `regenerate metadata`
// replace a folder's metadata by the preamble alone before the apps append their declarations again.

import { spawnSync } from 'node:child_process';
import { closeSync, lchownSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { needsOwnedOutput, OwnedDirectory } from '../../ctf/writer/owned-output.js';
import { makeTraceDirectories, writeTraceFile } from '../../ctf/writer/trace-modes.js';
import { isoBasicDateTime } from '../../ctf/writer/lttng-time-names.js';
import { clockUuid } from '../../ust/clock.js';
import { uidTraceTsdl } from '../../ust/metadata.js';

export interface UidTraceOptions {
  readonly sessionName: string;
  readonly hostname: string;
  readonly creationTime: Date;
  /** The session's owner: when root works for another user, folders and files are made with their rights. */
  readonly owner: { uid: number; gid: number };
  readonly clockOffsetNs: string;
}

/** The user whose apps write a folder, and who must be able to write it. */
export interface UidWriter {
  readonly uid: number;
  readonly gid: number;
}

export class UidTraces {
  private readonly uuids = new Map<number, string>();
  private readonly slots = new Map<number, number>();
  /** The users whose apps wrote in this session (their first app's uid and gid), and whether their apps write. */
  private readonly users = new Map<number, UidWriter & { forApp: boolean }>();
  /** Folders made (and begun with a preamble): folder -> uid. */
  private readonly folders = new Map<string, number>();

  constructor(private readonly options: UidTraceOptions) {}

  /** The user's trace uuid in this session (the same in every chunk and snapshot, as one trace's). */
  uuid(uid: number): string {
    let u = this.uuids.get(uid);
    if (u === undefined) this.uuids.set(uid, (u = randomUUID()));
    return u;
  }

  /** The next app slot of the user (never reused in the session: stream ids stay unique in every chunk). */
  nextSlot(uid: number): number {
    const n = this.slots.get(uid) ?? 0;
    this.slots.set(uid, n + 1);
    return n;
  }

  static path(base: string, uid: number): string {
    return join(base, 'ust', 'uid', String(uid), '64-bit');
  }

  /**
   * BASE/ust/uid/UID/64-bit/ with its index/ and its metadata preamble, made on first use. `forApp`: the user's
   * apps write there (root hands the folder and the metadata to them); false: only the daemon does (it writes
   * for apps that cannot own their folder: AppSessionStart.viaDaemon); absent: as for the user's first folder.
   * Throws the fs error.
   */
  folder(base: string, writer: UidWriter, forApp?: boolean): string {
    const dir = UidTraces.path(base, writer.uid);
    if (!this.users.has(writer.uid)) this.users.set(writer.uid, { uid: writer.uid, gid: writer.gid, forApp: forApp ?? true });
    forApp ??= this.users.get(writer.uid)!.forApp;
    if (this.folders.has(dir)) return dir;
    const owner = this.options.owner;
    if (needsOwnedOutput(owner)) {
      const dirs = [OwnedDirectory.open(base, owner)];
      try {
        for (const part of ['ust', 'uid', String(writer.uid), '64-bit', 'index']) dirs.push(dirs[dirs.length - 1]!.subdirectory(part));
      } finally {
        for (const d of dirs) d.close();
      }
    } else makeTraceDirectories(join(dir, 'index'));
    this.writePreamble(dir, writer.uid, 'metadata');
    if (!needsOwnedOutput(owner) && forApp && process.getuid?.() === 0 && writer.uid > 0) {
      // The user's apps write here: inner entries first (once the folder is theirs they could swap its content).
      lchownSync(join(dir, 'index'), writer.uid, writer.gid);
      lchownSync(join(dir, 'metadata'), writer.uid, writer.gid);
      lchownSync(dir, writer.uid, writer.gid);
    }
    this.folders.set(dir, writer.uid);
    return dir;
  }

  /**
   * The users whose apps wrote in this session: as LTTng's per-UID buffers outlive their apps, every later chunk
   * has their folder (metadata, and the streams of apps still running), even when none of their apps runs.
   */
  knownUsers(): UidWriter[] {
    return [...this.users.values()].map(({ uid, gid }) => ({ uid, gid }));
  }

  /** The folders made under `base` (a chunk's or snapshot's folder), with their users. */
  foldersUnder(base: string): Array<{ dir: string; uid: number }> {
    const prefix = join(base, 'ust', 'uid') + '/';
    return [...this.folders].filter(([dir]) => dir.startsWith(prefix)).map(([dir, uid]) => ({ dir, uid }));
  }

  /**
   * Who root's daemon must act as inside `dir`: the user who controls it (the session's owner when root works
   * for a tracing-group member; the apps' user when root's session handed the folder to them); undefined when
   * the folder is the daemon's own. Root never works by path in a folder another user can change: a link planted
   * there would point its deletes and writes anywhere.
   */
  private actAs(uid: number): UidWriter | undefined {
    if (process.getuid?.() !== 0) return undefined;
    if (needsOwnedOutput(this.options.owner)) return this.options.owner;
    const user = this.users.get(uid);
    // Folders the daemon writes for its apps were never handed to them: they are root's own.
    if (user !== undefined && !user.forApp) return undefined;
    return uid > 0 ? (user ?? { uid, gid: uid }) : undefined;
  }

  /** `clear`: the folder's files go (every app's, the exited ones' too) and its metadata is the preamble again. */
  empty(dir: string, uid: number): void {
    const as = this.actAs(uid);
    if (as !== undefined) {
      inFolderAs(as, { op: 'empty', dir, text: this.preamble(uid) });
      return;
    }
    for (const sub of [join(dir, 'index'), dir]) {
      for (const e of readdirSync(sub, { withFileTypes: true })) if (e.isFile() && !(sub === dir && e.name === 'metadata')) rmSync(join(sub, e.name), { force: true });
    }
    this.replaceMetadata(dir, uid);
  }

  /**
   * The folder's metadata replaced by a new file holding the preamble (renamed over it, so an app's append in
   * flight lands in the old file, never before the new preamble); the apps then reopen it and append again.
   * `keep`: the stream classes (and their events) of the old file to carry over, those of apps that will not
   * declare again (exited apps, whose files stay).
   */
  replaceMetadata(dir: string, uid: number, keep?: (streamId: number) => boolean): void {
    const as = this.actAs(uid);
    if (as !== undefined) {
      const old = keep ? inFolderAs(as, { op: 'read', dir }) : '';
      inFolderAs(as, { op: 'replace', dir, text: this.preamble(uid) + (keep ? keptDeclarations(old, keep) : '') });
      return;
    }
    const text = this.preamble(uid) + (keep ? keptDeclarations(readFileSync(join(dir, 'metadata'), 'utf8'), keep) : '');
    const fresh = join(dir, 'metadata.new');
    writeTraceFile(fresh, text);
    renameSync(fresh, join(dir, 'metadata'));
  }

  /** The user's metadata preamble in this session (every chunk's, snapshot's and relay metadata begins with it). */
  preamble(uid: number): string {
    const o = this.options;
    return uidTraceTsdl({
      uuid: this.uuid(uid),
      clockUuid: clockUuid(),
      clockOffset: BigInt(o.clockOffsetNs),
      hostname: o.hostname,
      traceName: o.sessionName,
      creationDatetime: isoBasicDateTime(o.creationTime),
      uid,
    });
  }

  /** `name` in `dir` holding the preamble (as the owner's when root works for another user). */
  private writePreamble(dir: string, uid: number, name: string, text = this.preamble(uid)): void {
    const owner = this.options.owner;
    if (!needsOwnedOutput(owner)) {
      writeTraceFile(join(dir, name), text);
      return;
    }
    const d = OwnedDirectory.open(dir, owner);
    try {
      const fd = d.openTruncated(name);
      try {
        writeFileSync(fd, text);
      } finally {
        closeSync(fd);
      }
    } finally {
      d.close();
    }
  }
}

/**
 * The stream and event declarations of a per-UID metadata text whose stream class id passes `keep`, in order.
 * The apps write each declaration as a top-level block starting a line with `stream {` or `event {` (their
 * names are TSDL strings: no line break), so the text splits there; the preamble (before the first) is left out.
 */
/** Largest metadata read back for `regenerate metadata` (a trace's declarations are far smaller). */
const MAX_METADATA_BYTES = 64 << 20;

/**
 * What root does in a folder another user controls, done by a child process with that user's rights (so a
 * link they planted leads nowhere they could not go themselves): 'empty' (the regular files of the folder and
 * its index/, but metadata, then 'replace'), 'replace' (metadata.new with `text`, renamed over metadata),
 * 'read' (metadata, a regular file of at most MAX_METADATA_BYTES). Throws the child's one-line error.
 */
function inFolderAs(as: UidWriter, job: { op: 'empty' | 'replace' | 'read'; dir: string; text?: string }): string {
  const r = spawnSync(process.execPath, ['-e', IN_FOLDER_SCRIPT], {
    uid: as.uid,
    gid: as.gid,
    input: JSON.stringify({ ...job, max: MAX_METADATA_BYTES }),
    encoding: 'utf8',
    maxBuffer: MAX_METADATA_BYTES + 1024,
    timeout: 30_000,
  });
  if (r.error || r.status !== 0) throw new Error(`${job.op} in ${job.dir} as uid ${as.uid}: ${r.error?.message ?? r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`}`);
  return r.stdout;
}

const IN_FOLDER_SCRIPT = `
const fs = require('node:fs');
const path = require('node:path');
const job = JSON.parse(fs.readFileSync(0, 'utf8'));
const { dir } = job;
try {
  if (job.op === 'read') {
    const fd = fs.openSync(path.join(dir, 'metadata'), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.size > job.max) throw new Error('metadata is not a regular file of a trace');
    process.stdout.write(fs.readFileSync(fd, 'utf8'));
  } else {
    if (job.op === 'empty') {
      for (const sub of [path.join(dir, 'index'), dir]) {
        for (const e of fs.readdirSync(sub, { withFileTypes: true })) if (e.isFile() && !(sub === dir && e.name === 'metadata')) fs.rmSync(path.join(sub, e.name), { force: true });
      }
    }
    const fresh = path.join(dir, 'metadata.new');
    fs.rmSync(fresh, { force: true });
    const fd = fs.openSync(fresh, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o640);
    fs.writeFileSync(fd, job.text);
    fs.closeSync(fd);
    fs.renameSync(fresh, path.join(dir, 'metadata'));
  }
} catch (err) {
  process.stderr.write(String(err && err.message || err) + '\\n');
  process.exit(1);
}
`;

function keptDeclarations(text: string, keep: (streamId: number) => boolean): string {
  const blocks = text.split(/^(?=(?:stream|event) \{)/m).slice(1);
  return blocks
    .filter((b) => {
      const m = b.startsWith('stream') ? /^\tid = (\d+);/m.exec(b) : /^\tstream_id = (\d+);/m.exec(b);
      return m !== null && keep(Number(m[1]));
    })
    .join('');
}
