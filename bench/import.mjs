// The engine's import alone, phase by phase, on a trace: decoding into the raw tables (importTraces), the
// derived tables (buildTables), writing the cache file (CHECKPOINT), as openTraceDb does them on a cold cache.
//
// Contract: `node bench/import.mjs --trace DIR [--runs R] [--base ROOT]` (after `npx tsc`). Prints per phase
// wall and CPU seconds (process.cpuUsage: this process and DuckDB's threads), events per wall second and per
// CPU-second, each build's medians over its runs, and the
// load average (the machine is shared: CPU seconds compare across runs, wall seconds less so). --base ROOT
// runs another checkout's build (ROOT/dist) alternately with this one, R times each, and prints the CPU ratios.
// --keep PREFIX keeps each run's database as PREFIX-{this,base}-RUN.duckdb, its Parquet files in
// PREFIX-{this,base}-RUN.duckdb.parquet/ (bench/compare-tables.mjs compares two).
// bench/analyses.mjs measures the same import through `ltt query`, beside lttng-analyses.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function fail(msg) {
  process.stderr.write(`bench/import: ${msg}\n`);
  process.exit(1);
}

/** One import in this process (the child mode): prints one JSON line of phase times. */
async function child(root, trace, keep) {
  // By require(), as ltt loads it (an ES import lexes its CommonJS files first).
  const { DuckDBInstance } = createRequire(import.meta.url)(path.join(ROOT, 'node_modules', '@duckdb', 'node-api'));
  const { importTraces } = await import(path.join(root, 'dist', 'src', 'engine', 'import-trace.js'));
  const { buildTables } = await import(path.join(root, 'dist', 'src', 'engine', 'derived-tables.js'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ltt-bench-import-'));
  try {
    const db = await DuckDBInstance.create(keep ?? path.join(dir, 'tables.duckdb'));
    const conn = await db.connect();
    const phases = {};
    let c0 = process.cpuUsage();
    let t0 = performance.now();
    const lap = (name) => {
      const c = process.cpuUsage(c0);
      phases[name] = { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
      c0 = process.cpuUsage();
      t0 = performance.now();
    };
    // The Parquet files of the events and payloads (kept beside a kept database); older builds ignore the folder.
    const files = keep ? `${keep}.parquet` : path.join(dir, 'files');
    fs.rmSync(files, { recursive: true, force: true });
    fs.mkdirSync(files, { recursive: true });
    const { events } = await importTraces(conn, [trace], undefined, files);
    lap('decode+load');
    // A side connection for the per-name views (older builds ignore it).
    const side = await db.connect();
    await buildTables(conn, files, side);
    side.closeSync();
    lap('tables');
    await conn.run('CHECKPOINT');
    lap('cache write');
    conn.closeSync();
    db.closeSync();
    process.stdout.write(`${JSON.stringify({ events, phases })}\n`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function parseArgs(argv) {
  const o = { trace: undefined, runs: 1, base: undefined, child: undefined, keep: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--trace') o.trace = argv[++i];
    else if (a === '--base') o.base = path.resolve(argv[++i] ?? fail('--base needs a folder'));
    else if (a === '--child') o.child = argv[++i];
    else if (a === '--keep') o.keep = path.resolve(argv[++i] ?? fail('--keep needs a path prefix'));
    else if (a === '--runs') {
      o.runs = Number(argv[++i]);
      if (!Number.isInteger(o.runs) || o.runs <= 0) fail('--runs needs a positive integer');
    } else fail(`unknown argument ${a} (usage: node bench/import.mjs --trace DIR [--runs R] [--base ROOT] [--keep PREFIX])`);
  }
  if (!o.trace) fail('--trace DIR is required');
  return o;
}

const o = parseArgs(process.argv.slice(2));
if (o.child) {
  await child(o.child, o.trace, o.keep).catch((err) => fail(err.message));
} else {
  const builds = [['this', ROOT], ...(o.base ? [['base', o.base]] : [])];
  for (const [, root] of builds) if (!fs.existsSync(path.join(root, 'dist', 'src', 'engine', 'import-trace.js'))) fail(`not built: ${root} (run npx tsc)`);
  const totals = new Map(builds.map(([name]) => [name, []]));
  const walls = new Map(builds.map(([name]) => [name, []]));
  let events = 0;
  for (let run = 0; run < o.runs; run++) {
    for (const [name, root] of builds) {
      const load = os.loadavg()[0].toFixed(1);
      const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--trace', o.trace, '--child', root, ...(o.keep ? ['--keep', `${o.keep}-${name}-${run + 1}.duckdb`] : [])], { encoding: 'utf8', timeout: 3_600_000 });
      const r = JSON.parse(out.trim().split('\n').pop());
      const cpu = Object.values(r.phases).reduce((a, p) => a + p.cpu, 0);
      const wall = Object.values(r.phases).reduce((a, p) => a + p.wall, 0);
      totals.get(name).push(cpu);
      walls.get(name).push(wall);
      events = r.events;
      const parts = Object.entries(r.phases).map(([k, p]) => `${k} ${p.cpu.toFixed(2)} cpu/${p.wall.toFixed(2)} wall`).join(', ');
      console.log(`${name.padEnd(4)} run ${run + 1} (load ${load}): ${(r.events / 1e6).toFixed(2)} M events; ${parts}; total ${cpu.toFixed(2)} cpu s ` +
        `(${(r.events / cpu / 1e6).toFixed(2)} M events per CPU-second), ${wall.toFixed(2)} wall s (${(r.events / wall / 1e6).toFixed(2)} M events/s; goal 2)`);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const [name] of builds) {
    const [cpu, wall] = [median(totals.get(name)), median(walls.get(name))];
    console.log(`${name.padEnd(4)} median of ${o.runs}: ${wall.toFixed(2)} wall s (${(events / wall / 1e6).toFixed(2)} M events per wall second; goal 2), ` +
      `${cpu.toFixed(2)} CPU s (${(events / cpu / 1e6).toFixed(2)} M events per CPU-second)`);
  }
  if (o.base) {
    const [t, b] = [median(totals.get('this')), median(totals.get('base'))];
    const [tw, bw] = [median(walls.get('this')), median(walls.get('base'))];
    console.log(`median CPU seconds: this ${t.toFixed(2)}, base ${b.toFixed(2)}: x${(b / t).toFixed(2)}; median wall seconds: this ${tw.toFixed(2)}, base ${bw.toFixed(2)}: x${(bw / tw).toFixed(2)}`);
  }
}
