// `ltt save` / `ltt load` with the real CLI and daemon: a session saved as LTTng's session XML and loaded back is
// the same session (channels and their attributes, event rules with filters, log levels, exclusions and
// disabled ones, contexts, trackers, disabled channels, the recording state); a configuration written by LTTng
// (the element set of lttng-tools' session.xsd, as `lttng save` writes it) loads too; bad input gets one line.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { LttTestEnv, type RunResult } from './ltt-test-env.js';

async function ok(env: LttTestEnv, ...args: string[]): Promise<RunResult> {
  const r = await env.ltt(...args);
  assert.equal(r.code, 0, `ltt ${args.join(' ')}: ${r.stderr}`);
  return r;
}

/** `ltt --mi json list NAME` without what loading cannot keep (creation time, statistics). */
async function detail(env: LttTestEnv, name: string): Promise<unknown> {
  const doc = JSON.parse((await ok(env, '--mi', 'json', 'list', name)).stdout) as { output: unknown };
  return JSON.parse(JSON.stringify(doc.output, (k, v) => (k === 'createdAt' || k === 'creation_time' || k === 'stats' ? undefined : v)));
}

test('save, destroy, load: the same session; the file is well-formed XML', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  try {
    const out = join(env.root, 'traces');
    await ok(env, 'create', 's1', '-o', out);
    await ok(env, 'enable-channel', '-u', '--subbuf-size=16k', '--num-subbuf=8', '--overwrite', '--switch-timer=50000', 'c1');
    await ok(env, 'enable-event', '-u', 'app:*', '-c', 'c1', '--filter', 'x > 10 && msg == "a<b&c\'d"');
    await ok(env, 'enable-event', '-u', 'lib:*', '-c', 'c1', '--loglevel', 'TRACE_WARNING', '-x', 'lib:noisy,lib:chatty');
    await ok(env, 'enable-event', '-u', 'one:ev', '-c', 'c1', '--loglevel-only', 'TRACE_INFO');
    await ok(env, 'disable-event', '-u', '-c', 'c1', 'one:ev');
    await ok(env, 'add-context', '-u', '-c', 'c1', '-t', 'vpid', '-t', 'procname');
    await ok(env, 'enable-channel', '-u', 'c2');
    await ok(env, 'enable-event', '-u', '-c', 'c2', 'other:*');
    await ok(env, 'disable-channel', '-u', 'c2');
    await ok(env, 'enable-event', '-k', 'sched_switch', '-c', 'k0');
    await ok(env, 'enable-event', '-k', '--syscall', 'openat,close', '-c', 'k0');
    await ok(env, 'disable-event', '-k', '--syscall', '-c', 'k0', 'close');
    await ok(env, 'add-context', '-k', '-c', 'k0', '-t', 'pid');
    await ok(env, 'track', '-k', '--pid=1,2');
    await ok(env, 'untrack', '-u', '--vuid', '--all');
    const before = await detail(env, 's1');

    const saved = await ok(env, 'save', 's1');
    assert.equal(saved.stdout, 'Session s1 saved successfully.\n');
    const file = join(env.home, '.ltt', 'sessions', 's1.lttng');
    const xml = spawnSync('python3', ['-c', 'import sys, xml.dom.minidom as m; d = m.parse(sys.argv[1]); print(d.documentElement.tagName, len(d.getElementsByTagName("event")))', file], { encoding: 'utf8' });
    assert.equal(xml.stdout, 'sessions 7\n', xml.stderr);
    const again = await env.ltt('save', 's1');
    assert.deepEqual([again.code, again.stderr], [1, 'Error: Session s1: Session file already exists\n']);
    await ok(env, 'save', '-f', 's1');

    await ok(env, 'destroy', 's1');
    const loaded = await ok(env, 'load', 's1');
    assert.equal(loaded.stdout, 'Session s1 has been loaded successfully\n');
    assert.deepEqual(await detail(env, 's1'), before);
    const exists = await env.ltt('load', 's1');
    assert.deepEqual([exists.code, exists.stderr], [1, 'Error: Session s1: Session name already exists\n']);

    // Another name and another output; a recording session is loaded recording.
    await ok(env, 'load', 's1', '--override-name', 's3', '--override-url', `file://${join(env.root, 'elsewhere')}`);
    const s3 = (await detail(env, 's3')) as { sessions: Array<{ name: string; output_path?: string; path?: string }> };
    assert.match(JSON.stringify(s3), /elsewhere/);
    await ok(env, 'start', 's1');
    await ok(env, 'save', '-f', '-o', join(env.root, 'saved'), 's1');
    await ok(env, 'destroy', 's1');
    await ok(env, 'load', '-i', join(env.root, 'saved', 's1.lttng'));
    assert.match((await ok(env, 'list')).stdout, /s1 \[active\]/);
    await ok(env, 'destroy', '-a');
  } finally {
    await env.cleanup();
  }
});

/** A configuration as `lttng save` writes it (lttng-tools 2.13, session.xsd element names). */
const LTTNG_SAVED = `<?xml version="1.0" encoding="UTF-8"?>
<sessions>
	<session>
		<name>from-lttng</name>
		<domains>
			<domain>
				<type>UST</type>
				<buffer_type>PER_UID</buffer_type>
				<channels>
					<channel>
						<name>c1</name>
						<enabled>true</enabled>
						<overwrite_mode>DISCARD</overwrite_mode>
						<subbuffer_size>16384</subbuffer_size>
						<subbuffer_count>4</subbuffer_count>
						<switch_timer_interval>0</switch_timer_interval>
						<read_timer_interval>0</read_timer_interval>
						<output_type>MMAP</output_type>
						<blocking_timeout>0</blocking_timeout>
						<monitor_timer_interval>1000000</monitor_timer_interval>
						<tracefile_size>0</tracefile_size>
						<tracefile_count>0</tracefile_count>
						<live_timer_interval>0</live_timer_interval>
						<events>
							<event>
								<name>hello_world:*</name>
								<enabled>true</enabled>
								<type>TRACEPOINT</type>
								<loglevel_type>ALL</loglevel_type>
								<filter>my_integer_field &gt; 10</filter>
							</event>
						</events>
						<contexts>
							<context>
								<type>VPID</type>
							</context>
						</contexts>
					</channel>
				</channels>
				<process_attr_trackers>
					<vpid_process_attr_tracker>
						<process_attr_values>
							<vpid>
								<id>1234</id>
							</vpid>
						</process_attr_values>
					</vpid_process_attr_tracker>
				</process_attr_trackers>
			</domain>
		</domains>
		<started>false</started>
		<attributes>
			<rotation_schedules>
				<periodic>
					<time_us>60000000</time_us>
				</periodic>
			</rotation_schedules>
		</attributes>
		<output>
			<consumer_output>
				<enabled>true</enabled>
				<destination>
					<path>/tmp/from-lttng-traces</path>
				</destination>
			</consumer_output>
		</output>
	</session>
</sessions>
`;

test("a configuration saved by LTTng loads; bad files get one line", { timeout: 60_000 }, async () => {
  const env = new LttTestEnv();
  try {
    // LTTng's own folder is searched after ltt's.
    const lttngDir = join(env.home, '.lttng', 'sessions');
    mkdirSync(lttngDir, { recursive: true });
    writeFileSync(join(lttngDir, 'from-lttng.lttng'), LTTNG_SAVED);
    assert.equal((await ok(env, 'load')).stdout, 'Spawning a session daemon\nAll sessions have been loaded successfully\n');
    const list = (await ok(env, 'list', 'from-lttng')).stdout;
    assert.match(list, /Trace output: \/tmp\/from-lttng-traces/);
    assert.match(list, /- c1: \[enabled\]/);
    assert.match(list, /hello_world:\* \(type: tracepoint\) \[enabled\] \[filter: 'my_integer_field > 10'\]/);
    assert.match(list, /Sub-buffer size: {2}16384 bytes\n {6}Sub-buffer count: 4\n/);
    assert.match(list, /Virtual process IDs: {2}1234\n/);
    assert.match(JSON.stringify(await detail(env, 'from-lttng')), /"contexts":\["vpid"\]/);

    const missing = await env.ltt('load', 'nope');
    assert.deepEqual([missing.code, missing.stderr], [1, 'Error: Session nope: Session file not found\n']);
    const bad = join(env.root, 'bad.lttng');
    writeFileSync(bad, '<sessions><session><name>x</name></sessions>');
    const broken = await env.ltt('load', '-i', bad);
    assert.equal(broken.code, 1);
    assert.equal(broken.stderr, `Error: Invalid session configuration ${bad}: expected </session> at line 1\n`);
    // A folder: the session wanted loads though another file holds what ltt does not trace, or is not XML; what
    // was skipped is one warning. Loading every session of it fails on the broken file.
    const dir = join(env.root, 'mixed');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a-broken.lttng'), '<sessions><session>');
    writeFileSync(join(dir, 'jul.lttng'), LTTNG_SAVED.replace('<type>UST</type>', '<type>JUL</type>').replace(/from-lttng/g, 'jul-one'));
    writeFileSync(join(dir, 'z.lttng'), LTTNG_SAVED.replace(/from-lttng/g, 'wanted'));
    const wanted = await env.ltt('load', '-i', dir, 'wanted');
    assert.equal(wanted.code, 0, wanted.stderr);
    assert.match(wanted.stderr, /^Warning: Invalid session configuration .*a-broken.lttng: .* \(skipped\)\n$/);
    // A JUL domain's channel holds the agent's rules: loaded into the JUL domain (test/cli/agent-domains.test.ts).
    const jul = await env.ltt('load', '-i', dir, 'jul-one');
    assert.equal(jul.code, 0, jul.stderr);
    assert.match((await ok(env, 'list', 'jul-one')).stdout, /=== Domain: java\.util\.logging \(JUL\) ===\n\nEvents \(Logger name\):\n-+\n {4}- hello_world:\* \[enabled\] \[filter: 'my_integer_field > 10'\]\n/);
    writeFileSync(join(dir, 'other.lttng'), LTTNG_SAVED.replace('<type>UST</type>', '<type>OTHER</type>').replace(/from-lttng/g, 'other-one'));
    const other = await env.ltt('load', '-i', dir, 'other-one');
    assert.equal(other.code, 0, other.stderr);
    assert.match(other.stderr, /\nWarning: Skipped the domains ltt does not trace: session other-one: OTHER\n$/);
    assert.doesNotMatch((await ok(env, 'list', 'other-one')).stdout, /hello_world/);
    const all = await env.ltt('load', '-a', '-f', '-i', dir);
    assert.equal(all.code, 1);
    assert.match(all.stderr, /^Error: Invalid session configuration .*a-broken.lttng/);
    assert.ok(!existsSync(join(env.home, '.ltt', 'sessions', 'x.lttng')));
    assert.ok(readFileSync(join(lttngDir, 'from-lttng.lttng'), 'utf8').includes('hello_world'), 'loading never writes');
  } finally {
    await env.cleanup();
  }
});

test('--override-url replaces a snapshot session\'s outputs; a live session cannot take a local one', { timeout: 60_000 }, async () => {
  const env = new LttTestEnv();
  try {
    await ok(env, 'create', 'snap', '--snapshot', '-o', join(env.root, 'first'));
    await ok(env, 'save', '-o', join(env.root, 'saved'), 'snap');
    await ok(env, 'destroy', 'snap');
    const file = join(env.root, 'saved', 'snap.lttng');
    for (const url of [`file://${join(env.root, 'over')}`, join(env.root, 'over')]) {
      await ok(env, 'load', '-i', file, `--override-url=${url}`);
      // lttng lists an overriding folder with a trailing slash (test_load's "Path url file:// override").
      assert.match((await ok(env, 'snapshot', 'list-output', '-s', 'snap')).stdout, new RegExp(`snapshot-1: ${join(env.root, 'over')}/\\n`));
      await ok(env, 'destroy', 'snap');
    }
    // A snapshot output streaming to a relay daemon loads as it was saved (lttng's net_output URIs), and saves
    // back the same; a local --override-url replaces it.
    const net = join(env.root, 'net-snapshot.lttng');
    writeFileSync(net, `<sessions><session><name>netsnap</name><domains/><started>false</started>
<attributes><snapshot_mode>true</snapshot_mode></attributes><output><snapshot_outputs><output><name>relay</name>
<max_size>0</max_size><consumer_output><enabled>true</enabled><destination><net_output>
<control_uri>tcp4://127.0.0.1:5342/</control_uri><data_uri>tcp4://127.0.0.1:5343/</data_uri></net_output>
</destination></consumer_output></output></snapshot_outputs></output></session></sessions>`);
    await ok(env, 'load', '-i', net);
    assert.equal((await ok(env, 'snapshot', 'list-output', '-s', 'netsnap')).stdout, 'Snapshot output list for session netsnap\n    [1] relay: tcp4://127.0.0.1:5342/\n');
    await ok(env, 'save', '-o', join(env.root, 'resaved'), 'netsnap');
    assert.ok(
      readFileSync(join(env.root, 'resaved', 'netsnap.lttng'), 'utf8').includes(
        '<output><name>relay</name><max_size>0</max_size><consumer_output><enabled>true</enabled><destination><net_output><control_uri>tcp4://127.0.0.1:5342/</control_uri><data_uri>tcp4://127.0.0.1:5343/</data_uri></net_output></destination></consumer_output></output>',
      ),
    );
    await ok(env, 'destroy', 'netsnap');
    await ok(env, 'load', '-i', net, `--override-url=${join(env.root, 'over')}`);
    assert.match((await ok(env, 'snapshot', 'list-output', '-s', 'netsnap')).stdout, new RegExp(`relay: ${join(env.root, 'over')}/\\n`));
    await ok(env, 'destroy', 'netsnap');
    const live = join(env.root, 'live.lttng');
    writeFileSync(live, LTTNG_SAVED.replace('<attributes>', '<attributes><live_timer_interval>1000000</live_timer_interval>'));
    const r = await env.ltt('load', '-i', live, `--override-url=file://${join(env.root, 'over')}`);
    assert.deepEqual([r.code, r.stderr], [1, `Error: Session from-lttng: a live session needs a network output, not ${join(env.root, 'over')}/\n`]);
    assert.match((await ok(env, 'list')).stdout, /no available recording session/);
  } finally {
    await env.cleanup();
  }
});

test('--override-url=net://HOST:CTRL:DATA streams a loaded session, snapshot outputs and a live session to that relay', { timeout: 60_000 }, async () => {
  const env = new LttTestEnv();
  try {
    const url = 'net://127.0.0.1:8172:9817';
    const plain = join(env.root, 'plain.lttng');
    writeFileSync(plain, LTTNG_SAVED);
    await ok(env, 'load', '-i', plain, `--override-url=${url}`);
    const path = (name: string): Promise<string> =>
      ok(env, '--mi', 'XML', 'list', name).then((r) => /<path>([^<]*)<\/path>/.exec(r.stdout)?.[1] ?? r.stdout);
    assert.equal(await path('from-lttng'), 'tcp4://127.0.0.1:8172/ [data: 9817]');
    await ok(env, 'destroy', 'from-lttng');

    await ok(env, 'create', 'snap', '--snapshot', '-o', join(env.root, 'first'));
    await ok(env, 'save', '-o', join(env.root, 'saved'), 'snap');
    await ok(env, 'destroy', 'snap');
    await ok(env, 'load', '-i', join(env.root, 'saved', 'snap.lttng'), `--override-url=${url}`);
    const listed = (await ok(env, '--mi', 'xml', 'snapshot', 'list-output', '-s', 'snap')).stdout;
    assert.match(listed, /<ctrl_url>tcp4:\/\/127\.0\.0\.1:8172\/<\/ctrl_url><data_url>tcp4:\/\/127\.0\.0\.1:9817\/<\/data_url>/);
    await ok(env, 'destroy', 'snap');

    const live = join(env.root, 'live.lttng');
    // A live session takes no rotation schedule (lttng refuses one as well).
    writeFileSync(live, LTTNG_SAVED.replace(/<attributes>[^]*<\/attributes>/, '<attributes><live_timer_interval>1000000</live_timer_interval></attributes>'));
    await ok(env, 'load', '-i', live, `--override-url=${url}`);
    assert.equal(await path('from-lttng'), 'tcp4://127.0.0.1:8172/ [data: 9817]');
    await ok(env, 'destroy', 'from-lttng');

    const r = await env.ltt('load', '-i', plain, '--override-url=tcp://127.0.0.1:8172');
    assert.equal(r.code, 1);
    assert.equal(r.stderr.split('\n').length, 2, r.stderr);
  } finally {
    await env.cleanup();
  }
});

test('rules of one name differing in log level load each in its saved state (test_load\'s complex session)', { timeout: 60_000 }, async () => {
  const env = new LttTestEnv();
  try {
    const file = join(env.root, 'llevel.lttng');
    const rule = (enabled: boolean, loglevel: number): string =>
      `<event><name>ev_same</name><enabled>${enabled}</enabled><type>TRACEPOINT</type><loglevel_type>RANGE</loglevel_type><loglevel>${loglevel}</loglevel></event>`;
    writeFileSync(file, LTTNG_SAVED.replace(/<events>[^]*<\/events>/, `<events>${rule(true, 6)}${rule(false, -1)}${rule(false, 4)}</events>`));
    await ok(env, 'load', '-i', file);
    const xml = (await ok(env, '--mi', 'xml', 'list', 'from-lttng', '-c', 'c1')).stdout;
    const states = xml.split('<event>').slice(1).map((e) => `${/<loglevel>(\w+)</.exec(e)?.[1] ?? 'any'}=${/<enabled>(\w+)</.exec(e)?.[1]}`);
    assert.deepEqual(states.sort(), ['TRACE_INFO=true', 'TRACE_WARNING=false', 'any=false'], xml);
  } finally {
    await env.cleanup();
  }
});
