// The `ltt` package's library entry: read traces (the reading graph), write CTF, and drive the session daemon.
// The Node tracepoint API has its own entry, 'ltt/ust', so that instrumented apps load only what they need.

export { openTrace, events, toPlainEvent, type OpenTraceOptions, type OpenedTrace } from './ctf/index.js';
export { parseMetadata } from './ctf/metadata.js';
export { CtfTraceWriter, StreamWriter, FileTraceSink } from './ctf/writer/index.js';
export { runView } from './view/run-view.js';
export { LttError, isLttError } from './errors.js';
export type * from './ctf/ir/trace-class.js';
export type * from './ctf/ir/message.js';
