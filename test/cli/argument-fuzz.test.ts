// The argument parser and every command's validation under random input: empty, unicode, NUL, very long and
// option-like arguments in random orders. Whatever the input, ltt must end with one of LTTng's exit codes
// (0-4), never print a stack trace or an "Internal error", and with --mi json print exactly one JSON document
// (with --mi xml one LTTng document).
// The CLI runs in-process (runCli) against a private, daemon-less runtime directory (-n: nothing is spawned),
// so 1500 invocations take seconds; a fixed seed keeps any failure reproducible.

import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { runCli } from '../../src/cli/main.js';
import { xmlCommandName } from '../../src/cli/output/mi-document.js';

const COMMANDS = [
  'add-context', 'create', 'destroy', 'disable-channel', 'disable-event', 'enable-channel', 'enable-event', 'help',
  'list', 'set-session', 'start', 'status', 'stop', 'track', 'untrack', 'version', '',
];
const PIECES = [
  '-k', '-u', '-a', '-s', '-c', '-t', '--filter', '-f', '--loglevel=INFO', '--loglevel', '--loglevel-only=BOGUS',
  '--subbuf-size=4k', '--subbuf-size=1M', '--subbuf-size=1m', '--num-subbuf=-1', '--subbuf-size=99999999999999999999G',
  '--pid', '--vpid=', '--vpid=a,,b', '--all', '-x', '--', '-', '', 'é', '😀', '\u0000', 'x'.repeat(5000), '-kuac',
  '--output', '-o', '--snapshot', '--live', '--live=abc', '--set-url=net://[::1', '--set-url=file://rel', '--help',
  '--list-options', '-V', '-vvv', '-q', '=', '--=', '-=', '--channel=', '--session=', 'a/b', '%s%n', '$ctx.x ==', '"',
  '\\', '*', ',', ',,,', '--tracefile-size=1k', '--blocking-timeout=inf', '--output=splice', '--syscall',
  '--probe=x', '--function', '-S', '-d', '-j', '--overwrite', '--discard', '--switch-timer=1e3', '-t', 'perf:cpu:',
];

function sink(): { stream: Writable; text: () => string } {
  let text = '';
  return {
    stream: new Writable({
      write(chunk, _encoding, done) {
        text += String(chunk);
        done();
      },
    }),
    text: () => text,
  };
}

test('random command lines end with a clean error or success, never a stack trace', { timeout: 120_000 }, async () => {
  const root = mkdtempSync('/tmp/ltt-fuzz-');
  const saved = { home: process.env.LTT_HOME, rundir: process.env.LTT_RUNDIR };
  process.env.LTT_HOME = join(root, 'home');
  process.env.LTT_RUNDIR = join(root, 'run');
  let seed = 20261126;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    // The high bits: the low bits of this generator cycle with short periods (the choices would lock in step).
    return Math.floor(seed / 65536) % n;
  };
  try {
    let miRuns = 0;
    let xmlRuns = 0;
    for (let i = 0; i < 1500; i++) {
      const pick = random(8);
      const mi = pick === 0 ? 'json' : pick === 1 ? 'xml' : undefined;
      const argv = ['-n', '--rundir', join(root, 'run'), ...(mi ? ['--mi', mi] : [])];
      const command = COMMANDS[random(COMMANDS.length)]!;
      if (command) argv.push(command);
      for (let k = random(6); k > 0; k--) argv.push(PIECES[random(PIECES.length)]!);
      const out = sink();
      const err = sink();
      const code = await runCli(argv, { stdout: out.stream, stderr: err.stream });
      const shown = JSON.stringify(argv).slice(0, 200);
      assert.ok([0, 1, 2, 3, 4].includes(code), `${shown}: exit ${code}`);
      assert.doesNotMatch(err.text() + out.text(), /Internal error|\n\s+at |TypeError|RangeError/, shown);
      // Help and --list-options are text by design; everything else answers --mi json with one document, and
      // --mi xml with LTTng's document for the commands its schema knows (or nothing: a bad command line).
      const textOnly = argv.some((a) => a === '--help' || a === '-h' || a === '--list-options' || a === '-V');
      if (mi === 'json' && !textOnly && out.text() !== '') {
        miRuns++;
        assert.doesNotThrow(() => JSON.parse(out.text()), `${shown}: not JSON: ${out.text().slice(0, 200)}`);
      }
      if (mi === 'xml' && !textOnly && out.text() !== '' && xmlCommandName(command) !== undefined) {
        xmlRuns++;
        assert.match(out.text(), /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<command [^>]+><name>[a-z-]+<\/name>(<output\/>|<output>[^]*<\/output>)(<success>(true|false)<\/success>)?<\/command>\n$/, shown);
      }
    }
    assert.ok(miRuns > 50, `${miRuns} --mi json runs checked`);
    assert.ok(xmlRuns > 25, `${xmlRuns} --mi xml runs checked`);
  } finally {
    if (saved.home === undefined) delete process.env.LTT_HOME;
    else process.env.LTT_HOME = saved.home;
    if (saved.rundir === undefined) delete process.env.LTT_RUNDIR;
    else process.env.LTT_RUNDIR = saved.rundir;
    rmSync(root, { recursive: true, force: true });
  }
});
