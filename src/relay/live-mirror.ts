// A live session copied into a local trace folder as it records, for readers that take trace folders (ltt
// web's tables, polled and imported again as they grow): every relay session of one HOSTNAME/SESSION is
// attached from its beginning, each stream's packets are appended whole to DIR/PATH/CHANNEL as the relay serves
// them (PATH: the stream's path on the relay) and each trace's metadata to DIR/PATH/metadata, the metadata
// before the packets that need it. A folder read at any moment thus holds whole packets that its metadata
// describes. The copy ends when the relay says the session is over (every stream and session hung up).
//
// Contract: `mirrorLiveSession(opts, dir)` attaches (one-line LttErrors as openLiveSource's) and copies in the
// background; `firstData` resolves once a packet is in the folder (or the copy ended), `done` when the copy
// ended (rejects with the one-line reason it stopped for); `close()` detaches.

import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LttError } from '../errors.js';
import type { LiveStreamInfo, LiveViewer } from './live-client.js';
import { FLAG_NEW_METADATA, FLAG_NEW_STREAM, IndexStatus, METADATA_ERR, METADATA_OK, NEW_STREAMS_HUP, NEW_STREAMS_OK, PACKET_OK, SEEK_BEGINNING } from './live-protocol.js';
import { attachLiveSession, type LiveSourceOptions } from './live-source.js';

const PACKET_RETRY = 2;

export interface LiveMirror {
  readonly firstData: Promise<void>;
  readonly done: Promise<void>;
  close(): void;
}

interface Stream {
  readonly desc: LiveStreamInfo;
  readonly file: string;
  /** Its trace's key (relay session / ctf_trace_id): where its metadata goes. */
  readonly trace: string;
  hup: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class Mirror {
  readonly data: Stream[] = [];
  readonly metadata = new Map<string, Stream>();
  readonly open: Set<bigint>;
  closed = false;
  gotData!: () => void;
  readonly firstData = new Promise<void>((resolve) => (this.gotData = resolve));

  constructor(
    readonly viewer: LiveViewer,
    ids: readonly bigint[],
    readonly dir: string,
    readonly where: string,
  ) {
    this.open = new Set(ids);
  }

  /** DIR/PATH/NAME, PATH taken from the relay only as plain names (no way above DIR). */
  fileFor(path: string, name: string): string {
    const parts = path.split('/').filter((p) => p !== '' && p !== '.' && p !== '..');
    const folder = join(this.dir, ...parts);
    mkdirSync(folder, { recursive: true });
    return join(folder, name.replace(/[/\\]/g, '_'));
  }

  async add(session: bigint, streams: readonly LiveStreamInfo[]): Promise<void> {
    for (const desc of streams) {
      const trace = `${session}/${desc.ctfTraceId}`;
      if (desc.metadata) {
        const s = { desc, file: this.fileFor(desc.path, 'metadata'), trace, hup: false };
        this.metadata.set(trace, s);
        await this.copyMetadata(s);
      } else this.data.push({ desc, file: this.fileFor(desc.path, desc.channel), trace, hup: false });
    }
  }

  /** GET_METADATA until the relay has no more. */
  async copyMetadata(s: Stream | undefined): Promise<void> {
    if (s === undefined || s.hup) return;
    for (;;) {
      const r = await this.viewer.metadata(s.desc.id);
      if (r.status === METADATA_OK && r.bytes.length > 0) {
        appendFileSync(s.file, r.bytes);
        continue;
      }
      // A closed metadata stream is forgotten by the relay once read to its end.
      if (r.status === METADATA_ERR) s.hup = true;
      return;
    }
  }

  /** One index of a stream, and its packet when there is one: whether it copied something. */
  async step(s: Stream): Promise<{ copied: boolean; newStreams: boolean }> {
    const ix = await this.viewer.nextIndex(s.desc.id);
    const newStreams = (ix.flags & FLAG_NEW_STREAM) !== 0;
    if ((ix.flags & FLAG_NEW_METADATA) !== 0) await this.copyMetadata(this.metadata.get(s.trace));
    if (ix.status === IndexStatus.HUP) s.hup = true;
    if (ix.status === IndexStatus.ERR) throw new LttError('LIVE_RELAY', `the relay at ${this.where} could not give the next index of stream ${s.desc.id} (${s.desc.path}/${s.desc.channel})`);
    if (ix.status !== IndexStatus.OK) return { copied: false, newStreams };
    if (ix.packetSize % 8n !== 0n || ix.packetSize === 0n || ix.packetSize > 8n * (256n << 20n)) {
      this.viewer.protocolError(`packet of ${ix.packetSize} bits in stream ${s.desc.id}`);
    }
    const length = Number(ix.packetSize / 8n);
    for (;;) {
      const p = await this.viewer.packet(s.desc.id, ix.offset, length);
      if ((p.flags & FLAG_NEW_METADATA) !== 0) await this.copyMetadata(this.metadata.get(s.trace));
      if (p.status === PACKET_OK) {
        if (p.bytes.length !== length) this.viewer.protocolError(`packet of ${p.bytes.length} bytes for ${length} asked`);
        appendFileSync(s.file, p.bytes);
        this.gotData();
        return { copied: true, newStreams };
      }
      if (p.status !== PACKET_RETRY) throw new LttError('LIVE_RELAY', `the relay at ${this.where} could not give the packet at offset ${ix.offset} of ${s.desc.path}/${s.desc.channel}: status ${p.status}`);
      await sleep(100);
    }
  }

  async run(retryMs: number): Promise<void> {
    while (!this.closed) {
      let copied = false;
      let newStreams = false;
      for (const s of this.data) {
        if (s.hup || this.closed) continue;
        const r = await this.step(s);
        copied ||= r.copied;
        newStreams ||= r.newStreams;
      }
      if (newStreams || !copied) {
        for (const id of [...this.open]) {
          const r = await this.viewer.newStreams(id);
          if (r.status === NEW_STREAMS_HUP) this.open.delete(id);
          else if (r.status !== NEW_STREAMS_OK) throw new LttError('LIVE_RELAY', `the relay at ${this.where} could not list the new streams: status ${r.status}`);
          else await this.add(id, r.streams);
        }
      }
      if (this.open.size === 0 && this.data.every((s) => s.hup)) return;
      if (!copied) await sleep(retryMs);
    }
  }
}

export async function mirrorLiveSession(opts: LiveSourceOptions, dir: string): Promise<LiveMirror> {
  mkdirSync(dir, { recursive: true });
  let mirror: Mirror | undefined;
  const viewer = await attachLiveSession(opts, SEEK_BEGINNING, (v, ids) => {
    mirror = new Mirror(v, ids, dir, v.where);
    return mirror;
  });
  const m = mirror!;
  const done = m.run(opts.retryMs ?? 200).finally(() => {
    m.gotData();
    viewer.close();
  });
  // A copy that fails is reported through `done`; firstData only says when to start reading.
  done.catch(() => undefined);
  return {
    firstData: m.firstData,
    done,
    close: () => {
      m.closed = true;
      viewer.close();
    },
  };
}
