#!/usr/bin/env node
// `npm test`'s set-up, run after the build and before the tests, so the README's one command works on a fresh
// Debian machine: the tests compare ltt with its peers (babeltrace2 and its Python bindings, trace-cmd, LTTng's
// tools, LTTng-UST built with gcc, LTTng's analyses), read ELF files with readelf, and drive tracefs as root.
//
// Contract: as root, installs the missing Debian packages (apt-get update, apt-get install -y, quietly, after
// one line naming them) and mounts tracefs where the kernel has it and nothing mounted it, the way ltt itself
// does (src/ftrace/tracefs.ts). Otherwise, or when that fails, it stops at once: one line on stderr naming the
// command that would do it, exit 1. Prints nothing when everything is in place. Packages are asked of
// dpkg-query (found on PATH).

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

/** What the tests need, as Debian packages (the command the tests run, where it differs, in the comment). */
const PACKAGES = [
  'babeltrace2',
  'python3-bt2',
  'trace-cmd',
  'lttng-tools', // lttng, lttng-sessiond
  'liblttng-ust-dev',
  'python3-lttnganalyses', // lttng-cputop, lttng-syscallstats, ...
  'gcc',
  'binutils', // readelf
  'chromium', // ltt web's page, driven by puppeteer-core
  'libxml2-utils', // xmllint: --mi xml against LTTng's XSD
  'libxml2-dev', // LTTng's regression tests' XML validators, built from its tree
];

function stop(message) {
  process.stderr.write(`npm test: ${message}\n`);
  process.exit(1);
}

function installed(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  if (r.error) stop(`cannot check the test dependencies (${r.error.code === 'ENOENT' ? 'dpkg-query not found: a Debian machine is expected' : r.error.message}); they are ${PACKAGES.join(' ')}`);
  return r.status === 0 && r.stdout.includes('install ok installed');
}

function apt(args) {
  const r = spawnSync('apt-get', args, { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) {
    const why = r.error ? r.error.message : (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`);
    stop(`apt-get ${args.join(' ')} failed: ${why}`);
  }
}

const root = process.getuid?.() === 0;
const missing = PACKAGES.filter((p) => !installed(p));
if (missing.length > 0) {
  const list = missing.join(' ');
  if (!root) stop(`missing Debian packages the tests need: run \`sudo apt-get update && sudo apt-get install -y ${list}\` (or \`sudo npm test\`, which installs them)`);
  process.stdout.write(`npm test: installing ${list} (apt-get)\n`);
  apt(['update', '-qq']);
  apt(['install', '-y', '-qq', ...missing]);
}

if (!root) stop('the tests drive tracefs and run commands as other users: run `sudo npm test`');

const mounted = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'].some((d) => fs.existsSync(`${d}/events/header_page`));
if (!mounted && /\ttracefs$/m.test(fs.readFileSync('/proc/filesystems', 'utf8'))) {
  const { root: tracefsRoot } = await import('../dist/src/ftrace/tracefs.js');
  try {
    tracefsRoot();
  } catch (err) {
    stop(`${err.message} (run \`mount -t tracefs nodev /sys/kernel/tracing\`)`);
  }
}
