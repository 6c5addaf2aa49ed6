// A trace chunk as lttng-relayd keeps one (lttng-tools src/common/trace-chunk.c): an id, a creation time, a name
// (BEGIN-ID while open, BEGIN-END-ID once closed, or the session daemon's override: a snapshot's), and a folder
// relative to the session folder: '' (the session folder itself, until the first rotation), .tmp_new_chunk /
// .tmp_old_chunk while a rotation or clear is under way, the chunk's name otherwise. Moving a chunk moves the
// top-level folders it created (kernel, ust) or renames its folder; streams keep writing through their open
// files. The chunk lives while something holds it (relay sessions as their current or closing chunk, streams
// that still write there or will); when the last holder lets go, its close command runs: MOVE_TO_COMPLETED
// renames it to archives/BEGIN-END-ID, DELETE (clear) removes the files it created and its empty folders.

import * as fs from 'node:fs';
import { join } from 'node:path';
import { isoBasicDateTime } from '../ctf/writer/lttng-time-names.js';
import { makeTraceDirectories } from '../ctf/writer/trace-modes.js';
import { LttError } from '../errors.js';
import { ChunkCloseCommand, NAME_MAX } from './relay-protocol.js';

export const TMP_OLD_CHUNK = '.tmp_old_chunk';
export const TMP_NEW_CHUNK = '.tmp_new_chunk';
export const ARCHIVES = 'archives';

/** BEGIN[-END]-ID with local ISO 8601 basic times (generate_chunk_name). */
export function chunkName(id: bigint, begin: number, end?: number): string {
  const stamp = (s: number): string => isoBasicDateTime(new Date(s * 1000));
  return `${stamp(begin)}${end === undefined ? '' : `-${stamp(end)}`}-${id}`;
}

function fail(what: string): never {
  throw new LttError('RELAY_CHUNK', what);
}

export class TraceChunk {
  name: string | undefined;
  nameOverridden = false;
  /** Relative to the session folder; '' is the session folder itself. */
  path: string;
  closeTime: number | undefined;
  closeCommand: ChunkCloseCommand | undefined;
  /** Top-level folders (kernel, ust) and files (relative to the chunk folder) created in it. */
  private readonly topLevel = new Set<string>();
  private readonly files = new Set<string>();
  private readonly holders = new Set<object>();
  private released = false;

  constructor(
    readonly id: bigint,
    readonly creationTime: number,
    path: string | undefined,
    /** The session daemon's name (a snapshot's): one folder name, no '/' and no '.' (is_valid_chunk_name). */
    overrideName: string | undefined,
    /** Absolute session folder the chunk's path is relative to. */
    readonly sessionDir: string,
    /** Called once the last holder let go and the close command ran. */
    private readonly onRelease: (chunk: TraceChunk) => void,
    private readonly log: (line: string) => void,
  ) {
    this.name = id !== 0n ? chunkName(id, creationTime) : undefined;
    if (overrideName !== undefined) {
      if (overrideName === '' || overrideName.length >= NAME_MAX || overrideName.includes('/') || overrideName.includes('.')) {
        fail(`invalid trace chunk name "${overrideName}"`);
      }
      this.name = path = overrideName;
      this.nameOverridden = true;
    }
    this.path = path ?? this.name ?? fail(`trace chunk ${id} has neither a name nor a folder`);
  }

  /** Creates the chunk's folder (lttng_trace_chunk_set_as_owner). */
  makeFolder(): void {
    makeTraceDirectories(this.dir);
  }

  get dir(): string {
    return join(this.sessionDir, this.path);
  }

  /** Moves the chunk to `path` (undefined: its name), as lttng_trace_chunk_rename_path does. */
  renamePath(to: string | undefined): void {
    if (this.nameOverridden) fail(`trace chunk "${this.name}" has an override name and is not moved`);
    const path = to ?? this.name ?? fail(`trace chunk ${this.id} has no name to move to`);
    if (path === this.path) return;
    const from = this.path;
    if (from !== '' && path !== '') {
      fs.renameSync(join(this.sessionDir, from), join(this.sessionDir, path));
    } else if (from === '') {
      makeTraceDirectories(join(this.sessionDir, path));
      for (const top of this.topLevel) fs.renameSync(join(this.sessionDir, top), join(this.sessionDir, path, top));
    } else {
      for (const top of this.topLevel) fs.renameSync(join(this.sessionDir, from, top), join(this.sessionDir, top));
      fs.rmdirSync(join(this.sessionDir, from));
    }
    this.path = path;
  }

  setCloseTime(time: number): void {
    this.closeTime = time;
    if (!this.nameOverridden) this.name = chunkName(this.id, this.creationTime, time);
  }

  /** A stream's folder in the chunk (e.g. ust/uid/0/64-bit), created, its top-level folder remembered. */
  makeStreamFolder(relative: string): string {
    const top = relative.split('/')[0]!;
    if (top !== '') this.topLevel.add(top);
    const dir = join(this.dir, relative);
    makeTraceDirectories(dir);
    return dir;
  }

  /** A file the chunk will delete on clear; its absolute path now. */
  file(relative: string): string {
    this.files.add(relative);
    return join(this.dir, relative);
  }

  hold(holder: object): void {
    this.holders.add(holder);
  }

  release(holder: object): void {
    if (!this.holders.delete(holder) || this.holders.size > 0 || this.released) return;
    this.released = true;
    try {
      if (this.closeCommand === ChunkCloseCommand.MOVE_TO_COMPLETED) this.moveToCompleted();
      else if (this.closeCommand === ChunkCloseCommand.DELETE) this.deleteFiles();
    } catch (error) {
      this.log(`trace chunk ${this.id}: close command failed: ${(error as Error).message}`);
    }
    this.onRelease(this);
  }

  get exists(): boolean {
    return !this.released;
  }

  private moveToCompleted(): void {
    const archived = chunkName(this.id, this.creationTime, this.closeTime);
    makeTraceDirectories(join(this.sessionDir, ARCHIVES));
    if (this.path !== TMP_OLD_CHUNK) this.renamePath(TMP_OLD_CHUNK);
    fs.renameSync(this.dir, join(this.sessionDir, ARCHIVES, archived));
    this.path = join(ARCHIVES, archived);
  }

  /** Clear: the chunk's own files, then its folders that are left empty (another chunk's files stay). */
  private deleteFiles(): void {
    for (const f of this.files) fs.rmSync(join(this.dir, f), { force: true });
    const removeEmpty = (dir: string): void => {
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) if (e.isDirectory()) removeEmpty(join(dir, e.name));
      try {
        fs.rmdirSync(dir);
      } catch {
        // Not empty: kept, as lttng-relayd skips non-empty folders.
      }
    };
    for (const top of this.topLevel) removeEmpty(join(this.dir, top));
    if (this.path !== '') removeEmpty(this.dir);
  }
}
