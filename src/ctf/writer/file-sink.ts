// Local-file sink: the on-disk layout lttng-consumerd writes (docs/lttng-reference.md 3.1, 3.4).
//
// Contract: `FileTraceSink.create(dir)` makes `dir` and `dir/index`, and truncates `dir/metadata`. Each
// stream writes `dir/NAME` (or `NAME_0`, `NAME_1`, ... with a tracefile size) and `dir/index/NAME[_N].idx`,
// one index entry per packet, as soon as the packet arrives (so a live reader or a crash sees whole packets).
// With a tracefile count, the ring reuses the oldest file: it is truncated with its index, as LTTng does.
// Writes are synchronous (the consumer's workers own the thread; packets are large, so syscalls are few).
// I/O failures throw an LttError (code CTF_WRITER_IO) naming the file.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { LttError } from '../../errors.js';
import { encodeIndexEntry, INDEX_ENTRY_SIZE, indexFileHeader } from './index-file.js';
import type { PacketIndexEntry, StreamSink, StreamSinkInfo, TraceSink } from './sink.js';

function ioError(what: string, file: string, err: unknown): LttError {
  const reason = err instanceof Error ? err.message : String(err);
  return new LttError('CTF_WRITER_IO', `Cannot ${what} ${file}: ${reason}`, { cause: err });
}

function writeAll(fd: number, data: Uint8Array, file: string): void {
  let done = 0;
  try {
    while (done < data.length) done += fs.writeSync(fd, data, done, data.length - done, null);
  } catch (err) {
    throw ioError('write', file, err);
  }
}

function openTruncated(file: string): number {
  try {
    return fs.openSync(file, 'w', 0o644);
  } catch (err) {
    throw ioError('create', file, err);
  }
}

export class FileTraceSink implements TraceSink {
  private metadataFd: number;
  private readonly streams = new Set<FileStreamSink>();

  private constructor(
    readonly dir: string,
    private readonly metadataPath: string,
  ) {
    this.metadataFd = openTruncated(metadataPath);
  }

  static async create(dir: string): Promise<FileTraceSink> {
    try {
      await fs.promises.mkdir(path.join(dir, 'index'), { recursive: true });
    } catch (err) {
      throw ioError('create directory', dir, err);
    }
    return new FileTraceSink(dir, path.join(dir, 'metadata'));
  }

  writeMetadata(packets: Uint8Array): void {
    if (this.metadataFd < 0) throw new LttError('CTF_WRITER_CLOSED', `metadata of ${this.dir} written after close`);
    writeAll(this.metadataFd, packets, this.metadataPath);
  }

  openStream(info: StreamSinkInfo): StreamSink {
    if (!/^[^/\0]+$/.test(info.fileName) || info.fileName === '.' || info.fileName === '..' || info.fileName === 'metadata' || info.fileName.startsWith('.')) {
      throw new LttError('CTF_WRITER_BAD_STREAM', `invalid stream file name ${JSON.stringify(info.fileName)}`);
    }
    for (const other of this.streams) {
      if (other.fileName === info.fileName) throw new LttError('CTF_WRITER_BAD_STREAM', `stream file ${info.fileName} is already open in ${this.dir}`);
    }
    const s = new FileStreamSink(this.dir, info, () => this.streams.delete(s));
    this.streams.add(s);
    return s;
  }

  async close(): Promise<void> {
    for (const s of [...this.streams]) await s.close();
    if (this.metadataFd >= 0) {
      const fd = this.metadataFd;
      this.metadataFd = -1;
      try {
        fs.closeSync(fd);
      } catch (err) {
        throw ioError('close', this.metadataPath, err);
      }
    }
  }
}

class FileStreamSink implements StreamSink {
  private dataFd = -1;
  private indexFd = -1;
  private dataPath = '';
  private indexPath = '';
  /** Bytes in the current data file. */
  private fileBytes = 0;
  /** Rotation number of the current file (0-based, wraps at tracefileCount). */
  private fileNumber = 0;
  private readonly rotate: boolean;
  private readonly entry = Buffer.alloc(INDEX_ENTRY_SIZE);
  private closed = false;

  get fileName(): string {
    return this.info.fileName;
  }

  constructor(
    private readonly dir: string,
    private readonly info: StreamSinkInfo,
    private readonly onClose: () => void,
  ) {
    this.rotate = (info.tracefileSize ?? 0) > 0;
    this.openFiles();
  }

  private openFiles(): void {
    const base = this.rotate ? `${this.info.fileName}_${this.fileNumber}` : this.info.fileName;
    this.dataPath = path.join(this.dir, base);
    this.indexPath = path.join(this.dir, 'index', `${base}.idx`);
    this.dataFd = openTruncated(this.dataPath);
    this.indexFd = openTruncated(this.indexPath);
    writeAll(this.indexFd, indexFileHeader(), this.indexPath);
    this.fileBytes = 0;
  }

  private closeFiles(): void {
    for (const [fd, file] of [
      [this.dataFd, this.dataPath],
      [this.indexFd, this.indexPath],
    ] as const) {
      if (fd < 0) continue;
      try {
        fs.closeSync(fd);
      } catch (err) {
        throw ioError('close', file, err);
      }
    }
    this.dataFd = -1;
    this.indexFd = -1;
  }

  writePacket(packet: Uint8Array, index: PacketIndexEntry): void {
    if (this.closed) throw new LttError('CTF_WRITER_CLOSED', `packet written to closed stream ${this.dataPath}`);
    if (this.rotate && this.fileBytes > 0 && this.fileBytes + packet.length > this.info.tracefileSize!) {
      // lttng-consumerd: move to the next file of the ring, overwriting the oldest one.
      this.closeFiles();
      this.fileNumber++;
      const count = this.info.tracefileCount ?? 0;
      if (count > 0) this.fileNumber %= count;
      this.openFiles();
    }
    encodeIndexEntry(this.entry, 0, this.fileBytes, index);
    writeAll(this.dataFd, packet, this.dataPath);
    writeAll(this.indexFd, this.entry, this.indexPath);
    this.fileBytes += packet.length;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closeFiles();
    this.onClose();
  }
}
