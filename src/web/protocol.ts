// What the `ltt web` server and its page exchange (JSON over HTTP GET, /api/*). Types only: the page's bundle
// and the server both import this file, and neither drags the other's modules in.
//
// Times on the wire are ns from the trace's first event (`Info.origin`, a decimal string of the absolute ns
// from the clock's origin): doubles are exact up to 104 days, and the canvas maths stays in numbers.

/**
 * GET /api/info[?first=1][&wait=1]: what the page lays out once (wait=1: while the trace is being read, the
 * answer waits a little for it) (and again when `version` changes: a live trace grew). */
export interface Info {
  /** A one-line reason when the trace cannot be shown (missing, broken): the page says it and nothing else. */
  readonly error?: string;
  readonly version: number;
  readonly title: string;
  /** Absolute ns of time 0 on the wire. */
  readonly origin: string;
  readonly duration: number;
  readonly events: number;
  readonly cpus: readonly number[];
  /** Busiest process first; threads busiest first. */
  readonly processes: readonly ProcessInfo[];
  /** Set when the server listens on an address other than loopback (`--host`). */
  readonly exposedAt?: string;
  /** The trace folder is polled for new data (a recording session). */
  readonly live: boolean;
  readonly lost: readonly LostSpan[];
  /** The trace has ltt/auto's HTTP requests: thread rows have a band for them. */
  readonly hasRequests: boolean;
  /**
   * Set while the trace's tables are being imported and the page is served from the overview (the CPUs and the
   * threads' running slices only, read from the scheduling events): the fraction of the trace read so far.
   */
  readonly loading?: number;
  /** With ?first=1: the first screen's tracks, precomputed with the trace's tables (no query to wait for). */
  readonly first?: FirstScreen;
}

/** The whole trace's tracks for the first threads of the layout. */
export interface FirstScreen {
  readonly tids: readonly number[];
  readonly tracks: Tracks;
}

export interface ProcessInfo {
  readonly pid: number;
  readonly name: string;
  /** lanes: how many request lanes the thread's row needs (absent: one). */
  readonly threads: readonly { tid: number; name: string; lanes?: number }[];
}

export interface LostSpan {
  readonly begin: number;
  readonly end: number;
  readonly kind: string;
  readonly count: number | null;
  readonly stream: string;
}

/**
 * Columns of slices: slice i runs from ts[i] for dur[i] ns on `key[i]` (a CPU or a tid). `n[i]` > 1: several
 * slices shorter than a pixel merged, labelled by `val[i]`, the one that lasted longest there.
 */
export interface Slices {
  readonly key: number[];
  readonly ts: number[];
  readonly dur: number[];
  readonly val: number[];
  readonly n: number[];
  /** The lane of the track each slice is drawn in (requests: overlapping ones on a thread), when it has lanes. */
  readonly lane?: number[];
}

/** GET /api/tracks?b=&e=&px=&tids=: levels of detail of the visible range for the visible tracks. */
export interface Tracks {
  readonly b: number;
  readonly e: number;
  /** ns per pixel of the request. */
  readonly q: number;
  /** key: cpu, val: tid (0: idle). */
  readonly cpus: Slices;
  /** key: tid, val: index in STATES. */
  readonly states: Slices;
  /** key: tid, val: index in `names`. */
  readonly syscalls: Slices;
  /** key: cpu, val: irq number (softirqs: -1 - vec). */
  readonly irqs: Slices;
  /** Events of the user-space domain (ltt/ust) as instants: key: tid, val: index in `names`, dur 0. */
  readonly ust: Slices;
  /** ltt/auto's HTTP requests on the thread that started them: key: tid, val: index in `names` (METHOD PATH STATUS). */
  readonly requests: Slices;
  readonly names: readonly string[];
  /** Time the server's queries took, ms. */
  readonly queryMs: number;
}

export const STATES = ['running', 'runnable', 'blocked'] as const;

/** GET /api/event?at=&key=&track=: the event at a place of the timeline, as `ltt view` prints it. */
export interface EventDetail {
  readonly title: string;
  readonly ts: number;
  readonly dur?: number;
  readonly fields: readonly [string, string][];
  /** `ltt view` lines of the events at that time stamp, the event itself first. */
  readonly text: readonly string[];
}

/** GET /api/range?b=&e=: the analyses of a selected range. */
export interface RangeAnalyses {
  readonly b: number;
  readonly e: number;
  readonly cpu: readonly { tid: number; pid: number | null; name: string; ns: number; ratio: number }[];
  readonly cpus: readonly { cpu: number; ratio: number }[];
  readonly syscalls: readonly { name: string; count: number; min: number; avg: number; max: number; total: number }[];
  readonly schedLatency: readonly { tid: number; name: string; count: number; min: number; avg: number; max: number }[];
  /** Wakeup latencies over time: [time, latency ns] (the plot). */
  readonly latencies: readonly [number, number][];
  /** ltt/auto's requests in the range, as `ltt analyze requests` counts them (absent: the trace has none). */
  readonly requests?: RangeRequests;
  readonly notes: readonly string[];
}

export interface RangeRequests {
  readonly count: number;
  readonly unfinished: number;
  /** Busiest first; ns. */
  readonly routes: readonly { route: string; count: number; p50: number; p99: number; max: number; onCpu: number; queued: number; idle: number }[];
  /** Slowest first; ns. */
  readonly slowest: readonly { pid: number; req: number; tid: number; label: string; wall: number; onCpu: number; queued: number; idle: number }[];
}

/** GET /api/search?q=: events by name (substring) or field (`field=value`, `field~text`). */
export interface SearchResult {
  readonly hits: readonly { id: number; ts: number; name: string; cpu: number | null; tid: number | null; what: string }[];
  readonly truncated: boolean;
  readonly error?: string;
}
