// Local-file sink: the on-disk layout lttng-consumerd writes (docs/lttng-reference.md 3.1, 3.4).
//
// Contract: `FileTraceSink.create(dir, owner?)` (synchronous: an ltt/ust agent makes its outputs between two
// daemon messages) makes `dir` and `dir/index` (as `owner` when root writes for another user: see
// owned-output.ts), and truncates `dir/metadata` (or, `sharedMetadata`, appends to it: a per-UID user-space trace
// whose preamble the session daemon wrote and to which each app adds its own declarations, each one whole in one
// O_APPEND write, so writers of several processes never interleave inside one; a failed append is not cut back
// there, as another writer may have appended since). Each
// stream writes `dir/NAME` (or `NAME_0`, `NAME_1`, ... with a tracefile size) and `dir/index/NAME[_N].idx`,
// one index entry per packet, as soon as the packet arrives (so a live reader or a crash sees whole packets);
// `withIndex` false (snapshots, as lttng-consumerd's) makes no index folder or files.
// With a tracefile count, the ring reuses the oldest file: it is truncated with its index, as LTTng does.
// Writes are synchronous (the consumer's workers own the thread; packets are large, so syscalls are few).
// I/O failures throw an LttError (code CTF_WRITER_IO) naming the file, and leave the files as they were before
// the failed write (a partly written packet, index entry or metadata packet is cut off again: a full disk never
// leaves a torn trace), so the writer may go on and a later write may succeed once there is space again.
// A stream file that could not be opened (ring rotation) is retried with the next packet.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeIoError, LttError } from '../../errors.js';
import { encodeIndexEntry, INDEX_ENTRY_SIZE, indexFileHeader } from './index-file.js';
import { DirectFile, directIoPays, reserveAligned } from './direct-io.js';
import { needsOwnedOutput, OwnedDirectory, type FileOwner } from './owned-output.js';
import type { PacketIndexEntry, StreamSink, StreamSinkInfo, TraceSink } from './sink.js';
import { makeTraceDirectories, openTraceFile } from './trace-modes.js';

function ioError(what: string, file: string, err: unknown): LttError {
  return new LttError('CTF_WRITER_IO', `Cannot ${what} ${describeIoError(file, err)}`, { cause: err });
}

/** Writes all of `data` at `pos`; on failure cuts the file back to `pos` and throws. */
function writeAllAt(fd: number, data: Uint8Array, pos: number, file: string): void {
  let done = 0;
  try {
    // Positional: after a cut-back the next write lands right after the last whole packet, not after a hole.
    while (done < data.length) done += fs.writeSync(fd, data, done, data.length - done, pos + done);
  } catch (err) {
    truncateQuietly(fd, pos);
    throw ioError('write', file, err);
  }
}

function truncateQuietly(fd: number, size: number): void {
  try {
    fs.ftruncateSync(fd, size);
  } catch {
    // Shrinking needs no space; if it fails anyway the index still lists only whole packets.
  }
}

/**
 * Where a sink's files go: a plain directory, or one root writes for another user (owned-output.ts).
 * `direct`: open for O_DIRECT writes (direct-io.ts).
 */
interface TraceDirectory {
  readonly path: string;
  /** `name` emptied, or created with the trace file mode (trace-modes.ts). */
  openTruncated(name: string, direct?: boolean): number;
  /** The existing file `name`, for writing, not emptied (the shared metadata file; a file created for O_DIRECT); `append`: O_APPEND. */
  reopen(name: string, direct: boolean, append?: boolean): number;
  unlink(name: string): void;
  close(): void;
}

const { O_WRONLY, O_CREAT, O_TRUNC, O_DIRECT, O_APPEND } = fs.constants;

class PlainDirectory implements TraceDirectory {
  constructor(readonly path: string) {}
  openTruncated(name: string, direct = false): number {
    return openTraceFile(path.join(this.path, name), O_WRONLY | O_CREAT | O_TRUNC | (direct ? O_DIRECT : 0));
  }
  reopen(name: string, direct: boolean, append = false): number {
    return fs.openSync(path.join(this.path, name), O_WRONLY | (direct ? O_DIRECT : 0) | (append ? O_APPEND : 0));
  }
  unlink(name: string): void {
    fs.unlinkSync(path.join(this.path, name));
  }
  close(): void {}
}

function openTruncated(dir: TraceDirectory, name: string): number {
  try {
    return dir.openTruncated(name);
  } catch (err) {
    throw ioError('create', path.join(dir.path, name), err);
  }
}

export class FileTraceSink implements TraceSink {
  private metadataFd: number;
  private metadataBytes = 0;
  private readonly streams = new Set<FileStreamSink>();

  private readonly metadataPath: string;
  /** Stream files ask for O_DIRECT (not on tmpfs: see directIoPays()). */
  private readonly direct: boolean;

  private constructor(
    private readonly root: TraceDirectory,
    /** Undefined: no index files (snapshots: lttng-consumerd writes none for them). */
    private readonly index: TraceDirectory | undefined,
    stagingBytes: number,
    private readonly sharedMetadata = false,
  ) {
    this.metadataPath = path.join(root.path, 'metadata');
    this.direct = directIoPays(root.path);
    if (this.direct) reserveAligned(stagingBytes);
    if (sharedMetadata) {
      try {
        this.metadataFd = root.reopen('metadata', false, true);
      } catch (err) {
        throw ioError('open', this.metadataPath, err);
      }
    } else this.metadataFd = openTruncated(root, 'metadata');
  }

  get dir(): string {
    return this.root.path;
  }

  /**
   * `owner`: whose trace it is. When root writes for another user, `dir`'s parent must be a folder of theirs
   * (the session daemon made it with their rights); `dir` and every file are created safely in it and given
   * to them (owned-output.ts). `stagingBytes`: staging memory for direct writes touched now, while nothing
   * waits (ltt/ust's local consumer: BURST_STAGING_BYTES, direct-io.ts).
   */
  static create(dir: string, owner?: FileOwner, stagingBytes = 0, sharedMetadata = false, withIndex = true): FileTraceSink {
    if (needsOwnedOutput(owner)) {
      const parent = OwnedDirectory.open(path.dirname(dir), owner);
      let root: OwnedDirectory | undefined;
      let index: OwnedDirectory | undefined;
      try {
        root = parent.subdirectory(path.basename(dir));
        if (withIndex) index = root.subdirectory('index');
        return new FileTraceSink(root, index, stagingBytes, sharedMetadata);
      } catch (err) {
        root?.close();
        index?.close();
        throw err;
      } finally {
        parent.close();
      }
    }
    try {
      makeTraceDirectories(withIndex ? path.join(dir, 'index') : dir);
    } catch (err) {
      throw ioError('create directory', dir, err);
    }
    return new FileTraceSink(new PlainDirectory(dir), withIndex ? new PlainDirectory(path.join(dir, 'index')) : undefined, stagingBytes, sharedMetadata);
  }

  writeMetadata(packets: Uint8Array): void {
    if (this.metadataFd < 0) throw new LttError('CTF_WRITER_CLOSED', `metadata of ${this.dir} written after close`);
    if (this.sharedMetadata) {
      if (packets.length === 0) return;
      // One write(2): O_APPEND places it whole after what every other writer appended (regular files).
      let done: number;
      try {
        done = fs.writeSync(this.metadataFd, packets);
      } catch (err) {
        throw ioError('write', this.metadataPath, err);
      }
      if (done !== packets.length) throw ioError('write', this.metadataPath, Object.assign(new Error('short write'), { code: 'ENOSPC' }));
      this.metadataBytes += done;
      return;
    }
    writeAllAt(this.metadataFd, packets, this.metadataBytes, this.metadataPath);
    this.metadataBytes += packets.length;
  }

  /**
   * Shared metadata only: the metadata file was replaced (a regenerated per-UID metadata): appends go to the new
   * one from now on.
   */
  reopenMetadata(): void {
    if (!this.sharedMetadata || this.metadataFd < 0) throw new LttError('CTF_WRITER_CLOSED', `metadata of ${this.dir} cannot be reopened`);
    let fd: number;
    try {
      fd = this.root.reopen('metadata', false, true);
    } catch (err) {
      throw ioError('open', this.metadataPath, err);
    }
    fs.closeSync(this.metadataFd);
    this.metadataFd = fd;
  }

  openStream(info: StreamSinkInfo): StreamSink {
    if (!/^[^/\0]+$/.test(info.fileName) || info.fileName === '.' || info.fileName === '..' || info.fileName === 'metadata' || info.fileName.startsWith('.')) {
      throw new LttError('CTF_WRITER_BAD_STREAM', `invalid stream file name ${JSON.stringify(info.fileName)}`);
    }
    for (const other of this.streams) {
      if (other.fileName === info.fileName) throw new LttError('CTF_WRITER_BAD_STREAM', `stream file ${info.fileName} is already open in ${this.dir}`);
    }
    const s = new FileStreamSink(this.root, this.index, info, this.direct, () => this.streams.delete(s));
    this.streams.add(s);
    return s;
  }

  async close(): Promise<void> {
    // Every file is closed even when a stream reports a lost packet; the first such error is thrown at the end.
    let lost: unknown;
    for (const s of [...this.streams]) await s.close().catch((err: unknown) => (lost ??= err));
    if (this.metadataFd >= 0) {
      const fd = this.metadataFd;
      this.metadataFd = -1;
      try {
        fs.closeSync(fd);
      } catch (err) {
        throw ioError('close', this.metadataPath, err);
      }
    }
    this.root.close();
    this.index?.close();
    if (lost !== undefined) throw lost;
  }
}

class FileStreamSink implements StreamSink {
  private data: DirectFile | undefined;
  /** The current index file: its descriptor and bytes (packets written behind into an earlier file use that file's). */
  private index: { fd: number; bytes: number; readonly path: string } | undefined;
  private dataPath = '';
  /** Rotation number of the current file (0-based, wraps at tracefileCount). */
  private fileNumber = 0;
  private readonly rotate: boolean;
  private closed = false;
  /** Resolves once the files this stream left (tracefile size) are closed, with everything written behind into them. */
  private earlierFiles = Promise.resolve();
  /** The first packet written behind that failed with no `lost` callback to report it (close() throws it). */
  private lateFailure: unknown;

  get fileName(): string {
    return this.info.fileName;
  }

  constructor(
    private readonly dir: TraceDirectory,
    private readonly indexDir: TraceDirectory | undefined,
    private readonly info: StreamSinkInfo,
    /** The next data file asks for O_DIRECT (direct-io.ts) while the previous ones kept it. */
    private direct: boolean,
    private readonly onClose: () => void,
  ) {
    this.rotate = (info.tracefileSize ?? 0) > 0;
    this.openFiles();
    if (this.rotate) this.removeStaleRingFiles();
  }

  /**
   * Ring files NAME_1, NAME_2, ... of an earlier trace in this folder (`clear` starts the files again) would read
   * as part of this one: they go (NAME_0 was just emptied). They are numbered from 0 without gaps.
   */
  private removeStaleRingFiles(): void {
    const count = this.info.tracefileCount ?? 0;
    for (let k = 1; count === 0 || k < count; k++) {
      try {
        this.dir.unlink(`${this.info.fileName}_${k}`);
      } catch {
        break; // none left (or not ours to remove: then it is not a stale ring file either)
      }
      try {
        this.indexDir?.unlink(`${this.info.fileName}_${k}.idx`);
      } catch {
        // Its data file is gone: a lone index is never read.
      }
    }
  }

  private openFiles(): void {
    const base = this.rotate ? `${this.info.fileName}_${this.fileNumber}` : this.info.fileName;
    const dataPath = path.join(this.dir.path, base);
    this.dataPath = dataPath;
    const indexDir = this.indexDir;
    const indexPath = indexDir ? path.join(indexDir.path, `${base}.idx`) : '';
    let data: DirectFile | undefined;
    let indexFd = -1;
    try {
      data = DirectFile.open(
        this.direct,
        (direct) => {
          try {
            return this.dir.openTruncated(base, direct);
          } catch (err) {
            throw ioError('create', dataPath, err);
          }
        },
        (fd, bytes, pos) => writeAllAt(fd, bytes, pos, dataPath),
      );
      // Staging for a ring's worth of packets, ready before they come (direct-io.ts).
      if (this.info.ring !== undefined) data.warm(this.info.ring.slotSize, this.info.ring.slots);
      if (indexDir !== undefined) {
        indexFd = openTruncated(indexDir, `${base}.idx`);
        const header = indexFileHeader();
        writeAllAt(indexFd, header, 0, indexPath);
        this.index = { fd: indexFd, bytes: header.length, path: indexPath };
      }
    } catch (err) {
      // No half-made stream file stays behind (an index without its header does not read).
      for (const [fd, dir, name] of [[data?.fd ?? -1, this.dir, base], [indexFd, this.indexDir, `${base}.idx`]] as const) {
        if (fd < 0 || dir === undefined) continue;
        try {
          fs.closeSync(fd);
          dir.unlink(name);
        } catch {
          // Best effort.
        }
      }
      throw err;
    }
    this.data = data;
  }

  /**
   * Closes the stream's files; the promise resolves once nothing is written behind into them any more (the index
   * file closes then: the last packets' entries are written as they land).
   */
  private closeFiles(): Promise<void> {
    const data = this.data;
    const index = this.index;
    this.data = undefined;
    this.index = undefined;
    let idle = Promise.resolve();
    if (data !== undefined) {
      if (!data.isDirect) this.direct = false;
      try {
        idle = data.close();
      } catch (err) {
        throw ioError('close', this.dataPath, err);
      }
    }
    if (index === undefined) return idle;
    return idle.then(() => {
      try {
        fs.closeSync(index.fd);
      } catch (err) {
        throw ioError('close', index.path, err);
      }
    });
  }

  writePacket(packet: Uint8Array, index: PacketIndexEntry, lost?: (err: unknown) => void): void {
    if (this.closed) throw new LttError('CTF_WRITER_CLOSED', `packet written to closed stream ${this.dataPath}`);
    const size = index.packetSizeBits / 8;
    if (this.data !== undefined && this.rotate && this.data.size > 0 && this.data.size + size > this.info.tracefileSize!) {
      // lttng-consumerd: move to the next file of the ring, overwriting the oldest one. The file closes once what
      // is written behind into it is in; settle() and close() wait for that.
      const closing = this.closeFiles().catch((err: unknown) => void (this.lateFailure ??= err));
      this.earlierFiles = Promise.all([this.earlierFiles, closing]).then(() => undefined);
      this.fileNumber++;
      const count = this.info.tracefileCount ?? 0;
      if (count > 0) {
        this.fileNumber %= count;
        // The oldest file goes (unlinked, as lttng-consumerd does) and a new one takes its name: packets of it
        // still written behind (direct-io.ts, whose page-cache descriptor is opened on the same file, never by
        // name) land in the unlinked file, never in the new one or its index.
        const base = `${this.info.fileName}_${this.fileNumber}`;
        for (const [dir, name] of [[this.dir, base], [this.indexDir, `${base}.idx`]] as const) {
          try {
            dir?.unlink(name);
          } catch {
            // Not made yet (the ring's first lap).
          }
        }
      }
    }
    // Also retries a file whose opening failed before (full disk at rotation).
    if (this.data === undefined) this.openFiles();
    // The index entry goes once the packet is in the file (now, or later when written behind: direct-io.ts).
    const { index: idx, dataPath } = this;
    let now = true;
    let failedNow: unknown;
    this.data!.append(packet, size, {
      done: (pos) => {
        if (idx === undefined) return; // no index files
        const entry = Buffer.alloc(INDEX_ENTRY_SIZE);
        encodeIndexEntry(entry, 0, pos, index);
        writeAllAt(idx.fd, entry, idx.bytes, idx.path);
        idx.bytes += entry.length;
      },
      failed: (err) => {
        const e = err instanceof LttError ? err : ioError('write', dataPath, err);
        if (now) failedNow = e;
        else if (lost !== undefined) lost(e);
        else this.lateFailure ??= e;
      },
    });
    now = false;
    if (failedNow !== undefined) throw failedNow;
  }

  hasRoom(bytes: number): boolean {
    return this.data?.hasRoom(bytes) ?? true;
  }

  whenRoom(cb: () => void): void {
    if (this.data === undefined) queueMicrotask(cb);
    else this.data.whenRoom(cb);
  }

  /** Every packet written so far is in the file (or reported lost): see DirectFile.settle(). */
  settle(): Promise<void> {
    return Promise.all([this.earlierFiles, this.data?.settle()]).then(() => undefined);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const idle = this.closeFiles();
    this.onClose();
    await idle;
    await this.earlierFiles;
    // A packet written behind, with nobody to tell, failed: the trace is not whole.
    if (this.lateFailure !== undefined) throw this.lateFailure;
  }
}
