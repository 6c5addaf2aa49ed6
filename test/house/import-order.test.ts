// The house rule over src/: a component (a folder of src/, or a file directly in src/) imports only components
// below it in LAYERS, and no files import each other in a circle. Like Perfetto UI's import check, this keeps
// the layering from eroding one convenient import at a time: the next climb fails CI with the file and import.
//
// Imports are read with TypeScript's own pre-processor (static `import`/`export ... from`, side-effect imports,
// dynamic `import()` with a literal; type-only imports count too: they couple folders just the same). Package
// entries (package.json "exports") are facades over the layers: they may import any component, and nothing in
// src/ imports them except another entry.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** Bottom to top. Components of one layer do not import each other. Keep docs/architecture.md in step. */
const LAYERS: readonly (readonly string[])[] = [
  ['errors.ts'],
  ['make-directories.ts', 'star-glob.ts', 'daemon-start.ts', 'start-worker.ts', 'thread-id.ts'],
  ['ctf'], // model, metadata, decoding and its messages, writer and its sinks (owned output)
  ['graph', 'control', 'ftrace'], // reading graph | control and app protocol | tracefs access, ftrace formats, LTTng shaping
  ['relay'], // ltt-relayd: LTTng's consumer-to-relay and live viewer protocols, the relay's stored traces
  ['view', 'filter'], // babeltrace2's text | LTTng's filter language (tracefs filters, predicates)
  ['engine'], // a trace as SQL tables (DuckDB): import from the reader, derived tables, cache
  ['analyses', 'export'], // LTTng's analyses as queries | Parquet and Trace Event exports
  ['web'], // ltt web: the timeline server over the tables and analyses, and its page (src/web/page: browser code)
  ['consumer'], // kernel consumer: trace_pipe_raw -> CTF, statedump, contexts, thread table
  ['kernel', 'ust'], // tracefs control (KernelSession) | ltt/ust, its agent and consumer worker
  ['auto'], // ltt/auto: an unmodified Node app's requests as ltt/ust events
  ['session-config'], // saved sessions (LTTng's session XML) and loading them through a control client
  ['sessiond', 'cli'], // two processes: cli reaches the daemon through control only
];

type ImportGraph = ReadonlyMap<string, readonly { spec: string; target: string | undefined }[]>;

/** Repo root, whether this runs from test/house (tsx) or dist/test/house (compiled). */
function repoRoot(): string {
  return fileURLToPath(new URL(import.meta.url.includes('/dist/test/') ? '../../../' : '../../', import.meta.url));
}

function listTs(dir: string, root: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listTs(path, root));
    // .cts: a CommonJS module (src/cli/bundle-loader.cts), imported as .cjs.
    else if (/\.c?ts$/.test(name) && !/\.d\.c?ts$/.test(name)) out.push(relative(root, path).split('\\').join('/'));
  }
  return out;
}

/** Every src file's relative imports, resolved to src files (undefined: resolves to no file). */
function readImportGraph(root: string): ImportGraph {
  const files = new Set(listTs(join(root, 'src'), root));
  const graph = new Map<string, { spec: string; target: string | undefined }[]>();
  for (const file of [...files].sort()) {
    const text = readFileSync(join(root, file), 'utf8');
    const specs = ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
    graph.set(
      file,
      specs
        // Style sheets the page's bundler takes in (src/web/page) are no code.
        .filter((s) => s.startsWith('.') && !s.endsWith('.css'))
        .map((spec) => {
          const path = posix.normalize(posix.join(posix.dirname(file), spec)).replace(/\.js$/, '.ts').replace(/\.cjs$/, '.cts');
          return { spec, target: files.has(path) ? path : undefined };
        }),
    );
  }
  return graph;
}

/** 'src/ftrace/tracefs.ts' -> 'ftrace'; 'src/errors.ts' -> 'errors.ts'. */
function componentOf(file: string): string {
  return file.split('/')[1]!;
}

/** Climbs, imports between components of one layer, imports of entries, unknown components, unresolved imports. */
function layerViolations(graph: ImportGraph, layers: readonly (readonly string[])[], entries: ReadonlySet<string>): string[] {
  const rank = new Map<string, number>();
  layers.forEach((layer, i) => layer.forEach((c) => rank.set(c, i)));
  const out: string[] = [];
  for (const [file, imports] of graph) {
    const from = componentOf(file);
    if (!rank.has(from) && !entries.has(file)) out.push(`${file}: component '${from}' is in no layer (add it to LAYERS)`);
    for (const { spec, target } of imports) {
      if (target === undefined) {
        out.push(`${file} imports '${spec}', which is no file in src/`);
        continue;
      }
      const to = componentOf(target);
      if (entries.has(target)) {
        if (!entries.has(file)) out.push(`${file} imports '${spec}': ${target} is a package entry (import what it re-exports)`);
        continue;
      }
      if (from === to || entries.has(file) || !rank.has(from) || !rank.has(to)) continue;
      if (rank.get(to)! > rank.get(from)!) out.push(`${file} imports '${spec}': ${from} may not import ${to} (a higher layer)`);
      else if (rank.get(to) === rank.get(from)) out.push(`${file} imports '${spec}': ${from} and ${to} are one layer and may not import each other`);
    }
  }
  return out;
}

/** Each circle of files (a strongly connected component of the graph), as one concrete path a -> b -> ... -> a. */
function importCycles(graph: ImportGraph): string[] {
  const next = (f: string) => (graph.get(f) ?? []).flatMap((i) => (i.target !== undefined ? [i.target] : []));
  // Tarjan's algorithm.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const sccs: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of next(v)) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || next(v).includes(v)) sccs.push(scc.sort());
    }
  };
  for (const f of graph.keys()) if (!index.has(f)) visit(f);
  // A shortest way from the circle's first file back to itself, inside the circle.
  return sccs.map((scc) => {
    const inScc = new Set(scc);
    const start = scc[0]!;
    const prev = new Map<string, string>();
    const queue = [start];
    let end: string | undefined;
    while (queue.length > 0 && end === undefined) {
      const v = queue.shift()!;
      for (const w of next(v)) {
        if (w === start) {
          end = v;
          break;
        }
        if (inScc.has(w) && !prev.has(w)) {
          prev.set(w, v);
          queue.push(w);
        }
      }
    }
    const path = [start];
    for (let v = end!; v !== start; v = prev.get(v)!) path.splice(1, 0, v);
    return `${path.join(' -> ')} -> ${start}` + (scc.length > path.length ? ` (${scc.length} files in this circle)` : '');
  });
}

function packageEntries(root: string): Set<string> {
  const exports = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).exports as Record<string, string>;
  return new Set(Object.values(exports).map((p) => posix.normalize(p).replace(/^dist\//, '').replace(/\.js$/, '.ts')));
}

test('folders import only downward (LAYERS) and package entries are imported by no src file', () => {
  const listed = LAYERS.flat();
  assert.equal(new Set(listed).size, listed.length, 'a component is in two layers');
  const root = repoRoot();
  const violations = layerViolations(readImportGraph(root), LAYERS, packageEntries(root));
  assert.deepEqual(violations, [], `imports against the layers:\n  ${violations.join('\n  ')}`);
});

test('the browser page (src/web/page) imports no Node module and nothing of src/ but itself and the web protocol', () => {
  const root = repoRoot();
  const out: string[] = [];
  for (const file of listTs(join(root, 'src/web/page'), root)) {
    for (const f of ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true).importedFiles) {
      const spec = f.fileName;
      const target = spec.startsWith('.') ? posix.normalize(posix.join(posix.dirname(file), spec)) : undefined;
      const allowed = target ? target.startsWith('src/web/page/') || target === 'src/web/protocol.js' : !spec.startsWith('node:') && spec.startsWith('uplot');
      if (!allowed) out.push(`${file} imports '${spec}'`);
    }
  }
  assert.deepEqual(out, [], 'the page runs in a browser');
});

test('no files in src import each other in a circle', () => {
  const cycles = importCycles(readImportGraph(repoRoot()));
  assert.deepEqual(cycles, [], `import circles:\n  ${cycles.join('\n  ')}`);
});

test('the checks catch a climb, a same-layer import, an entry import and a circle', () => {
  const edge = (spec: string, target: string | undefined) => ({ spec, target });
  const graph: ImportGraph = new Map([
    ['src/ctf/a.ts', [edge('../graph/b.js', 'src/graph/b.ts')]],
    ['src/graph/b.ts', [edge('../ctf/a.js', 'src/ctf/a.ts'), edge('../control/c.js', 'src/control/c.ts')]],
    ['src/control/c.ts', [edge('../ctf/index.js', 'src/ctf/index.ts'), edge('./gone.js', undefined)]],
    ['src/ctf/index.ts', [edge('../graph/b.js', 'src/graph/b.ts')]],
  ]);
  assert.deepEqual(layerViolations(graph, [['ctf'], ['graph', 'control']], new Set(['src/ctf/index.ts'])), [
    "src/ctf/a.ts imports '../graph/b.js': ctf may not import graph (a higher layer)",
    "src/graph/b.ts imports '../control/c.js': graph and control are one layer and may not import each other",
    "src/control/c.ts imports '../ctf/index.js': src/ctf/index.ts is a package entry (import what it re-exports)",
    "src/control/c.ts imports './gone.js', which is no file in src/",
  ]);
  assert.deepEqual(importCycles(graph), [
    'src/control/c.ts -> src/ctf/index.ts -> src/graph/b.ts -> src/control/c.ts (4 files in this circle)',
  ]);
});
