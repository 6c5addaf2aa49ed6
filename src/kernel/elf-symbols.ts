// Resolve a function symbol of an ELF file to its file offset (what uprobe_events wants: PATH:0xOFFSET).
//
// Contract: resolveElfSymbol(path, symbol) reads the ELF (32 or 64-bit, either byte order), looks the symbol
// up in .symtab then .dynsym (defined symbols only, functions preferred), and converts its virtual address
// to a file offset through the section that contains it (falling back to the PT_LOAD segment). Throws
// LttError with a one-line message when the file is not ELF or the symbol is absent. readElfFile(path, owner)
// reads the file with the rights of the session's owner when root's daemon works for a tracing-group member:
// the daemon must neither probe a file the member cannot read nor tell them what lies where they cannot look.

import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { describeIoError } from '../errors.js';
import { needsOwnedOutput, type FileOwner } from '../ctf/writer/owned-output.js';
import { LttError } from '../errors.js';

export interface ElfSymbol {
  name: string;
  value: bigint;
  size: bigint;
  fileOffset: bigint;
}

interface Section {
  name: number;
  type: number;
  addr: bigint;
  offset: bigint;
  size: bigint;
  link: number;
  entsize: bigint;
}

const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const SHT_NOBITS = 8;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;

function readAsRoot(path: string): Buffer {
  try {
    return fs.readFileSync(path);
  } catch (err) {
    throw new LttError('UPROBE_ELF', `Cannot read ELF file ${describeIoError(path, err)}`);
  }
}

/**
 * The bytes of `path`, read as `owner` (their uid and primary gid, `cat` in a child) when root works for
 * another user. The probe is then placed by path, as root: the file must still hold what the owner read.
 */
export async function readElfFile(path: string, owner: FileOwner | undefined): Promise<Buffer> {
  if (!needsOwnedOutput(owner)) return readAsRoot(path);
  const theirs = await new Promise<Buffer>((resolve, reject) => {
    const options = { uid: owner.uid, gid: owner.gid, encoding: 'buffer' as const, maxBuffer: 1 << 30, timeout: 10_000, killSignal: 'SIGKILL' as const };
    execFile('cat', ['--', path], options, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      const why = /: ([^:\n]+)\n?$/.exec(String(stderr))?.[1] ?? (error.killed ? 'no answer within 10 s' : error.message);
      reject(new LttError('UPROBE_ELF', `Cannot read ELF file ${path}: ${why}`));
    });
  });
  if (!readAsRoot(path).equals(theirs)) throw new LttError('UPROBE_ELF', `Cannot read ELF file ${path}: it changed while being read`);
  return theirs;
}

/** `data`: the file's bytes, when already read (readElfFile). */
export function resolveElfSymbol(path: string, symbol: string, data: Buffer = readAsRoot(path)): ElfSymbol {
  if (data.length < 52 || data.readUInt32BE(0) !== 0x7f454c46) throw new LttError('UPROBE_ELF', `Not an ELF file: ${path}`);
  const is64 = data[4] === 2;
  const le = data[5] === 1;
  const u16 = (o: number): number => (le ? data.readUInt16LE(o) : data.readUInt16BE(o));
  const u32 = (o: number): number => (le ? data.readUInt32LE(o) : data.readUInt32BE(o));
  const addr = (o: number): bigint => (is64 ? (le ? data.readBigUInt64LE(o) : data.readBigUInt64BE(o)) : BigInt(u32(o)));
  const shoff = Number(is64 ? addr(0x28) : u32(0x20));
  const shentsize = u16(is64 ? 0x3a : 0x2e);
  const shnum = u16(is64 ? 0x3c : 0x30);
  const phoff = Number(is64 ? addr(0x20) : u32(0x1c));
  const phentsize = u16(is64 ? 0x36 : 0x2a);
  const phnum = u16(is64 ? 0x38 : 0x2c);
  const sections: Section[] = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    if (o + shentsize > data.length) break;
    sections.push(is64
      ? { name: u32(o), type: u32(o + 4), addr: addr(o + 0x10), offset: addr(o + 0x18), size: addr(o + 0x20), link: u32(o + 0x28), entsize: addr(o + 0x38) }
      : { name: u32(o), type: u32(o + 4), addr: BigInt(u32(o + 0x0c)), offset: BigInt(u32(o + 0x10)), size: BigInt(u32(o + 0x14)), link: u32(o + 0x18), entsize: BigInt(u32(o + 0x24)) });
  }
  const cstr = (o: number): string => {
    let e = o;
    while (e < data.length && data[e] !== 0) e++;
    return data.toString('latin1', o, e);
  };
  const lookup = (type: number): { value: bigint; size: bigint; shndx: number } | undefined => {
    let found: { value: bigint; size: bigint; shndx: number; func: boolean } | undefined;
    for (const s of sections) {
      if (s.type !== type) continue;
      const strtab = sections[s.link];
      if (!strtab) continue;
      const ent = Number(s.entsize) || (is64 ? 24 : 16);
      const count = Number(s.size) / ent;
      for (let i = 0; i < count; i++) {
        const o = Number(s.offset) + i * ent;
        const nameOff = u32(o);
        const info = is64 ? data[o + 4]! : data[o + 12]!;
        const shndx = is64 ? u16(o + 6) : u16(o + 14);
        const value = is64 ? addr(o + 8) : BigInt(u32(o + 4));
        const size = is64 ? addr(o + 16) : BigInt(u32(o + 8));
        if (shndx === 0 || value === 0n) continue;
        if (cstr(Number(strtab.offset) + nameOff) !== symbol) continue;
        const t = info & 0xf;
        const func = t === STT_FUNC || t === STT_GNU_IFUNC;
        if (!found || (func && !found.func)) found = { value, size, shndx, func };
      }
    }
    return found;
  };
  const sym = lookup(SHT_SYMTAB) ?? lookup(SHT_DYNSYM);
  if (!sym) throw new LttError('UPROBE_SYMBOL', `Symbol "${symbol}" not found in ELF file ${path}`);
  let fileOffset: bigint | undefined;
  const sec = sections[sym.shndx];
  if (sec && sec.type !== SHT_NOBITS && sym.value >= sec.addr && sym.value < sec.addr + sec.size) {
    fileOffset = sym.value - sec.addr + sec.offset;
  } else {
    for (let i = 0; i < phnum; i++) {
      const o = phoff + i * phentsize;
      if (u32(o) !== 1) continue; // PT_LOAD
      const pOffset = is64 ? addr(o + 8) : BigInt(u32(o + 4));
      const pVaddr = is64 ? addr(o + 0x10) : BigInt(u32(o + 8));
      const pFilesz = is64 ? addr(o + 0x20) : BigInt(u32(o + 0x10));
      if (sym.value >= pVaddr && sym.value < pVaddr + pFilesz) fileOffset = sym.value - pVaddr + pOffset;
    }
  }
  if (fileOffset === undefined) throw new LttError('UPROBE_SYMBOL', `Symbol "${symbol}" in ${path} is not backed by file contents`);
  return { name: symbol, value: sym.value, size: sym.size, fileOffset };
}
