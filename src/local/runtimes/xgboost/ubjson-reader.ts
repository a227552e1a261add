/**
 * UBJSON → JS value, for the subset xgboost writes (src/common/json.cc, UBJWriter), big-endian:
 * objects `{ key value ... }` with keys as (int marker, length, bytes); strings `S`; numbers `d` f32, `D` f64,
 * `i` i8, `U` u8, `I` i16, `l` i32, `L` i64; `T`/`F`/`Z`; arrays `[` with optional `$type` and `#count`.
 * Typed numeric arrays become typed arrays (Float32Array, Int32Array, ...) in one pass over the bytes.
 * Every read is bounds-checked, so a truncated file raises "truncated UBJSON" instead of reading garbage.
 */
import { fail } from './source.js';

const MAX_DEPTH = 64;

export function parseUbjson(bytes: Uint8Array): unknown {
  const reader = new UbjReader(bytes);
  const value = reader.value(0);
  return value;
}

class UbjReader {
  private readonly view: DataView;
  private pos = 0;
  private readonly textDecoder = new TextDecoder('utf-8');

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(n: number): void {
    if (this.pos + n > this.bytes.length) fail(`truncated UBJSON: needed ${n} more byte(s) at offset ${this.pos} of ${this.bytes.length}`);
  }

  private marker(): number {
    this.need(1);
    return this.bytes[this.pos++];
  }

  value(depth: number): unknown {
    return this.valueOf(this.marker(), depth);
  }

  private valueOf(marker: number, depth: number): unknown {
    switch (marker) {
      case 0x7b /* { */:
        return this.object(depth);
      case 0x5b /* [ */:
        return this.array(depth);
      case 0x53 /* S */:
        return this.string();
      case 0x54 /* T */:
        return true;
      case 0x46 /* F */:
        return false;
      case 0x5a /* Z */:
        return null;
      case 0x4e /* N (no-op) */:
        return this.value(depth);
      default:
        return this.number(marker);
    }
  }

  private number(marker: number): number {
    const v = this.view;
    let out: number;
    switch (marker) {
      case 0x64 /* d */:
        this.need(4);
        out = v.getFloat32(this.pos, false);
        this.pos += 4;
        return out;
      case 0x44 /* D */:
        this.need(8);
        out = v.getFloat64(this.pos, false);
        this.pos += 8;
        return out;
      case 0x69 /* i */:
        this.need(1);
        out = v.getInt8(this.pos);
        this.pos += 1;
        return out;
      case 0x55 /* U */:
        this.need(1);
        out = v.getUint8(this.pos);
        this.pos += 1;
        return out;
      case 0x49 /* I */:
        this.need(2);
        out = v.getInt16(this.pos, false);
        this.pos += 2;
        return out;
      case 0x6c /* l */:
        this.need(4);
        out = v.getInt32(this.pos, false);
        this.pos += 4;
        return out;
      case 0x4c /* L */:
        this.need(8);
        out = Number(v.getBigInt64(this.pos, false));
        this.pos += 8;
        return out;
      default:
        return fail(`invalid UBJSON: unexpected marker 0x${marker.toString(16).padStart(2, '0')} at offset ${this.pos - 1}`);
    }
  }

  private length(): number {
    const n = this.number(this.marker());
    if (!Number.isSafeInteger(n) || n < 0) fail(`invalid UBJSON: bad length ${n} at offset ${this.pos}`);
    // no length or count in a valid file can exceed the file itself; this also stops huge allocations on garbage
    if (n > this.bytes.length) fail(`truncated or invalid UBJSON: length ${n} at offset ${this.pos} exceeds the file size`);
    return n;
  }

  private string(): string {
    const n = this.length();
    this.need(n);
    const s = this.textDecoder.decode(this.bytes.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }

  private object(depth: number): Record<string, unknown> {
    if (depth > MAX_DEPTH) fail('invalid UBJSON: nesting too deep');
    const out: Record<string, unknown> = {};
    let count = -1;
    let type = -1;
    if (this.peek() === 0x24 /* $ */) {
      this.pos++;
      type = this.marker();
    }
    if (this.peek() === 0x23 /* # */) {
      this.pos++;
      count = this.length();
    }
    for (let i = 0; count < 0 || i < count; i++) {
      if (count < 0 && this.peek() === 0x7d /* } */) {
        this.pos++;
        break;
      }
      const key = this.string();
      out[key] = type >= 0 ? this.valueOf(type, depth + 1) : this.value(depth + 1);
    }
    return out;
  }

  private peek(): number {
    this.need(1);
    return this.bytes[this.pos];
  }

  private array(depth: number): unknown {
    if (depth > MAX_DEPTH) fail('invalid UBJSON: nesting too deep');
    let type = -1;
    let count = -1;
    if (this.peek() === 0x24 /* $ */) {
      this.pos++;
      type = this.marker();
      if (this.marker() !== 0x23 /* # */) fail(`invalid UBJSON: typed array without a count at offset ${this.pos - 1}`);
      count = this.length();
      const typed = this.typedArray(type, count);
      if (typed) return typed;
    } else if (this.peek() === 0x23 /* # */) {
      this.pos++;
      count = this.length();
    }
    if (count >= 0) {
      const out = new Array<unknown>(count);
      for (let i = 0; i < count; i++) out[i] = type >= 0 ? this.valueOf(type, depth + 1) : this.value(depth + 1);
      return out;
    }
    const out: unknown[] = [];
    while (this.peek() !== 0x5d /* ] */) out.push(this.value(depth + 1));
    this.pos++;
    return out;
  }

  /** Fixed-size numeric element types become typed arrays, decoded from big-endian in one loop. */
  private typedArray(type: number, count: number): ArrayLike<number> | undefined {
    const v = this.view;
    let p = this.pos;
    switch (type) {
      case 0x64 /* d */:
        {
          this.need(count * 4);
          const out = new Float32Array(count);
          for (let i = 0; i < count; i++, p += 4) out[i] = v.getFloat32(p, false);
          this.pos = p;
          return out;
        }
      case 0x44 /* D */:
        {
          this.need(count * 8);
          const out = new Float64Array(count);
          for (let i = 0; i < count; i++, p += 8) out[i] = v.getFloat64(p, false);
          this.pos = p;
          return out;
        }
      case 0x6c /* l */:
        {
          this.need(count * 4);
          const out = new Int32Array(count);
          for (let i = 0; i < count; i++, p += 4) out[i] = v.getInt32(p, false);
          this.pos = p;
          return out;
        }
      case 0x4c /* L */:
        {
          this.need(count * 8);
          const out = new Float64Array(count);
          for (let i = 0; i < count; i++, p += 8) {
            // int64 values in a model (node ids, counts) fit in 32 bits; read the halves to avoid BigInt
            const hi = v.getInt32(p, false);
            const lo = v.getUint32(p + 4, false);
            out[i] = hi * 4294967296 + lo;
          }
          this.pos = p;
          return out;
        }
      case 0x55 /* U */:
        {
          this.need(count);
          const out = this.bytes.slice(p, p + count);
          this.pos = p + count;
          return out;
        }
      case 0x69 /* i */:
        {
          this.need(count);
          const out = new Int8Array(count);
          for (let i = 0; i < count; i++) out[i] = v.getInt8(p + i);
          this.pos = p + count;
          return out;
        }
      case 0x49 /* I */:
        {
          this.need(count * 2);
          const out = new Int16Array(count);
          for (let i = 0; i < count; i++, p += 2) out[i] = v.getInt16(p, false);
          this.pos = p;
          return out;
        }
      default:
        return undefined;
    }
  }
}
