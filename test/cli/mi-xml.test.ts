// `--mi xml`: LTTng's machine-interface documents.
// (a) One user-space command sequence run through ltt and, where Debian's lttng 2.13 is installed, through the
//     real lttng (its own session daemon, run as `nobody` with a private LTTNG_HOME so that no other LTTng daemon
//     is touched): the same elements in the same order and the same values, except values that must differ
//     (paths, dates), lttng's hash order of rules, and the defects of lttng 2.13 listed in normalise().
// (b) Every document ltt printed, the kernel domain's included, valid against LTTng's schema (xmllint --schema),
//     when LTTng's tree is there (LTTNG_TOOLS_SRC, default ../lttng-tools beside the checkout).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import test from 'node:test';
import { REPO_ROOT } from '../repo-paths.js';
import { LttTestEnv, run, type RunResult } from './ltt-test-env.js';

const XSD = join(process.env.LTTNG_TOOLS_SRC ?? resolve(REPO_ROOT, '..', 'lttng-tools'), 'src/common/mi-lttng-4.1.xsd');
const NOBODY = 65534;

const has = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const skipSchema = !existsSync(XSD)
  ? `LTTng's schema is not at ${XSD} (set LTTNG_TOOLS_SRC to an LTTng 2.13 tree)`
  : !has('xmllint') ? 'xmllint is not installed' : false;
const skipLttng = !has('lttng') || !has('lttng-sessiond') || !has('setpriv')
  ? "Debian's lttng (lttng, lttng-sessiond) and setpriv are needed to compare with LTTng"
  : process.getuid?.() !== 0 ? 'running lttng as nobody needs root' : false;

/** The user-space sequence, {OUT} standing for each tool's own folder. Steps that fail are part of it. */
const STEPS: string[][] = [
  ['create', 's1', '--output={OUT}/s1'],
  ['create', 's1'],
  ['enable-channel', '-u', 'ch0', '-s', 's1'],
  ['enable-channel', '-u', 'ch0', '-s', 's1'],
  ['enable-channel', '-u', 'ch1,ch2', '-s', 's1'],
  ['enable-event', '-u', 'ev1', '-c', 'ch0', '-s', 's1'],
  ['enable-event', '-u', 'ev1', '-c', 'ch0', '-s', 's1'],
  ['enable-event', '-u', 'ev1,ev2,ev3', '-c', 'ch0', '-s', 's1'],
  ['enable-event', '-u', 'evll', '--loglevel=TRACE_INFO', '-c', 'ch0', '-s', 's1'],
  ['enable-event', '-u', 'evllo', '--loglevel-only=TRACE_INFO', '-c', 'ch0', '-s', 's1'],
  ['enable-event', '-u', 'evf', '--filter', 'a==1', '-c', 'ch0', '-s', 's1'],
  ['add-context', '-u', '-t', 'vpid', '-t', 'procname', '-c', 'ch0', '-s', 's1'],
  ['add-context', '--list'],
  ['list'],
  ['list', 's1'],
  ['list', 's1', '-c', 'ch0'],
  ['list', 's1', '-d'],
  ['list', '-u'],
  ['list', 'nosuch'],
  ['track', '-u', '--vpid=1,2', '-s', 's1'],
  ['list', 's1'],
  ['untrack', '-u', '--vpid=2,3', '-s', 's1'],
  ['untrack', '-u', '--all', '--vpid', '-s', 's1'],
  ['track', '-u', '--all', '--vpid', '-s', 's1'],
  ['track', '-u', '--vuid=0', '-s', 's1'],
  ['disable-event', '-u', 'ev1', '-c', 'ch0', '-s', 's1'],
  ['disable-event', '-u', 'ev1,ev2,ev3', '-c', 'ch0', '-s', 's1'],
  ['disable-event', '-u', 'nope', '-c', 'ch0', '-s', 's1'],
  ['disable-event', '-u', '-a', '-c', 'ch0', '-s', 's1'],
  ['start', 's1'],
  ['start', 's1'],
  ['list', 's1'],
  ['stop', 's1'],
  ['stop', 's1'],
  ['rotate', 's1'],
  ['enable-rotation', '--timer', '10s', '-s', 's1'],
  ['enable-rotation', '--size', '2M', '-s', 's1'],
  ['list', 's1'],
  ['disable-rotation', '--timer', '-s', 's1'],
  ['clear', 's1'],
  ['set-session', 's1'],
  ['status'],
  ['save', '-o', '{OUT}/saved', 's1'],
  ['save', '-a', '-o', '{OUT}/saved-all'],
  ['disable-channel', '-u', 'ch0', '-s', 's1'],
  ['disable-channel', '-u', 'ch1,ch2', '-s', 's1'],
  ['disable-channel', '-u', 'nope', '-s', 's1'],
  ['destroy', 's1'],
  ['destroy', 's1'],
  ['load', '-i', '{OUT}/saved', 's1'],
  ['create', 'snap', '--snapshot', '--output={OUT}/snap'],
  ['create', 'noout', '--no-output'],
  ['create', 'dflt'],
  ['snapshot', 'add-output', '-s', 'noout', 'file://{OUT}/snap2'],
  ['snapshot', 'list-output', '-s', 'noout'],
  ['snapshot', 'list-output', '-s', 'snap'],
  ['snapshot', 'del-output', '-s', 'noout', '1'],
  ['snapshot', 'del-output', '-s', 'noout', '1'],
  ['enable-event', '-u', '-a', '-s', 'snap'],
  ['start', 'snap'],
  ['snapshot', 'record', '-s', 'snap'],
  ['stop', 'snap'],
  ['list'],
  ['clear', '-a'],
  ['destroy', '-a'],
  ['destroy', '-a'],
  ['clear', 'nosuch'],
  ['start'],
];

/** Kernel-domain documents (ltt as root): validated against the schema only, lttng here has no kernel tracer. */
const KERNEL_STEPS: string[][] = [
  ['create', 'k', '--output={OUT}/k'],
  ['enable-channel', '-k', 'kch', '--subbuf-size=64k'],
  ['enable-event', '-k', '-c', 'kch', 'sched_switch,sched_wakeup'],
  ['enable-event', '-k', '-c', 'kch', '--syscall', 'openat'],
  ['enable-event', '-k', '-c', 'kch', '--probe=do_sys_openat2', 'kp'],
  ['enable-event', '-k', '-c', 'kch', '--function=do_sys_openat2', 'fn'],
  ['enable-event', '-k', '-c', 'kch', 'sched_switch'],
  ['add-context', '-k', '-c', 'kch', '-t', 'pid', '-t', 'perf:cpu:cycles'],
  ['track', '-k', '--pid=1', '--uid=0'],
  ['list', 'k'],
  ['list', '-k'],
  ['list', '-k', '--syscall'],
  ['disable-event', '-k', '-c', 'kch', 'sched_wakeup'],
  ['disable-event', '-k', '-c', 'kch', '-a'],
  ['start'],
  ['regenerate', 'statedump'],
  ['stop'],
  ['disable-channel', '-k', 'kch'],
  ['destroy', 'k'],
  ['version'],
];

const args = (step: string[], out: string): string[] => step.map((a) => a.replaceAll('{OUT}', out));

interface XmlElement {
  name: string;
  text?: string;
  children: XmlElement[];
}

/** The document's elements (names, text, order): what LTTng's writer produces, no attributes but the root's. */
function parseMi(xml: string): XmlElement {
  assert.match(xml, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<command [^>]*schemaVersion="4\.1">[^]*<\/command>\n$/);
  const body = xml.slice(xml.indexOf('>', xml.indexOf('<command ')) + 1, xml.lastIndexOf('</command>'));
  const root: XmlElement = { name: 'command', children: [] };
  const stack = [root];
  for (const m of body.matchAll(/<(\/?)([A-Za-z_]+)(\/?)>|([^<]+)/g)) {
    const top = stack[stack.length - 1]!;
    if (m[4] !== undefined) top.text = m[4].replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
    else if (m[1]) assert.equal(stack.pop()!.name, m[2], 'balanced elements');
    else {
      const element: XmlElement = { name: m[2]!, children: [] };
      top.children.push(element);
      if (!m[3]) stack.push(element);
    }
  }
  assert.equal(stack.length, 1, 'every element closed');
  return root;
}

const MASKED = new Set(['path', 'absolute_path', 'ctrl_url']);

/** What may differ between ltt's and lttng's document for the same state. */
function normalise(element: XmlElement, command: string, parent = ''): XmlElement {
  let children = element.children
    // lttng 2.13's add-context writes <success> in each context, which its own schema refuses: ltt does not.
    .filter((c) => !(command === 'add-context' && element.name === 'context' && c.name === 'success'))
    // lttng echoes a channel it could not create with attributes it never set: ltt echoes the name only.
    .filter((c) => !(command === 'enable-channel' && c.name === 'attributes' && element.children.some((s) => s.name === 'success' && s.text === 'false')))
    .map((c) => normalise(c, command, element.name));
  // lttng lists channels, rules and tracked values in its hash tables' order.
  if (['events', 'channels', 'process_attr_values'].includes(element.name)) children = [...children].sort((a, b) => lines(a).join().localeCompare(lines(b).join()));
  let text = element.text;
  if (MASKED.has(element.name) && text) text = '<path>';
  // lttng 2.13's enable-channel echoes an unset attribute record: overwrite -1 ("OVERWRITE") and live timer -1.
  if (command === 'enable-channel' && ['overwrite_mode', 'live_timer_interval'].includes(element.name)) text = '<unset>';
  // ltt's user-space buffers are per process (its apps write their own rings), lttng's default per user.
  if (element.name === 'buffer_type' && parent === 'domain') text = '<buffers>';
  // lttng's schema knows this action as record-output; lttng 2.13 writes "record".
  if (command === 'snapshot' && element.name === 'name' && text === 'record') text = 'record-output';
  return { name: element.name, ...(text !== undefined ? { text } : {}), children };
}

/** One line per element, indented by depth: readable differences. */
function lines(element: XmlElement, depth = 0): string[] {
  const self = `${'  '.repeat(depth)}${element.name}${element.text !== undefined ? ` = ${element.text}` : ''}`;
  return [self, ...element.children.flatMap((c) => lines(c, depth + 1))];
}

function lttngAsNobody(home: string): (...argv: string[]) => Promise<RunResult> {
  return (...argv) =>
    run('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'env', '-i', 'PATH=/usr/bin:/bin', `LTTNG_HOME=${home}`, ...argv], { cwd: home });
}

async function runSteps(steps: string[][], out: string, tool: (...argv: string[]) => Promise<RunResult>): Promise<RunResult[]> {
  const results: RunResult[] = [];
  for (const step of steps) results.push(await tool('--mi', 'xml', ...args(step, out)));
  return results;
}

function validate(documents: Array<{ label: string; xml: string }>, folder: string): void {
  const files = documents.map(({ xml }, i) => {
    const file = join(folder, `doc-${i}.xml`);
    writeFileSync(file, xml);
    return file;
  });
  const lint = spawnSync('xmllint', ['--noout', '--schema', XSD, ...files], { encoding: 'utf8' });
  const invalid = lint.stderr.split('\n').filter((l) => l.endsWith('fails to validate'));
  const named = invalid.map((l) => documents[Number(/doc-(\d+)\.xml/.exec(l)![1])]!.label);
  assert.deepEqual(named, [], lint.stderr.split('\n').filter((l) => !l.endsWith(' validates')).join('\n'));
  assert.equal(lint.status, 0, lint.stderr);
}

test('--mi xml: the documents lttng 2.13 prints for the same user-space state', { skip: skipLttng, timeout: 600_000 }, async () => {
  const env = new LttTestEnv();
  const home = mkdtempSync('/tmp/ltt-mi-lttng-');
  chownSync(home, NOBODY, NOBODY);
  const lttng = lttngAsNobody(home);
  const pidFile = join(home, 'sessiond.pid');
  try {
    const started = await lttng('lttng-sessiond', '--daemonize', `--pidfile=${pidFile}`);
    assert.equal(started.code, 0, started.stderr);
    const theirs = await runSteps(STEPS, join(home, 'out'), (...a) => lttng('lttng', ...a));
    const ours = await runSteps(STEPS, join(env.root, 'out'), (...a) => env.ltt(...a));
    STEPS.forEach((step, i) => {
      const label = `ltt --mi xml ${step.join(' ')}`;
      const [t, o] = [theirs[i]!, ours[i]!];
      // lttng's own exit codes (0-4), or for its raw error numbers (23, 55...) a failure too.
      assert.ok(t.code! <= 4 ? o.code === t.code : o.code !== 0, `${label}: exit ${o.code}, lttng ${t.code}: ${o.stderr}`);
      const command = parseMi(t.stdout).children[0]!.text!;
      assert.deepEqual(lines(normalise(parseMi(o.stdout), command)), lines(normalise(parseMi(t.stdout), command)), label);
    });
    // The lines beside the document: lttng's texts on stderr.
    assert.equal(ours[1]!.stderr, theirs[1]!.stderr);
  } finally {
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGTERM');
    } catch {
      // never started
    }
    await env.cleanup();
    rmSync(home, { recursive: true, force: true });
  }
});

test('--mi xml: every document is valid against LTTng 2.13\'s schema, kernel domain included', { skip: skipSchema, timeout: 600_000 }, async () => {
  const env = new LttTestEnv();
  const out = join(env.root, 'out');
  mkdirSync(out);
  try {
    const documents: Array<{ label: string; xml: string }> = [];
    const steps = [...STEPS, ...(process.getuid?.() === 0 ? KERNEL_STEPS : [])];
    const results = await runSteps(steps, out, (...a) => env.ltt(...a));
    steps.forEach((step, i) => {
      const label = step.join(' ');
      // Every command of the sequence answers with one document, failures included.
      assert.match(results[i]!.stdout, /^<\?xml /, `${label}: ${results[i]!.stderr}`);
      documents.push({ label, xml: results[i]!.stdout });
    });
    validate(documents, env.root);
  } finally {
    await env.cleanup();
  }
});

test('--mi xml: what lttng prints no document for', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  try {
    // An unknown command, a bad option, no command: nothing on stdout, as lttng (the JSON extension answers).
    for (const argv of [['frobnicate'], ['create', '--frob'], []]) {
      const r = await env.ltt('--mi', 'xml', ...argv);
      assert.equal(r.stdout.startsWith('<?xml'), false, argv.join(' '));
      assert.notEqual(r.code, 0);
    }
    // Commands outside LTTng's schema run as without --mi, with lttng's warning (its `view`).
    const analyze = await env.ltt('--mi', 'xml', 'view', join(env.root, 'none'));
    assert.match(analyze.stderr, /^Warning: mi does not apply to view command\n/);
    // The same tree as JSON: lists are arrays, ltt's own values are there.
    const version = JSON.parse((await env.ltt('--mi', 'json', 'version')).stdout);
    const xml = parseMi((await env.ltt('--mi', 'xml', 'version')).stdout);
    assert.deepEqual(xml.children.map((c) => c.name), ['name', 'output']);
    assert.deepEqual(
      Object.keys(version.output.version),
      xml.children[1]!.children[0]!.children.map((c) => c.name),
    );
  } finally {
    await env.cleanup();
  }
});
