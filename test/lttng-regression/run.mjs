#!/usr/bin/env node
// Runs LTTng 2.13's own regression tests against ltt:
//   node test/lttng-regression/run.mjs TREE [--json] [--keep] [--tap] [--timeout S] [--logs DIR] [--times FILE] [TEST...]
// TREE is an lttng-tools source tree (read only: its tests/ and the schemas under src/common are copied into a
// scratch folder). TEST is a path under tests/regression (a test script, or a folder whose test_* scripts all
// run); default: the tests ltt aims to pass (DEFAULT_TESTS). Where the scripts look for LTTng's programs, the
// scratch tree holds small wrappers that run ltt's (bin/ltt as lttng, bin/ltt-sessiond as lttng-sessiond,
// the gen-ust-events and gen-ust-nevents test apps on ltt/ust); the XML tools are compiled from the tree with gcc and libxml2.
// A case needing what cannot exist here (lttng-modules) is skipped in the scratch copy with the suite's own
// `skip`, its reason printed (SKIPS). Each script runs in its own PID, mount and network namespaces (unshare), with /run a fresh tmpfs (root's
// daemon folder) and HOME a fresh folder, so daemons, autoloaded sessions and pgrep see only that test.
// Prints one line per script: passed/planned, skipped and failed counts (with --json: one JSON object); --tap
// adds the scripts' TAP as it comes (a long script can be followed) and their stderr, --logs DIR keeps each
// script's ltt-sessiond and ltt-relayd logs there, --times FILE appends a line per run of lttng, babeltrace and the test apps
// (start and end in seconds since the epoch, exit status, command line) to FILE, to see where a script's time goes
// (an app killed by a signal writes none).
// Needs root (namespaces) and a build (dist/).

import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export const DEFAULT_TESTS = [
  'tools/save-load/test_save',
  'tools/save-load/test_load',
  'tools/save-load/test_autoload',
  'tools/filtering/test_invalid_filter',
  'tools/filtering/test_unsupported_op',
  'tools/mi/test_mi',
  'ust/before-after/test_before_after',
  'ust/buffers-pid/test_buffers_pid',
  'tools/snapshots/test_ust_fast',
  'tools/snapshots/test_ust_long',
  'tools/clear/test_ust',
  'tools/rotation/test_ust',
  'tools/wildcard/test_event_wildcard',
];

function usage(message) {
  process.stderr.write(`Error: ${message}\nUsage: node test/lttng-regression/run.mjs TREE [--json] [--keep] [--tap] [--timeout S] [--logs DIR] [--times FILE] [TEST...]\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { tree: undefined, tests: [], json: false, keep: false, tap: false, timeoutS: 900, logs: undefined, times: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') opts.json = true;
    else if (a === '--keep') opts.keep = true;
    else if (a === '--tap') opts.tap = true;
    else if (a === '--logs') opts.logs = resolve(argv[++i] ?? usage('--logs needs a folder'));
    else if (a === '--times') opts.times = resolve(argv[++i] ?? usage('--times needs a file'));
    else if (a === '--timeout') {
      opts.timeoutS = Number(argv[++i]);
      if (!(opts.timeoutS > 0)) usage('--timeout needs a number of seconds');
    } else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else if (opts.tree === undefined) opts.tree = resolve(a);
    else opts.tests.push(a);
  }
  if (opts.tree === undefined) usage('TREE is missing');
  if (!existsSync(join(opts.tree, 'tests/regression')) || !existsSync(join(opts.tree, 'tests/utils/utils.sh'))) {
    usage(`${opts.tree} is not an lttng-tools source tree (no tests/regression, tests/utils/utils.sh)`);
  }
  if (opts.tests.length === 0) opts.tests = DEFAULT_TESTS;
  return opts;
}

function writeExecutable(path, text) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  chmodSync(path, 0o755);
}

// The scripts find processes by the base name of argv[0] (utils.sh: lttng_pgrep), hence `exec -a`; ltt's
// daemon keeps that name when it daemonizes. LTTng's environment variables are ltt's under other names.
function wrapper(name, target, extraEnv = '', times = undefined) {
  const run = `exec -a ${name} "${process.execPath}" "${target}" "$@"`;
  return `#!/bin/bash
[ -n "$LTTNG_HOME" ] && export LTT_HOME="$LTTNG_HOME"
${extraEnv}${times ? timed(run, name, times) : run}
`;
}

/**
 * A test app's wrapper: scripts use the app's pid ($!: signals, `$ctx.vpid ==` filters), so it execs the app,
 * which writes its own --times line at exit (test-app.ts) when told where.
 */
function appWrapper(name, target, extraEnv, times) {
  const timing = times ? `export LTT_REGRESSION_TIMES="${times}" LTT_REGRESSION_T0=$EPOCHREALTIME\n` : '';
  return wrapper(name, target, `${extraEnv}${timing}`);
}

/**
 * `command` in a subshell, then a line for --times: start, end, exit status, the command line; after a failure
 * its standard error too, indented (the scripts send it to /dev/null).
 */
function timed(command, name, times) {
  return `s=$EPOCHREALTIME; e=$(mktemp); (${command}) 2>"$e"; rc=$?; cat "$e" >&2
echo "$s $EPOCHREALTIME $rc ${name} $*" >> "${times}"; [ $rc -ne 0 ] && sed 's/^/#   /' "$e" >> "${times}"; rm -f "$e"; exit $rc`;
}

/**
 * Cases that need what ltt cannot have here, skipped in the scratch copy with the suite's own `skip` (tap.sh: the
 * count of tests, "ok N # skip REASON"), so they show as skipped, not failed: [script, text of the script's own
 * skip condition, its replacement]. The kernel half of the wildcard test records lttng-modules' test module's
 * event (/proc/lttng-test-filter-event); ltt traces the kernel through tracefs, and that module cannot load
 * without LTTng's kernel modules. It still runs where the module is installed (modinfo finds it).
 */
const SKIPS = [
  ['tests/regression/tools/wildcard/test_event_wildcard',
    'skip $isroot "Root access is needed. Skipping all kernel wildcard tests." $NUM_KERNEL_TESTS',
    'skip $([ "$isroot" = 1 ] && modinfo lttng-test >/dev/null 2>&1 && echo 1 || echo 0) "Root access and lttng-modules\' lttng-test module (/proc/lttng-test-filter-event) are needed. Skipping all kernel wildcard tests." $NUM_KERNEL_TESTS'],
];

/** Makes the scratch tree: the tests, the schemas, the wrappers and the compiled XML tools. */
function prepareScratch(tree, times) {
  const scratch = mkdtempSync(join(tmpdir(), 'ltt-lttng-regression-'));
  cpSync(join(tree, 'tests'), join(scratch, 'tests'), { recursive: true });
  for (const [script, condition, replacement] of SKIPS) {
    const path = join(scratch, script);
    const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
    if (!text.includes(condition)) throw new Error(`${script}: its skip condition changed (${condition.slice(0, 40)}...): update SKIPS in run.mjs`);
    writeFileSync(path, text.replace(condition, replacement));
  }
  for (const dir of ['src/common', 'src/common/config']) {
    mkdirSync(join(scratch, dir), { recursive: true });
    for (const name of readdirSync(join(tree, dir))) {
      if (name.endsWith('.xsd')) cpSync(join(tree, dir, name), join(scratch, dir, name));
    }
  }
  const bin = join(scratch, 'src/bin');
  writeExecutable(join(bin, 'lttng/lttng'), wrapper('lttng', join(ROOT, 'bin/ltt'),
    // `lttng create` must not start a daemon the test did not ask for (utils.sh sets /bin/true).
    '[ -n "$LTTNG_SESSIOND_PATH" ] && export LTT_SESSIOND_PATH="$LTTNG_SESSIOND_PATH"\n', times));
  writeExecutable(join(bin, 'lttng-sessiond/lttng-sessiond'), wrapper('lttng-sessiond', join(ROOT, 'bin/ltt-sessiond')));
  // A relay daemon when this ltt has one; no separate consumer daemon: a stub says so, the tests needing it fail.
  const relayd = join(ROOT, 'bin/ltt-relayd');
  for (const name of ['lttng-relayd', 'lttng-consumerd']) {
    writeExecutable(join(bin, name, name), name === 'lttng-relayd' && existsSync(relayd)
      ? wrapper(name, relayd)
      : `#!/bin/sh\necho "${name}: ltt has no ${name}" >&2\nexit 1\n`);
  }
  for (const app of ['gen-ust-events', 'gen-ust-nevents']) {
    writeExecutable(join(scratch, 'tests/utils/testapp', app, app),
      appWrapper(app, join(ROOT, `dist/test/lttng-regression/${app}.js`),
        '[ -n "$LTTNG_UST_REGISTER_TIMEOUT" ] && export LTT_UST_REGISTER_TIMEOUT="$LTTNG_UST_REGISTER_TIMEOUT"\n', times));
  }
  if (times) {
    // The trace readers the scripts run by name (utils.sh's BABELTRACE_BIN), timed from a folder put first in PATH.
    for (const reader of ['babeltrace', 'babeltrace2']) {
      const real = spawnSync('sh', ['-c', `command -v ${reader}`], { encoding: 'utf8' }).stdout.trim();
      if (real) writeExecutable(join(scratch, 'timed-bin', reader), `#!/bin/bash\n${timed(`exec "${real}" "$@"`, reader, times)}\n`);
    }
  }
  for (const tool of ['validate_xml', 'pretty_xml', 'extract_xml']) {
    const out = join(scratch, 'tests/utils/xml-utils', tool);
    const gcc = spawnSync('gcc', ['-O1', '-D_GNU_SOURCE', '-I/usr/include/libxml2', `-I${join(tree, 'include')}`,
      `-I${join(tree, 'src')}`, '-o', out, `${out}.c`, '-lxml2'], { encoding: 'utf8' });
    if (gcc.status !== 0) throw new Error(`cannot build ${tool} (gcc, libxml2-dev): ${gcc.stderr || gcc.error?.message}`);
  }
  return scratch;
}

/** The test scripts a TEST argument names (a script, or the test_* scripts of a folder). */
function scriptsOf(scratch, test) {
  const path = join(scratch, 'tests/regression', test);
  if (!existsSync(path)) throw new Error(`no test ${test} under tests/regression`);
  if (!statSync(path).isDirectory()) return [test];
  return readdirSync(path)
    .filter((n) => /^test_[^.]*$/.test(n) && statSync(join(path, n)).mode & 0o111)
    .sort()
    .map((n) => join(test, n));
}

/** passed/skipped/failed counts and the plan of a TAP stream (tap.sh's output). */
export function parseTap(text) {
  const r = { planned: 0, passed: 0, skipped: 0, failed: 0, bailedOut: undefined };
  for (const line of text.split('\n')) {
    let m;
    if ((m = /^1\.\.(\d+)/.exec(line))) r.planned = Number(m[1]);
    else if (/^ok\b/.test(line)) {
      if (/#\s*skip/i.test(line)) r.skipped++;
      else r.passed++;
    } else if (/^not ok\b/.test(line)) r.failed++;
    else if ((m = /^Bail out!\s*(.*)/.exec(line))) r.bailedOut = m[1];
  }
  return r;
}

function runScript(scratch, script, timeoutS, logDir, onOut) {
  const home = mkdtempSync(join(scratch, 'home-'));
  // PID 1 of the namespace runs the script, then ends whatever it left (daemons, apps) and waits for them.
  const inner = `ip link set lo up 2>/dev/null; mount -t tmpfs -o mode=0755 tmpfs /run || exit 97
cd "$1"; timeout -s TERM ${timeoutS} ./"$2"; rc=$?
[ -n "$3" ] && { cp /run/ltt/ltt-sessiond.log "$3.sessiond.log"; cp /run/ltt/ltt-relayd.log "$3.relayd.log"; } 2>/dev/null
kill -TERM -1 2>/dev/null; for i in $(seq 100); do kill -0 -1 2>/dev/null || break; sleep 0.1; done
kill -KILL -1 2>/dev/null; exit $rc`;
  const dir = join(scratch, 'tests/regression', dirname(script));
  const timedBin = join(scratch, 'timed-bin');
  const env = { PATH: existsSync(timedBin) ? `${timedBin}:${process.env.PATH}` : process.env.PATH, HOME: home, LANG: 'C', TERM: 'dumb' };
  return new Promise((resolveRun) => {
    const child = spawn('unshare', ['--pid', '--fork', '--mount-proc', '--mount', '--net', '--', 'bash', '-c', inner, 'ltt-regression', dir, script.split('/').pop(),
      logDir ? join(logDir, script.replaceAll('/', '_')) : ''],
      { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c) => {
      out += c;
      onOut?.(c);
    });
    child.stderr.setEncoding('utf8').on('data', (c) => (err += c));
    child.on('error', (e) => resolveRun({ out, err: `${err}cannot run unshare: ${e.message}\n`, status: 1 }));
    child.on('close', (status) => resolveRun({ out, err, status }));
  });
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!existsSync(join(ROOT, 'dist/src/cli/main.js'))) usage('ltt is not built (run npx tsc -p tsconfig.json)');
  if (process.getuid?.() !== 0) usage('the runner needs root (unshare of PID, mount and network namespaces)');
  const scratch = prepareScratch(opts.tree, opts.times);
  const results = [];
  try {
    for (const test of opts.tests) {
      for (const script of scriptsOf(scratch, test)) {
        const started = Date.now();
        const run = await runScript(scratch, script, opts.timeoutS, opts.logs, opts.tap ? (c) => process.stdout.write(c) : undefined);
        const tap = parseTap(run.out);
        const result = { test: script, ...tap, exitStatus: run.status, seconds: Math.round((Date.now() - started) / 1000) };
        results.push(result);
        if (opts.tap && run.err) process.stdout.write(`# stderr:\n${run.err.replace(/^/gm, '# ')}\n`);
        if (!opts.json) {
          const extra = [tap.skipped && `${tap.skipped} skipped`, tap.failed && `${tap.failed} failed`,
            tap.bailedOut !== undefined && `bailed out: ${tap.bailedOut}`].filter(Boolean).join(', ');
          process.stdout.write(`${script.padEnd(44)} ${String(tap.passed).padStart(4)}/${String(tap.planned).padEnd(4)}` +
            ` ${extra} (${result.seconds} s)\n`);
        }
      }
    }
  } finally {
    if (opts.keep) process.stderr.write(`scratch tree kept: ${relative(process.cwd(), scratch) || scratch}\n`);
    else rmSync(scratch, { recursive: true, force: true });
  }
  if (opts.json) process.stdout.write(`${JSON.stringify(results)}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    process.stderr.write(`Error: ${e.message}\n`);
    process.exit(1);
  });
}
