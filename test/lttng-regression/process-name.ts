// Imported first by the test apps: their name (/proc/self/comm, the procname ltt/ust registers and records) must
// be the C app's, which is the script's own name, before ltt/ust loads and registers.
import { basename } from 'node:path';

process.title = basename(process.argv[1] ?? 'gen-ust-events', '.js');
