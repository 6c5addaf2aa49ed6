// ELF symbol -> file offset, checked against readelf on this machine's libc and a binary.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { resolveElfSymbol } from '../../src/kernel/elf-symbols.js';

function libcPath(): string {
  const out = execFileSync('ldd', ['/bin/true']).toString();
  return /libc\.so\.6 => (\S+)/.exec(out)![1]!;
}

/** File offset by readelf: symbol value - section address + section file offset. */
function readelfOffset(file: string, sym: string): bigint {
  const syms = execFileSync('readelf', ['-Ws', file]).toString().split('\n');
  const line = syms.find((l) => new RegExp(`\\s${sym}(@@?\\S+)?$`).test(l) && !/ UND /.test(l))!;
  const cols = line.trim().split(/\s+/);
  const value = BigInt('0x' + cols[1]);
  const ndx = Number(cols[6]);
  const secs = execFileSync('readelf', ['-WS', file]).toString().split('\n');
  const sec = secs.find((l) => new RegExp(`^\\s*\\[\\s*${ndx}\\]`).test(l))!;
  const m = /\]\s+\S+\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)/.exec(sec)!;
  return value - BigInt('0x' + m[1]) + BigInt('0x' + m[2]);
}

test('getpid and malloc in libc resolve to the offsets readelf gives', () => {
  const libc = libcPath();
  for (const s of ['getpid', 'malloc', 'chroot']) {
    assert.equal(resolveElfSymbol(libc, s).fileOffset, readelfOffset(libc, s), s);
  }
});

test('errors name the file or the symbol in one line', () => {
  assert.throws(() => resolveElfSymbol(libcPath(), 'no_such_symbol_xyz'), { code: 'UPROBE_SYMBOL' });
  assert.throws(() => resolveElfSymbol('/etc/hostname', 'main'), { code: 'UPROBE_ELF' });
  assert.throws(() => resolveElfSymbol('/nonexistent/bin', 'main'), { code: 'UPROBE_ELF' });
});
