// The Parquet writer thread of parquet-writer.ts: one ParquetFile (parquet-file.ts) per open file, fed the
// main thread's column chunks. Answers { done } after 'end' (every file closed), or { error } at the first
// failure (then ignores the rest), and ends.

import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { Column } from './column-chunk.js';
import { ParquetFile } from './parquet-file.js';
import { FAILED, PENDING, type WriterReply, type WriterRequest } from './parquet-writer.js';
import { PAIR_RET, PairWriter } from './syscall-pairs.js';

const files = new Map<number, ParquetFile>();
/** The system call pairing of a file's chunks (the events file's), by file. */
const pairs = new Map<number, PairWriter>();
let failed = false;
/** Shared with the main thread: chunks in flight, and whether this thread failed (parquet-writer.ts). */
const state = (workerData as { state: Int32Array }).state;
/** Where a chunk's value buffers go back to the main thread once written (ParquetWriters.take()). */
const back = (workerData as { back: MessagePort }).back;

function reply(r: WriterReply): void {
  parentPort!.postMessage(r);
  parentPort!.close();
  back.close();
}

parentPort!.on('message', (m: WriterRequest) => {
  if (failed) return;
  try {
    switch (m.op) {
      case 'open':
        files.set(m.file, ParquetFile.create(m.path, m.columns));
        if (m.pairs) pairs.set(m.file, new PairWriter(m.pairs));
        break;
      case 'chunk': {
        const f = files.get(m.file)!;
        const cols = m.parts.map((p, i) => new Column((f.columns[i] ?? PAIR_RET).kind, m.n, p.bytes, p.valid, p.strings));
        // The pairing's ret column (the last, past the file's) is not written.
        f.chunk(cols.length > f.columns.length ? cols.slice(0, f.columns.length) : cols, m.n);
        pairs.get(m.file)?.rows(cols, m.n, m.adopts);
        // Written out (the file keeps copies): the buffers can be filled again.
        const buffers = m.parts.map((p) => p.bytes);
        back.postMessage(buffers, buffers);
        Atomics.sub(state, PENDING, 1);
        Atomics.notify(state, PENDING);
        break;
      }
      case 'close':
        files.get(m.file)!.close();
        files.delete(m.file);
        pairs.get(m.file)?.close();
        pairs.delete(m.file);
        break;
      case 'end':
        for (const f of files.values()) f.close();
        files.clear();
        for (const w of pairs.values()) w.close();
        pairs.clear();
        reply({ done: true });
        break;
    }
  } catch (err) {
    failed = true;
    Atomics.store(state, FAILED, 1);
    Atomics.notify(state, PENDING);
    reply({ error: (err instanceof Error ? err.message : String(err)).split('\n')[0]! });
  }
});
