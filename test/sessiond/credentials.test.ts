// Who is at the other end of root's control socket, and what follows from it: the credential challenge (Node
// has no SO_PEERCRED), sessions owned by their creator (lttng-sessiond's session_access_ok), and traces written
// as the owner's files where the owner may write, never through a link the owner planted. Real processes: a
// root ltt-sessiond with the kernel domain, `ltt` run as root and as `nobody` (a member of the daemon's group).

import { strict as assert } from 'node:assert';
import { chmodSync, chownSync, closeSync, copyFileSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeFrame, FrameDecoder, MAX_RESPONSE_BYTES } from '../../src/control/framing.js';
import { PROTOCOL_VERSION } from '../../src/control/messages.js';
import { socketPath } from '../../src/control/runtime-paths.js';
import { APP_PROTOCOL_VERSION, APP_SOCKET_NAME } from '../../src/ust/app-protocol.js';
import { badModes, CLI_MAIN, exited, LttTestEnv, lttAs, run, startForegroundDaemon } from '../cli/ltt-test-env.js';

const NOBODY = 65534;
const NOGROUP = 65534;

/** Every file and folder under `dir` with its owner, as "uid path". */
function owners(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      out.push(`${st.uid} ${p.slice(dir.length + 1)}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * One raw connection: a first frame (a hello), then `onFrame` for each frame received (it may answer with `send` and hang up
 * with `end`); resolves with every frame received once the connection is closed.
 */
function rawConversation(
  path: string,
  onFrame: (frame: any, send: (body: unknown) => void, end: () => void) => void,
  first: unknown = { type: 'hello', version: PROTOCOL_VERSION, peer: 'test', pid: process.pid },
): Promise<any[]> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    const decoder = new FrameDecoder(MAX_RESPONSE_BYTES);
    const frames: any[] = [];
    const timer = setTimeout(() => socket.destroy(), 5000);
    socket.on('connect', () => socket.write(encodeFrame(first)));
    socket.on('data', (chunk) => {
      for (const f of decoder.push(chunk)) {
        if (!f.ok) continue;
        frames.push(f.body);
        onFrame(f.body, (body) => socket.write(encodeFrame(body)), () => socket.destroy());
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(frames);
    });
  });
}

test('root daemon: owners, access and trace files of a tracing-group member', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  chmodSync(env.root, 0o755);
  const daemon = await startForegroundDaemon(env, ['--group', 'nogroup']);
  const userHome = join(env.root, 'nobody-home');
  mkdirSync(userHome);
  chownSync(userHome, NOBODY, NOGROUP);
  const userEnv = { ...env.env, LTT_HOME: userHome, HOME: userHome };
  const asUser = (...args: string[]) => lttAs({ uid: NOBODY, gid: NOGROUP }, userEnv, ...args);
  try {
    // The auth folder: sticky, root and the daemon's group only, not listable by the group; left empty by every
    // handshake.
    const auth = lstatSync(join(env.rundir, 'auth'));
    assert.deepEqual([auth.uid, auth.gid, auth.mode & 0o7777], [0, NOGROUP, 0o1730]);

    assert.equal((await env.ltt('create', 'roots', '-o', join(env.root, 'root-trace'))).code, 0);
    // The user sees none of root's sessions and may not touch them (LTTng: "Permission denied").
    const mine = await asUser('create', 'mine');
    assert.equal(mine.code, 0, mine.stderr);
    const mineDir = join(userHome, 'ltt-traces');
    assert.match(mine.stdout, new RegExp(`Traces will be written in ${mineDir}/mine-\\d{8}-\\d{6}`));
    const listed = await asUser('--mi', 'json', 'list');
    assert.deepEqual(JSON.parse(listed.stdout).output.sessions.map((s: { name: string }) => s.name), ['mine']);
    for (const args of [['list', 'roots'], ['destroy', 'roots'], ['enable-event', '-k', '-s', 'roots', 'sched_switch']]) {
      const r = await asUser(...args);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, /Permission denied: session roots belongs to another user/, args.join(' '));
    }
    const rootList = await env.ltt('--mi', 'json', 'list');
    assert.deepEqual(JSON.parse(rootList.stdout).output.sessions.map((s: { name: string }) => s.name).sort(), ['mine', 'roots'], 'root sees every session');
    // Root's own kernel trace: root's and root's group's only, as LTTng's (no other local user reads it).
    for (const args of [['enable-event', '-k', '-s', 'roots', 'sched_switch'], ['start', 'roots'], ['stop', 'roots']]) {
      const r = await env.ltt(...args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    }
    assert.deepEqual(badModes(join(env.root, 'root-trace')), [], "root's trace is private");

    // The user's kernel trace: created with the user's rights, every file theirs, readable by the user.
    for (const args of [['enable-event', '-k', 'sched_switch'], ['start'], ['stop']]) {
      const r = await asUser(...args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    }
    const [traceName] = readdirSync(mineDir);
    const files = owners(join(mineDir, traceName!));
    assert.ok(files.some((f) => f.endsWith(' kernel/metadata')) && files.some((f) => f.endsWith(' kernel/index')), files.join('\n'));
    assert.deepEqual(files.filter((f) => !f.startsWith(`${NOBODY} `)), [], 'every file belongs to the user');
    const view = await asUser('view');
    assert.equal(view.code, 0, view.stderr);
    assert.match(view.stdout, /sched_switch/);
    // LTTng's modes: folders 0770 and files 0660, the owner's and the owner's group's only.
    assert.deepEqual(badModes(join(mineDir, traceName!)), [], "the member's trace is private");

    // --userspace-probe reads the ELF file with the member's rights: what they cannot read is refused exactly as
    // a missing file behind a folder they cannot search, and no probe is made.
    const libc = /libc\.so\.6 => (\S+)/.exec(execFileSync('ldd', ['/bin/true']).toString())![1]!;
    const rootLib = join(env.root, 'root-only-lib.so');
    copyFileSync(libc, rootLib);
    chmodSync(rootLib, 0o600);
    for (const [file, why] of [[rootLib, 'Permission denied'], ['/root/.bashrc', 'Permission denied'], ['/root/no-such-file', 'Permission denied'], [join(env.root, 'missing.so'), 'No such file or directory']] as const) {
      const r = await asUser('enable-event', '-k', `--userspace-probe=elf:${file}:getpid`, 'peek');
      assert.equal(r.code, 1, `${file}: ${r.stdout}`);
      assert.deepEqual(r.stderr.split('\n').filter((l) => l !== '').length, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`Cannot read ELF file ${file}: ${why}`), r.stderr);
    }
    assert.doesNotMatch(readFileSync('/sys/kernel/tracing/uprobe_events', 'utf8'), /peek/, 'no probe on what the member cannot read');
    const probe = await asUser('enable-event', '-k', `--userspace-probe=elf:${libc}:getpid`, 'mygetpid');
    assert.equal(probe.code, 0, probe.stderr);
    assert.equal((await asUser('destroy')).code, 0);

    // A tracefile ring: files reopened and reused while tracing stay the user's too.
    const ringOut = join(userHome, 'ring');
    for (const args of [
      ['create', 'ring', '-o', ringOut],
      ['enable-channel', '-k', '--subbuf-size=4096', '--tracefile-size=8192', '--tracefile-count=2', 'ch'],
      ['enable-event', '-k', '-c', 'ch', '--syscall', 'read,write'],
      ['start'],
    ]) {
      const r = await asUser(...args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    }
    execFileSync('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=3000'], { stdio: 'ignore' });
    assert.equal((await asUser('stop')).code, 0);
    const ringFiles = owners(ringOut);
    assert.ok(ringFiles.some((f) => /kernel\/ch_\d+_1$/.test(f)), `the ring turned: ${ringFiles.join(' ')}`);
    assert.deepEqual(ringFiles.filter((f) => !f.startsWith(`${NOBODY} `)), [], 'every ring file belongs to the user');
    const ringView = await asUser('view', ringOut);
    assert.equal(ringView.code, 0, ringView.stderr);
    assert.match(ringView.stdout, /syscall_exit_read/);
    assert.equal((await asUser('destroy', 'ring')).code, 0);

    // A snapshot: its folders and files are the user's, and a snapshot output the user may not write is refused.
    const snapOut = join(userHome, 'snaps');
    for (const args of [['create', 'snap', '--snapshot', '-o', snapOut], ['enable-event', '-k', 'sched_switch'], ['start'], ['snapshot', 'record']]) {
      const r = await asUser(...args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    }
    const snapFiles = owners(snapOut);
    assert.ok(snapFiles.some((f) => /^\d+ snapshot-1-\d{8}-\d{6}-0\/kernel\/metadata$/.test(f)), snapFiles.join('\n'));
    assert.deepEqual(snapFiles.filter((f) => !f.startsWith(`${NOBODY} `)), [], 'every snapshot file belongs to the user');
    const refused = await asUser('snapshot', 'record', join(env.root, 'not-theirs'));
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^Error: Create directory failed: .*not-theirs.*Permission denied.*\n$/);
    assert.equal((await asUser('destroy', 'snap')).code, 0);

    // Rotation: chunks are made and moved with the user's rights; every archive file is theirs.
    const rotOut = join(userHome, 'rot');
    for (const args of [['create', 'rot', '-o', rotOut], ['enable-event', '-k', 'sched_switch'], ['start'], ['rotate'], ['stop'], ['destroy', 'rot']]) {
      const r = await asUser(...args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    }
    const rotFiles = owners(rotOut);
    assert.equal(rotFiles.filter((f) => /^\d+ archives\/[^/]+-[01]\/kernel\/metadata$/.test(f)).length, 2, rotFiles.join('\n'));
    assert.deepEqual(rotFiles.filter((f) => !f.startsWith(`${NOBODY} `)), [], 'every chunk file belongs to the user');

    // A folder the user may not create: refused with one line, nothing created.
    const rootOnly = join(env.root, 'root-only');
    mkdirSync(rootOnly, { mode: 0o755 });
    for (const [name, out] of [['denied', join(rootOnly, 'x')], ['linked', join(env.root, 'u-linked')], ['swapped', join(env.root, 'u-swapped')]] as const) {
      if (name !== 'denied') {
        mkdirSync(join(out, 'kernel'), { recursive: true });
        chownSync(out, NOBODY, NOGROUP);
        chownSync(join(out, 'kernel'), NOBODY, NOGROUP);
      }
      // The user planted a link to a root file where the metadata goes, or made `kernel` a link to root's folder.
      const victim = join(rootOnly, `victim-${name}`);
      writeFileSync(victim, 'precious');
      if (name === 'linked') symlinkSync(victim, join(out, 'kernel', 'metadata'));
      if (name === 'swapped') {
        rmdirSync(join(out, 'kernel'));
        symlinkSync(rootOnly, join(out, 'kernel'));
      }
      assert.equal((await asUser('create', name, '-o', out)).code, 0);
      assert.equal((await asUser('enable-event', '-k', 'sched_switch')).code, 0);
      const start = await asUser('start');
      assert.equal(start.code, 1, `${name}: ${start.stdout}`);
      assert.equal(start.stderr.trim().split('\n').length, 1, start.stderr);
      assert.match(start.stderr, name === 'denied' ? /Permission denied/ : name === 'linked' ? /metadata: Too many symbolic links/ : /kernel: not a directory \(symbolic links are not followed\)/, start.stderr);
      assert.equal(readFileSync(victim, 'utf8'), 'precious');
      assert.deepEqual(readdirSync(rootOnly).filter((f) => !f.startsWith('victim-')), [], `${name}: nothing written in root's folder`);
      assert.equal((await asUser('destroy', name)).code, 0);
    }

    // The challenge itself: no file, or a hard link to someone else's file, is refused and the connection closed.
    const path = socketPath(env.rundir);
    const noFile = await rawConversation(path, (f, send) => f.type === 'hello' && send({ type: 'auth' }));
    assert.deepEqual([noFile[0].auth !== undefined, noFile[1]?.error?.code], [true, 'EPERM']);
    const rootFile = join(env.root, 'root-file');
    writeFileSync(rootFile, '');
    const hardLink = await rawConversation(path, (f, send) => {
      if (f.type !== 'hello') return;
      linkSync(rootFile, join(f.auth.dir, f.auth.nonce));
      send({ type: 'auth' });
    });
    assert.equal(hardLink[1]?.error?.code, 'EPERM');
    const early = await rawConversation(path, (f, send) => f.type === 'hello' && send({ type: 'request', id: 1, command: 'list-sessions', args: {} }));
    assert.equal(early[1]?.error?.code, 'EPERM');
    const honest = await rawConversation(path, (f, send, end) => {
      if (f.type === 'hello') {
        closeSync(openSync(join(f.auth.dir, f.auth.nonce), 'wx', 0o600));
        send({ type: 'auth' });
      } else if (f.type === 'authenticated') send({ type: 'request', id: 1, command: 'list-sessions', args: {} });
      else end();
    });
    assert.deepEqual(honest[1], { type: 'authenticated', uid: 0, gid: 0 });
    assert.equal(honest[2]?.ok, true);
    // An answer made as a folder (empty, or with content) is refused and removed, at once or when its client leaves.
    const folder = await rawConversation(path, (f, send) => {
      if (f.type !== 'hello') return;
      mkdirSync(join(f.auth.dir, f.auth.nonce));
      send({ type: 'auth' });
    });
    assert.equal(folder[1]?.error?.code, 'EPERM');
    await rawConversation(path, (f, _send, end) => {
      mkdirSync(join(f.auth.dir, f.auth.nonce, 'inner'), { recursive: true });
      writeFileSync(join(f.auth.dir, f.auth.nonce, 'inner', 'file'), '');
      end();
    });
    // A client gone between making its file and answering: the daemon removes the file.
    await rawConversation(path, (f, _send, end) => {
      closeSync(openSync(join(f.auth.dir, f.auth.nonce), 'wx', 0o600));
      end();
    });
    for (let i = 0; i < 50 && readdirSync(join(env.rundir, 'auth')).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(readdirSync(join(env.rundir, 'auth')), [], 'no challenge file stays behind');
    assert.equal(daemon.exitCode, null);
  } finally {
    daemon.kill('SIGTERM');
    await exited(daemon);
    await env.cleanup();
  }
});

test('root daemon: apps prove their uid, own the pid they claim; a stale auth folder is removed without following its links', { timeout: 60_000 }, async () => {
  const env = new LttTestEnv();
  chmodSync(env.root, 0o755);
  let daemon = await startForegroundDaemon(env, ['--group', 'nogroup']);
  const sleeper = spawn('sleep', ['30'], { uid: NOBODY, gid: NOGROUP, stdio: 'ignore' });
  try {
    const appSocket = join(env.rundir, APP_SOCKET_NAME);
    const register = (pid: number) => ({ type: 'register', version: APP_PROTOCOL_VERSION, pid, ppid: 1, uid: 0, gid: 0, procname: 'claims-root', tracepoints: [] });
    /** The challenge's file, made by `nobody` as an app of that user would. */
    const answerAsNobody = (f: any) => execFileSync('sh', ['-c', ': > "$1"', 'sh', join(f.dir, f.nonce)], { uid: NOBODY, gid: NOGROUP });
    const converse = (pid: number, answer: (f: any) => void) =>
      rawConversation(appSocket, (f, send, end) => {
        if (f.type === 'challenge') {
          answer(f);
          send({ type: 'auth' });
        } else end();
      }, register(pid));
    // Claims uid 0 and pid 1, proves uid 65534: refused.
    const claimsInit = await converse(1, answerAsNobody);
    assert.deepEqual(claimsInit.map((f) => f.type), ['challenge', 'refused']);
    assert.match(claimsInit[1].reason, /pid 1 is not a process of uid 65534/);
    // No file: refused.
    const noFile = await converse(sleeper.pid!, () => undefined);
    assert.deepEqual([noFile[1]?.type, noFile[1]?.reason], ['refused', 'the app did not prove its credentials']);
    // Its own process: registered, as uid 65534 whatever it claimed.
    const honest = await converse(sleeper.pid!, answerAsNobody);
    assert.equal(honest[1]?.type, 'registered');
    const line = `App claims-root-${sleeper.pid} registered (uid 65534`;
    for (let i = 0; i < 100 && !env.log().includes(line); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(env.log().includes(line), env.log());

    // A previous daemon's auth folder holding a link to a folder of root's: moved aside and removed, the
    // folder it pointed to untouched.
    daemon.kill('SIGTERM');
    await exited(daemon);
    const precious = join(env.root, 'precious');
    mkdirSync(precious);
    writeFileSync(join(precious, 'keep'), 'x');
    mkdirSync(join(env.rundir, 'auth', 'a'), { recursive: true });
    symlinkSync(precious, join(env.rundir, 'auth', 'a', 'link'));
    daemon = await startForegroundDaemon(env, ['--group', 'nogroup']);
    assert.deepEqual(readdirSync(join(env.rundir, 'auth')), []);
    for (let i = 0; i < 100 && readdirSync(env.rundir).some((n) => n.startsWith('auth.stale')); i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(readdirSync(env.rundir).filter((n) => n.startsWith('auth')), ['auth']);
    assert.equal(readFileSync(join(precious, 'keep'), 'utf8'), 'x');
  } finally {
    sleeper.kill();
    daemon.kill('SIGTERM');
    await exited(daemon);
    await env.cleanup();
  }
});
