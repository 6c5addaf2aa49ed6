// Imported first by gen-ust-events.ts: its name (/proc/self/comm, the procname ltt/ust registers and records)
// must be the C app's before ltt/ust loads and registers.
process.title = 'gen-ust-events';
