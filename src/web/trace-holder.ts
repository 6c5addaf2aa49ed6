// The trace `ltt web` shows, kept open as DuckDB tables (src/engine), and kept current: the trace folders are
// polled, and when their files change (a session recording) the tables are imported again and swapped in;
// `version` tells the page to lay itself out again. A trace that cannot be read leaves its one-line reason in
// `error` (the page shows it), and the last good tables stay until a later import succeeds.
//
// While the first import runs, an overview pass (trace-overview.ts, in a worker thread: overview-client.ts)
// reads the trace's scheduling on its own: once it is done, and until the tables are, the page is served from
// it (`overview`, `loading`: the fraction of the trace the import has read).

import { readdirSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { mayBeCached, type TraceDb } from '../engine/trace-db.js';
import { TIMELINE_TABLES, keptShape, type TraceShape } from './timeline-queries.js';
import { startOverview, type OverviewPass } from './overview-client.js';
import type { Overview } from './trace-overview.js';

export interface OpenTables {
  readonly db: TraceDb;
  readonly shape: TraceShape;
  /** The first screen's tracks (protocol.ts FirstScreen), as JSON text. */
  readonly first: string;
}

export interface TraceHolderOptions {
  readonly cacheDir?: string;
  readonly noCache?: boolean;
  /** No overview pass while the first import runs (the page waits for the tables). */
  readonly noOverview?: boolean;
  /** How often the folders are checked for new data, ms (0: never). */
  readonly pollMs: number;
  /** Told each import's outcome: undefined when it succeeded, else the reason. */
  readonly onImport?: (error: string | undefined, tables: OpenTables | undefined) => void;
}

/** Sizes and mtimes of the files below `paths`: changes when a recorder writes. */
function signature(paths: readonly string[]): string {
  const parts: string[] = [];
  const walk = (p: string, depth: number): void => {
    let st: Stats;
    try {
      st = statSync(p);
    } catch {
      return;
    }
    if (st.isDirectory() && depth < 16) for (const name of readdirSync(p).sort()) walk(join(p, name), depth + 1);
    else if (st.isFile()) parts.push(`${p}:${st.size}:${st.mtimeMs}`);
  };
  for (const p of paths) walk(p, 0);
  return parts.join('\n');
}

export class TraceHolder {
  version = 0;
  error: string | undefined;
  private tables: OpenTables | undefined;
  /** The overview pass's, while the first import runs. */
  overview: { readonly ov: Overview; readonly first: string } | undefined;
  /** The fraction of the trace the import read, while the page is served from the overview. */
  loading: number | undefined;
  private seen = '';
  private timer: NodeJS.Timeout | undefined;
  private importing: Promise<void> | undefined;
  private waiters: (() => void)[] = [];

  constructor(
    readonly paths: readonly string[],
    private readonly opts: TraceHolderOptions,
  ) {}

  /** The first import; then polling starts. */
  async start(): Promise<void> {
    await this.refresh();
    if (this.opts.pollMs > 0) {
      this.timer = setInterval(() => void this.refresh(), this.opts.pollMs);
      this.timer.unref();
    }
  }

  current(): OpenTables | undefined {
    return this.tables;
  }

  /**
   * Resolves at the end of the next import, or after `ms`; at once when there are tables (`overview`: or an
   * overview to show until they come).
   */
  whenImported(ms: number, overview = false): Promise<void> {
    if (this.tables || (overview && this.overview)) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      setTimeout(resolve, ms).unref();
    });
  }

  /** An import is under way (the tables may come: worth waiting for). */
  get importingNow(): boolean {
    return this.importing !== undefined;
  }

  /** Imports again when the files changed since the last import (one import at a time). */
  refresh(): Promise<void> {
    if (this.importing) return this.importing;
    const sig = signature(this.paths);
    if (sig === this.seen) return Promise.resolve();
    this.importing = this.load(sig).finally(() => (this.importing = undefined));
    return this.importing;
  }

  private async load(sig: string): Promise<void> {
    try {
      // The overview while the first import runs. A trace sure to be imported anew has it first (a second or
      // so of one CPU): the import then takes none of the CPU the first screen waits for. One that may be
      // cached is opened at once, and has an overview only once its import proved it was not (its progress).
      const overview = !this.tables && !this.opts.noOverview;
      let pass: OverviewPass | undefined;
      if (overview && !this.maybeCached()) {
        pass = this.startOverview();
        await pass.result.catch(() => undefined);
      }
      // DuckDB's native module is loaded here, after the server listens: the page loads meanwhile.
      const { openTraceDb } = await import('../engine/trace-db.js');
      const progress = (fraction: number) => {
        this.loading = fraction;
        if (overview) pass ??= this.startOverview();
      };
      const db = await openTraceDb(this.paths, { cacheDir: this.opts.cacheDir, noCache: this.opts.noCache, extend: TIMELINE_TABLES, progress }).finally(() => pass?.stop());
      let kept: { shape: TraceShape; first: string };
      try {
        kept = await keptShape(db.conn);
      } catch (err) {
        db.close();
        throw err;
      }
      const old = this.tables;
      this.tables = { db, ...kept };
      this.overview = undefined;
      this.loading = undefined;
      this.error = undefined;
      // Requests in flight on the old tables finish first.
      if (old) setTimeout(() => old.db.close(), 10_000).unref();
    } catch (err) {
      this.error = (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
      // An overview shown stays, with the reason its tables did not come.
      this.loading = undefined;
    }
    this.seen = sig;
    this.version++;
    this.opts.onImport?.(this.error, this.tables);
    for (const w of this.waiters.splice(0)) w();
  }

  /**
   * Runs the overview pass beside the import: when it ends first, the page is served from it (a new version).
   * Its failure is not the trace's: the import says what is wrong with a trace.
   */
  private startOverview(): OverviewPass {
    const pass = startOverview(this.paths);
    pass.result.then(
      ({ overview, first }) => {
        if (this.tables) return;
        this.overview = { ov: overview, first };
        this.loading ??= 0;
        this.version++;
        for (const w of this.waiters.splice(0)) w();
      },
      () => undefined,
    );
    return pass;
  }

  /**
   * Whether the trace's tables may be in the cache: a file of the engine's for these folders (trace-db.ts names
   * them by a hash of the folders' real paths, then of their files); false when none is, or with no cache.
   */
  private maybeCached(): boolean {
    return !this.opts.noCache && mayBeCached(this.paths, this.opts.cacheDir);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.tables?.db.close();
    this.tables = undefined;
  }
}
