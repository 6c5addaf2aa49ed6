// A streaming protocol-buffers encoder for exports whose consumers read protobuf (Perfetto's trace format).
// One pass, no intermediate message objects: a nested message reserves a 4-byte length, filled in when it
// ends (a varint may carry redundant continuation bytes; protobuf decoders accept them, and Perfetto's own
// writer, protozero, does the same), so millions of events cost no allocation each.
//
// Contract: fields are written in the order called; `begin(field)` … `end()` nest (at most 256 MiB each);
// `drain()` hands out the bytes of the finished top-level messages and keeps the buffer for reuse.

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;

/** Largest length a 4-byte padded varint holds. */
const MAX_NESTED = 2 ** 28 - 1;

export class ProtobufWriter {
  private buf = Buffer.allocUnsafe(1 << 20);
  private pos = 0;
  private readonly open: number[] = [];

  /** Bytes written and not yet drained. */
  get length(): number {
    return this.pos;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  private rawVarint(v: number): void {
    this.room(10);
    const b = this.buf;
    let p = this.pos;
    while (v >= 0x80) {
      b[p++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    b[p++] = v;
    this.pos = p;
  }

  private tag(field: number, wire: number): void {
    this.rawVarint(field * 8 + wire);
  }

  /** An unsigned or non-negative integer field (uint32/64, int32/64, bool, enum) up to 2^53. */
  uint(field: number, v: number): void {
    this.tag(field, WIRE_VARINT);
    this.rawVarint(v);
  }

  /** A uint64 (or non-negative int64) field of any size: nanosecond time stamps since 1970 exceed 2^53. */
  uint64(field: number, v: bigint): void {
    if (v <= 0x1fffffffffffffn) return this.uint(field, Number(v));
    this.tag(field, WIRE_VARINT);
    this.varint64(Number(v & 0xffffffffn), Number((v >> 32n) & 0xffffffffn));
  }

  /** A signed int32/int64 field: negatives are ten-byte two's complement varints, as protobuf defines them. */
  int(field: number, v: number | bigint): void {
    if (v >= 0) return typeof v === 'bigint' ? this.uint64(field, v) : this.uint(field, v);
    this.tag(field, WIRE_VARINT);
    const u = BigInt.asUintN(64, BigInt(v));
    this.varint64(Number(u & 0xffffffffn), Number(u >> 32n));
  }

  /** The varint of hi * 2^32 + lo, seven bits at a time, with 32-bit arithmetic only. */
  private varint64(lo: number, hi: number): void {
    this.room(10);
    const b = this.buf;
    let p = this.pos;
    while (hi !== 0 || lo > 0x7f) {
      b[p++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    b[p++] = lo;
    this.pos = p;
  }

  double(field: number, v: number): void {
    this.tag(field, WIRE_I64);
    this.room(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  string(field: number, s: string): void {
    this.tag(field, WIRE_LEN);
    // UTF-8 is at most 3 bytes per UTF-16 unit: reserve that, write, then the length in front.
    this.room(5 + s.length * 3);
    const n = Buffer.byteLength(s);
    this.rawVarint(n);
    this.buf.write(s, this.pos, 'utf8');
    this.pos += n;
  }

  /** Starts a nested message (or a packed field) in `field`; `end()` closes the innermost. */
  begin(field: number): void {
    this.tag(field, WIRE_LEN);
    this.room(4);
    this.open.push(this.pos);
    this.pos += 4;
  }

  end(): void {
    const at = this.open.pop();
    if (at === undefined) throw new Error('ProtobufWriter.end without begin');
    const n = this.pos - at - 4;
    if (n > MAX_NESTED) throw new Error(`protobuf message of ${n} bytes exceeds 256 MiB`);
    this.buf[at] = (n & 0x7f) | 0x80;
    this.buf[at + 1] = ((n >>> 7) & 0x7f) | 0x80;
    this.buf[at + 2] = ((n >>> 14) & 0x7f) | 0x80;
    this.buf[at + 3] = n >>> 21;
  }

  /** The finished bytes (a copy), leaving the writer empty; only between top-level messages. */
  drain(): Buffer {
    if (this.open.length > 0) throw new Error('ProtobufWriter.drain inside a message');
    const out = Buffer.from(this.buf.subarray(0, this.pos));
    this.pos = 0;
    return out;
  }
}
