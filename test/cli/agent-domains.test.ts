// LTTng's agent domains (-j JUL, -l log4j, -p Python) as lttng-sessiond keeps them when no agent registered:
// rules enabled and disabled, with their loggers' log levels; each domain's user-space channel and rule
// (lttng_jul_channel, lttng_jul:*) created in the user-space domain; listed (text, `-d`, MI valid against LTTng's
// schema when its tree is there), saved and loaded back; `list -j` lists no logger (ltt apps have no agent).

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../repo-paths.js';
import { LttTestEnv, type RunResult } from './ltt-test-env.js';

const XSD = join(process.env.LTTNG_TOOLS_SRC ?? resolve(REPO_ROOT, '..', 'lttng-tools'), 'src/common/mi-lttng-4.1.xsd');

async function ok(env: LttTestEnv, ...args: string[]): Promise<RunResult> {
  const r = await env.ltt(...args);
  assert.equal(r.code, 0, `ltt ${args.join(' ')}: ${r.stderr}`);
  return r;
}

test('agent domains: rules kept, listed, shown in MI, saved and loaded', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  try {
    await ok(env, 'create', 's', '-o', join(env.root, 'out'));
    await ok(env, 'enable-event', '-u', 'ev1', '-c', 'testChannel');
    // lttng-sessiond ignores the channel for agent domains; lttng names none in its line.
    const jul = await ok(env, 'enable-event', '-j', 'ev1,ev2', '-c', 'testChannel');
    assert.equal(jul.stdout, 'jul event ev1 enabled\njul event ev2 enabled\n');
    await ok(env, 'enable-event', '-l', 'app.logger', '--loglevel', 'WARN');
    await ok(env, 'enable-event', '-p', 'py', '--filter', 'msg == "x"');
    const again = await env.ltt('enable-event', '-j', 'ev1');
    assert.deepEqual([again.code, again.stderr], [1, 'Error: Event ev1: UST event already enabled (channel channel0, session s)\n']);
    const excl = await env.ltt('enable-event', '-j', 'ev*', '-x', 'ev3');
    assert.deepEqual([excl.code, excl.stderr], [1, 'Error: Event name exclusions are not yet implemented for jul events\n']);
    const badLevel = await env.ltt('enable-event', '-j', 'ev3', '--loglevel', 'TRACE_INFO');
    assert.deepEqual([badLevel.code, badLevel.stderr], [1, 'Error: Unknown loglevel TRACE_INFO\n']);
    await ok(env, 'disable-event', '-j', 'ev2');
    // Two rules of one name a log level apart, one disabled and one enabled: loading must keep both states.
    // (the enabled one saved first: disabling the other by name after it would disable both)
    await ok(env, 'enable-event', '-j', 'ev4', '--loglevel', 'JUL_INFO');
    await ok(env, 'enable-event', '-j', 'ev4');
    await ok(env, 'disable-event', '-j', 'ev4');
    await ok(env, 'enable-event', '-j', 'ev4', '--loglevel', 'JUL_INFO');
    const missing = await env.ltt('disable-event', '-j', 'nope');
    assert.equal(missing.code, 1);

    const text = (await ok(env, 'list', 's')).stdout;
    assert.match(text, /=== Domain: java\.util\.logging \(JUL\) ===\n\nEvents \(Logger name\):\n---------------------\n {4}- ev1 \[enabled\]\n {4}- ev2 \[disabled\]\n/);
    assert.match(text, /=== Domain: log4j ===\n\nEvents \(Logger name\):\n---------------------\n {4}- app\.logger \[enabled\] \(loglevel <= LOG4J_WARN\)\n/);
    assert.match(text, /=== Domain: Python logging ===\n\nEvents \(Logger name\):\n---------------------\n {4}- py \[enabled\] \[filter: 'msg == "x"'\]\n/);
    // The user-space channels and rules behind them (the Python rule carries the filter, as lttng's).
    for (const [channel, rule] of [['lttng_jul_channel', 'lttng_jul:\\*'], ['lttng_log4j_channel', 'lttng_log4j:\\*'], ['lttng_python_channel', 'lttng_python:\\*']]) {
      assert.match(text, new RegExp(`- ${channel}: \\[enabled\\]`));
      assert.match(text, new RegExp(` {6}${rule} \\(type: tracepoint\\) \\[enabled\\]`));
    }
    assert.equal((await ok(env, 'list', 's', '-d')).stdout,
      'Domains:\n-------------\n  - UST global\n  - JUL (Java Util Logging)\n  - LOG4j (Logging for Java)\n  - Python (logging)\n');
    assert.equal((await ok(env, 'list', '-j')).stdout, 'jul events (Logger name):\n-------------------------\nNone\n\n');

    const xml = (await ok(env, '--mi', 'xml', 'list', 's')).stdout;
    assert.deepEqual([...xml.matchAll(/<domain><type>(\w+)<\/type>/g)].map((m) => m[1]), ['UST', 'JUL', 'LOG4J', 'PYTHON']);
    assert.match(xml, /<domain><type>LOG4J<\/type><buffer_type>PER_UID<\/buffer_type><events><event><name>app\.logger<\/name><type>TRACEPOINT<\/type><enabled>true<\/enabled><loglevel>LOG4J_WARN<\/loglevel><loglevel_type>RANGE<\/loglevel_type>/);
    if (existsSync(XSD) && spawnSync('sh', ['-c', 'command -v xmllint']).status === 0) {
      const file = join(env.root, 'list.xml');
      writeFileSync(file, xml);
      const lint = spawnSync('xmllint', ['--noout', '--schema', XSD, file], { encoding: 'utf8' });
      assert.equal(lint.status, 0, lint.stderr);
    }

    // Saved as lttng saves them (the agent channel in the agent's domain, not in user space), loaded back the same.
    const before = (await ok(env, '--mi', 'json', 'list', 's')).stdout.replace(/"creation_time":[^,]*,/, '');
    await ok(env, 'save', '-o', join(env.root, 'saved'), 's');
    const saved = spawnSync('cat', [join(env.root, 'saved', 's.lttng')], { encoding: 'utf8' }).stdout;
    assert.match(saved, /<domain><type>JUL<\/type><buffer_type>PER_UID<\/buffer_type><channels><channel><name>lttng_jul_channel<\/name>/);
    assert.equal(saved.match(/<name>lttng_jul_channel<\/name>/g)?.length, 1);
    await ok(env, 'destroy', 's');
    await ok(env, 'load', '-i', join(env.root, 'saved'), 's');
    const after = (await ok(env, '--mi', 'json', 'list', 's')).stdout.replace(/"creation_time":[^,]*,/, '');
    assert.equal(after, before);
    assert.match((await ok(env, 'list', 's')).stdout, / {4}- ev4 \[enabled\] \(loglevel <= JUL_INFO\)\n {4}- ev4 \[disabled\]\n/);
    await ok(env, 'destroy', '-a');
  } finally {
    await env.cleanup();
  }
});
