// The name of the BroadcastChannel every thread of a traced process shares (tracer.ts, consumer-worker.ts,
// app-agent-worker.ts): session start/stop/rules go to the threads, ring and event announcements to the writers.
// In its own module so the consumer and agent workers do not load the tracer to learn it.
export const CHANNEL_NAME = 'ltt-ust';
