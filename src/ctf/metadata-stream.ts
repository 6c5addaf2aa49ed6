// Reads the bytes of a CTF `metadata` file into metadata text (de-packetizing if needed).
//
// Contract: `readMetadataStream(bytes)` returns the metadata text as bytes plus its flavour:
// * packetized when the first 4 bytes are 0x75D11D57 in either byte order (that order is the
//   packets' byte order): each packet is a packed 37-byte header (magic, uuid[16], checksum,
//   content_size, packet_size in bits, compression, encryption, checksum scheme, major, minor)
//   followed by content_size/8 - 37 bytes of text and padding up to packet_size/8. Compression,
//   encryption, checksums, a version other than 1.8 and UUIDs differing between packets are
//   refused (as babeltrace2 does); the texts are concatenated and, as in babeltrace, end at the
//   first NUL byte; a partial header at the end of the file is ignored (CTF2-PMETA packets,
//   version 2.0, carry CTF 2 JSON the same way);
// * CTF 2 when the (de-packetized) text starts with 0x1E (RFC 7464 JSON text sequence);
// * plain TSDL text otherwise, which must start with the `/* CTF 1.8` signature (babeltrace 2.0.4
//   fails without it, and refuses other versions).
// Errors are LttError('CTF_METADATA') with a one-line message.

import { LttError } from '../errors.js';

export const METADATA_PACKET_MAGIC = 0x75d11d57;
const HEADER_SIZE = 37;

export interface MetadataText {
  /** TSDL text, or the CTF 2 JSON text sequence. */
  readonly bytes: Uint8Array;
  readonly ctfVersion: 1 | 2;
  readonly packetized: boolean;
  /** UUID carried by the metadata packets (canonical form), when packetized. */
  readonly packetUuid?: string;
}

function fail(message: string): LttError {
  return new LttError('CTF_METADATA', message);
}

function uuidString(b: Uint8Array): string {
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** True if `bytes` starts like a packetized metadata stream. */
export function isPacketized(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return dv.getUint32(0, true) === METADATA_PACKET_MAGIC || dv.getUint32(0, false) === METADATA_PACKET_MAGIC;
}

function depacketize(bytes: Uint8Array): { text: Uint8Array; uuid: string } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = dv.getUint32(0, true) === METADATA_PACKET_MAGIC;
  const parts: Uint8Array[] = [];
  let total = 0;
  let uuid: string | undefined;
  let version: number | undefined;
  let off = 0;
  while (off < bytes.length) {
    // babeltrace stops at a partial header at the end of the file without complaint.
    if (bytes.length - off < HEADER_SIZE) break;
    const magic = dv.getUint32(off, le);
    if (magic !== METADATA_PACKET_MAGIC) {
      throw fail(`metadata packet at offset ${off}: bad magic number 0x${magic.toString(16).padStart(8, '0')}`);
    }
    const pUuid = uuidString(bytes.subarray(off + 4, off + 20));
    const checksum = dv.getUint32(off + 20, le);
    const contentSize = dv.getUint32(off + 24, le);
    const packetSize = dv.getUint32(off + 28, le);
    const compression = bytes[off + 32]!;
    const encryption = bytes[off + 33]!;
    const checksumScheme = bytes[off + 34]!;
    const major = bytes[off + 35]!;
    const minor = bytes[off + 36]!;
    if (compression) throw fail(`metadata packet at offset ${off}: compression scheme ${compression} is not supported`);
    if (encryption) throw fail(`metadata packet at offset ${off}: encryption scheme ${encryption} is not supported`);
    if (checksum || checksumScheme) {
      throw fail(`metadata packet at offset ${off}: checksum verification (scheme ${checksumScheme}) is not supported`);
    }
    // 1.8 for TSDL; CTF2-PMETA packets (JSON text sequence inside) say 2.0.
    if (!(major === 1 && minor === 8) && !(major === 2 && minor === 0)) {
      throw fail(`metadata packet at offset ${off}: invalid metadata packet version ${major}.${minor} (expecting 1.8)`);
    }
    if (version === undefined) version = major;
    else if (version !== major) throw fail(`metadata packet at offset ${off}: version ${major}.${minor} differs from the first packet's`);
    if (uuid === undefined) uuid = pUuid;
    else if (uuid !== pUuid) throw fail(`metadata packet at offset ${off}: UUID ${pUuid} differs from the first packet's ${uuid}`);
    const contentBytes = Math.floor(contentSize / 8);
    if (contentBytes < HEADER_SIZE) throw fail(`metadata packet at offset ${off}: bad content size ${contentSize} bits`);
    if (packetSize < contentSize) throw fail(`metadata packet at offset ${off}: content size ${contentSize} exceeds packet size ${packetSize}`);
    if (off + contentBytes > bytes.length) throw fail(`metadata packet at offset ${off}: content runs past the end of the file`);
    const text = bytes.subarray(off + HEADER_SIZE, off + contentBytes);
    parts.push(text);
    total += text.length;
    // Missing padding at the very end is tolerated (babeltrace only warns).
    off += Math.max(contentBytes, Math.floor(packetSize / 8));
  }
  let text = new Uint8Array(total);
  let pos = 0;
  for (const p of parts) {
    text.set(p, pos);
    pos += p.length;
  }
  // babeltrace parses the decoded packets as a C string: the text ends at the first NUL byte.
  const nul = text.indexOf(0);
  if (nul >= 0) text = text.subarray(0, nul);
  if (version === 2 && text[0] !== 0x1e) throw fail('metadata: packet version 2.0 but the content is not a CTF 2 JSON text sequence');
  return { text, uuid: uuid! };
}

/** Checks the `/* CTF 1.8` signature of plain-text metadata. */
function checkSignature(bytes: Uint8Array): void {
  // Same leniency as babeltrace's fscanf("/* CTF %u.%u"): whitespace may vary.
  const head = String.fromCharCode(...bytes.subarray(0, 64));
  const m = /^\s*\/\*\s*CTF\s+(\d+)\.(\d+)/.exec(head);
  if (!m) throw fail('metadata: missing "/* CTF 1.8" signature at the start of the plain-text metadata');
  if (m[1] !== '1' || m[2] !== '8') throw fail(`metadata: invalid metadata version ${m[1]}.${m[2]} in the plain-text signature (expecting 1.8)`);
}

export function readMetadataStream(bytes: Uint8Array): MetadataText {
  if (isPacketized(bytes)) {
    const { text, uuid } = depacketize(bytes);
    return { bytes: text, ctfVersion: text[0] === 0x1e ? 2 : 1, packetized: true, packetUuid: uuid };
  }
  if (bytes[0] === 0x1e) return { bytes, ctfVersion: 2, packetized: false };
  checkSignature(bytes);
  return { bytes, ctfVersion: 1, packetized: false };
}
