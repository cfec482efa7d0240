/** A line joined from partial records is flushed as it is beyond this size. */
const MAX_JOINED = 1 << 20
/** conmon's header: `2006-01-02T15:04:05.999999999+07:00 stdout F `; the flag is at this offset. */
export const FLAG_AT = 43

/** Nanoseconds since the epoch of an RFC3339 timestamp (with any offset); 0 when malformed. */
export function parseTimeNano(ts: string): bigint {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(ts)
  if (!m) return 0n
  const secs = BigInt(Date.parse(`${m[1]}${m[3]}`) / 1000)
  return secs * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'))
}

/**
 * Timestamps of conmon's records, parsed once per distinct second: conmon writes local time with
 * its offset; Docker prints UTC. Holds the last second's epoch value and its UTC text.
 */
export class TimeCache {
  #key = ''
  #secNano = 0n
  #utc = Buffer.alloc(0)

  #load(buf: Buffer, s: number, e: number): boolean {
    // Fast layout: 19 chars of seconds, '.', 9 digits, offset; anything else goes the slow way.
    if (e - s !== 35 || buf[s + 19] !== 0x2e) return false
    const key = buf.toString('latin1', s, s + 19) + buf.toString('latin1', s + 29, e)
    if (key !== this.#key) {
      const ms = Date.parse(key.slice(0, 19) + key.slice(19))
      if (Number.isNaN(ms)) return false
      this.#key = key
      this.#secNano = BigInt(ms / 1000) * 1_000_000_000n
      this.#utc = Buffer.from(`${new Date(ms).toISOString().slice(0, 19)}.`, 'latin1')
    }
    return true
  }

  nano(buf: Buffer, s: number, e: number): bigint {
    if (!this.#load(buf, s, e)) return parseTimeNano(buf.toString('latin1', s, e))
    return this.#secNano + BigInt(buf.toString('latin1', s + 20, s + 29))
  }

  /** Write `2006-01-02T15:04:05.999999999Z ` at out[o]; returns the new offset. */
  writeUtc(buf: Buffer, s: number, e: number, out: Buffer, o: number): number {
    if (!this.#load(buf, s, e)) {
      const t = Buffer.from(`${formatNano(parseTimeNano(buf.toString('latin1', s, e)))} `, 'latin1')
      t.copy(out, o)
      return o + t.length
    }
    this.#utc.copy(out, o)
    o += 20
    buf.copy(out, o, s + 20, s + 29)
    o += 9
    out[o++] = 0x5a // Z
    out[o++] = 0x20
    return o
  }
}

/** The parsed header of one conmon record. */
export interface Header {
  /** End of the timestamp (the first space). */
  tsEnd: number
  stream: 1 | 2
  partial: boolean
  /** Start of the text. */
  text: number
}

/** Parse a record's header at buf[s..nl); undefined for a malformed record. */
export function parseHeader(buf: Buffer, s: number, nl: number): Header | undefined {
  let s1: number, s2: number
  if (nl - s > FLAG_AT + 1 && buf[s + 35] === 0x20 && buf[s + 42] === 0x20 && buf[s + FLAG_AT + 1] === 0x20) {
    s1 = s + 35
    s2 = s + 42
  } else {
    s1 = buf.indexOf(0x20, s)
    if (s1 < 0 || s1 >= nl) return undefined
    s2 = buf.indexOf(0x20, s1 + 1)
    if (s2 < 0 || s2 + 2 > nl || (buf[s2 + 2] !== 0x20 && s2 + 2 !== nl)) return undefined
  }
  // "stdout" / "stderr": the fourth letter tells them apart.
  const c = buf[s1 + 4]
  if (s2 - s1 !== 7 || buf[s1 + 1] !== 0x73 || (c !== 0x6f && c !== 0x65)) return undefined
  const flag = buf[s2 + 1]
  return { tsEnd: s1, stream: c === 0x6f ? 1 : 2, partial: flag === 0x50, text: Math.min(s2 + 3, nl) }
}

/** Receives whole lines; `parts` are byte ranges of `buf` or joined copies. */
export interface LineSink {
  /** Returns false to stop reading (past `until`). */
  line(stream: 1 | 2, tsBuf: Buffer, tsStart: number, tsEnd: number, payload: Buffer, pStart: number, pEnd: number): boolean
}

/** Joins partial records (P ... F) per stream, across reads and across files. */
export class Joiner {
  readonly #parts: Array<Buffer[] | undefined> = [undefined, undefined, undefined]
  readonly #ts: Array<Buffer | undefined> = [undefined, undefined, undefined]
  readonly #size = [0, 0, 0]

  /** Streams whose records are dropped up to their next line end (see midLineStreams). */
  skipping = new Set<1 | 2>()

  constructor(readonly sink: LineSink, readonly want: (stream: 1 | 2) => boolean) {}

  /** Scan whole records in buf[start..end). Returns [offset after the last whole record, keep going]. */
  scan(buf: Buffer, start: number, end: number): [number, boolean] {
    let s = start
    for (;;) {
      const nl = buf.indexOf(0x0a, s)
      if (nl < 0 || nl >= end) return [s, true]
      const h = parseHeader(buf, s, nl)
      if (h && this.skipping.has(h.stream)) {
        if (!h.partial) this.skipping.delete(h.stream)
      } else if (h && this.want(h.stream)) {
        const parts = this.#parts[h.stream]
        if (h.partial) {
          if (!parts) {
            this.#parts[h.stream] = [Buffer.from(buf.subarray(h.text, nl))]
            this.#ts[h.stream] = Buffer.from(buf.subarray(s, h.tsEnd))
            this.#size[h.stream] = nl - h.text
          } else {
            parts.push(Buffer.from(buf.subarray(h.text, nl)))
            this.#size[h.stream]! += nl - h.text
          }
          if (this.#size[h.stream]! >= MAX_JOINED && !this.flush(h.stream)) return [nl + 1, false]
        } else if (parts) {
          parts.push(buf.subarray(h.text, nl + 1))
          const ts = this.#ts[h.stream]!
          const joined = Buffer.concat(parts)
          this.#parts[h.stream] = undefined
          if (!this.sink.line(h.stream, ts, 0, ts.length, joined, 0, joined.length)) return [nl + 1, false]
        } else if (!this.sink.line(h.stream, buf, s, h.tsEnd, buf, h.text, nl + 1)) {
          return [nl + 1, false]
        }
      }
      s = nl + 1
    }
  }

  /** Emit a pending partial line as it is (log end, or too long). */
  flush(stream: 1 | 2): boolean {
    const parts = this.#parts[stream]
    if (!parts) return true
    this.#parts[stream] = undefined
    const ts = this.#ts[stream]!
    const joined = Buffer.concat(parts)
    return this.sink.line(stream, ts, 0, ts.length, joined, 0, joined.length)
  }

  flushAll(): void {
    this.flush(1)
    this.flush(2)
  }
}

/** RFC3339Nano in UTC with fixed nine digits, as docker prints log timestamps. */
export function formatNano(nano: bigint): string {
  const secs = Number(nano / 1_000_000_000n)
  const frac = (nano % 1_000_000_000n).toString().padStart(9, '0')
  return `${new Date(secs * 1000).toISOString().slice(0, 19)}.${frac}Z`
}
