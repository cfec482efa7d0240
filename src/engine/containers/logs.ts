import { open, readdir, stat, type FileHandle } from 'node:fs/promises'
import { watch, type FSWatcher } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { isNotFoundErrno } from '../../lib/errors.js'

/** One log line as Docker's logs API returns it (partial records of conmon's k8s-file joined). */
export interface LogRecord {
  stream: 'stdout' | 'stderr'
  /** Nanoseconds since the epoch (of the line's first part). */
  timeNano: bigint
  /** The bytes, with a newline unless the line is still incomplete. */
  data: Buffer
}

export interface LogQuery {
  stdout: boolean
  stderr: boolean
  /** Lower bound (inclusive), nanoseconds since the epoch. */
  sinceNano?: bigint
  /** Upper bound (inclusive). */
  untilNano?: bigint
  /** Last N lines; undefined or negative is all. */
  tail?: number
  follow: boolean
  signal?: AbortSignal
  /** True once following should stop (the container stopped). */
  stopped?: () => boolean
}

/** How `readLogFrames` encodes each line. */
export interface FrameFormat {
  /** Raw bytes (TTY) instead of the stdcopy framing. */
  raw: boolean
  /** Prefix each line with its RFC3339Nano UTC timestamp. */
  timestamps: boolean
  /** `docker logs --details`: the attributes, prefixed to each line followed by a space. */
  details?: string
}

const READ_CHUNK = 1 << 20
const OUT_CHUNK = 256 << 10
/** A line joined from partial records is flushed as it is beyond this size. */
const MAX_JOINED = 1 << 20
/** conmon's header: `2006-01-02T15:04:05.999999999+07:00 stdout F `; the flag is at this offset. */
const FLAG_AT = 43

// ---- the rotated set

/** The hidden hard link the rotator keeps to the file conmon writes (see log-rotate.ts). */
export function keepPath(logPath: string): string {
  return join(dirname(logPath), `.${basename(logPath)}.keep`)
}

export function rotatedPath(logPath: string, n: number): string {
  return `${logPath}.${n}`
}

interface LogFile {
  fh: FileHandle
  ino: number
  /** Size when opened (rotated files no longer grow; the current one may). */
  size: number
}

/**
 * Open the container's log files, oldest first: `container.log.N` ... `.1`, the rotator's link to
 * the file conmon wrote before a cut of its own, and `container.log`. Files are opened newest
 * first, deduplicated by inode and checked against their names again, so that a rotation
 * running meanwhile cannot make a file appear twice or out of order (the open is retried).
 */
export async function openLogSet(logPath: string): Promise<LogFile[]> {
  for (let attempt = 0; ; attempt++) {
    let names: string[]
    try {
      names = await readdir(dirname(logPath))
    } catch (err) {
      if (isNotFoundErrno(err)) return []
      throw err
    }
    const base = basename(logPath)
    const nums = names.map((n) => (n.startsWith(`${base}.`) ? /^\d+$/.exec(n.slice(base.length + 1))?.[0] : undefined)).filter((n): n is string => !!n).map(Number).sort((a, b) => a - b)
    const newestFirst = [logPath, keepPath(logPath), ...nums.map((n) => rotatedPath(logPath, n))]
    const opened: Array<{ path: string; f: LogFile }> = []
    let stable = true
    try {
      for (const p of newestFirst) {
        let fh: FileHandle
        try {
          fh = await open(p, 'r')
        } catch (err) {
          if (isNotFoundErrno(err)) continue
          throw err
        }
        const st = await fh.stat()
        opened.push({ path: p, f: { fh, ino: st.ino, size: st.size } })
      }
      for (const { path, f } of opened) {
        const st = await stat(path).catch((err: unknown) => { if (isNotFoundErrno(err)) return undefined; throw err })
        if (st?.ino !== f.ino) { stable = false; break }
      }
    } catch (err) {
      await Promise.all(opened.map((o) => o.f.fh.close()))
      throw err
    }
    if (!stable && attempt < 5) {
      await Promise.all(opened.map((o) => o.f.fh.close()))
      continue
    }
    const seen = new Set<number>()
    const out: LogFile[] = []
    for (const { f } of opened.reverse()) {
      if (seen.has(f.ino)) await f.fh.close()
      else { seen.add(f.ino); out.push(f) }
    }
    return out
  }
}

// ---- timestamps

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
class TimeCache {
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

// ---- scanning records

interface Header {
  /** End of the timestamp (the first space). */
  tsEnd: number
  stream: 1 | 2
  partial: boolean
  /** Start of the text. */
  text: number
}

/** Parse a record's header at buf[s..nl); undefined for a malformed record. */
function header(buf: Buffer, s: number, nl: number): Header | undefined {
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
interface LineSink {
  /** Returns false to stop reading (past `until`). */
  line(stream: 1 | 2, tsBuf: Buffer, tsStart: number, tsEnd: number, payload: Buffer, pStart: number, pEnd: number): boolean
}

/** Joins partial records (P ... F) per stream, across reads and across files. */
class Joiner {
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
      const h = header(buf, s, nl)
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

// ---- finding where to start

interface Position { file: number; offset: number }

function later(a: Position, b: Position): Position {
  return a.file > b.file || (a.file === b.file && a.offset >= b.offset) ? a : b
}

/** Where the last `n` lines (records ending a line: F) start, reading backwards from the end. */
async function tailPosition(files: LogFile[], n: number): Promise<Position> {
  if (n <= 0) return { file: files.length - 1, offset: files[files.length - 1]?.size ?? 0 }
  const buf = Buffer.alloc(READ_CHUNK + 64)
  let count = 0
  for (let fi = files.length - 1; fi >= 0; fi--) {
    const f = files[fi]!
    let pos = f.size
    // Start of the record after the one being looked at.
    let next = f.size
    while (pos > 0) {
      const len = Math.min(READ_CHUNK, pos)
      pos -= len
      const want = Math.min(len + 64, f.size - pos)
      const { bytesRead } = await f.fh.read(buf, 0, want, pos)
      let i = Math.min(len, bytesRead) - 1
      for (;;) {
        const nl = i >= 0 ? buf.lastIndexOf(0x0a, i) : -1
        if (nl < 0 && pos > 0) break // the record starting in this chunk is seen with the one before
        // The record starting at nl+1 (or at the file's start).
        const r = nl + 1
        if (pos + r < next) {
          const isF = r + FLAG_AT < bytesRead && buf[r + 35] === 0x20 ? buf[r + FLAG_AT] === 0x46 : true
          if (isF && ++count === n + 1) return { file: fi, offset: next }
          next = pos + r
        }
        if (nl < 0) break
        i = nl - 1
      }
    }
  }
  return { file: 0, offset: 0 }
}

/** Time and offset of the first whole record starting at or after `p` in f; undefined at the end. */
async function recordAtOrAfter(f: LogFile, p: number, times: TimeCache, buf: Buffer): Promise<{ offset: number; time: bigint } | undefined> {
  let pos = p
  if (p > 0) {
    // A record starts after a newline: find the first one at p-1 or later.
    for (let q = p - 1; ; ) {
      if (q >= f.size) return undefined
      const { bytesRead } = await f.fh.read(buf, 0, Math.min(buf.length, f.size - q), q)
      if (bytesRead === 0) return undefined
      const nl = buf.indexOf(0x0a)
      if (nl >= 0 && nl < bytesRead) { pos = q + nl + 1; break }
      q += bytesRead
    }
  }
  for (;;) {
    if (pos >= f.size) return undefined
    const { bytesRead } = await f.fh.read(buf, 0, Math.min(buf.length, f.size - pos), pos)
    const nl = buf.indexOf(0x0a)
    if (nl < 0 || nl >= bytesRead) return undefined
    const h = header(buf, 0, nl)
    if (h) return { offset: pos, time: times.nano(buf, 0, h.tsEnd) }
    pos += nl + 1
  }
}

/** The first record with a time >= since: the file by its first record, then binary search on byte offsets. */
async function sincePosition(files: LogFile[], since: bigint): Promise<Position> {
  const times = new TimeCache()
  const probe = Buffer.alloc(16 << 10)
  let fi = -1
  for (let i = files.length - 1; i >= 0; i--) {
    const first = await recordAtOrAfter(files[i]!, 0, times, probe)
    if (first && first.time < since) { fi = i; break }
  }
  if (fi < 0) return { file: 0, offset: 0 }
  const f = files[fi]!
  // The first record not older than since starts at lo or later, and no later than the first record at or after hi.
  let lo = 0
  let hi = f.size
  while (hi - lo > 64 << 10) {
    const mid = lo + Math.floor((hi - lo) / 2)
    const r = await recordAtOrAfter(f, mid, times, probe)
    if (!r || r.time >= since) hi = mid
    else lo = r.offset + 1
  }
  // The rest in memory: the window from lo to a little past hi.
  const winEnd = Math.min(f.size, hi + (16 << 10))
  const win = Buffer.alloc(winEnd - lo)
  const { bytesRead } = await f.fh.read(win, 0, win.length, lo)
  let s = 0
  if (lo > 0) {
    // lo is a record's start + 1: the next record starts after the next newline.
    const nl = win.indexOf(0x0a)
    s = nl < 0 || nl >= bytesRead ? bytesRead : nl + 1
  }
  while (s < bytesRead) {
    const nl = win.indexOf(0x0a, s)
    if (nl < 0 || nl >= bytesRead) break
    const h = header(win, s, nl)
    if (h && times.nano(win, s, h.tsEnd) >= since) return { file: fi, offset: lo + s }
    s = nl + 1
  }
  const r = await recordAtOrAfter(f, lo + s, times, probe)
  if (r) return { file: fi, offset: r.offset }
  return fi + 1 < files.length ? { file: fi + 1, offset: 0 } : { file: fi, offset: f.size }
}

/**
 * Streams whose line is unfinished just before `pos` (their last record there is partial): read
 * from `pos`, their first records would be the tail of a line that began earlier, which is
 * older than the start asked for. Looks back at most 64 KiB.
 */
async function midLineStreams(files: LogFile[], pos: Position): Promise<Set<1 | 2>> {
  const last: Array<boolean | undefined> = [undefined, undefined, undefined]
  let fi = pos.file
  let end = pos.offset
  // This file before pos, then (for a stream not seen there) the end of the file before it.
  for (let round = 0; round < 2 && fi >= 0; round++) {
    const f = files[fi]
    if (f && end > 0) {
      const from = Math.max(0, end - (64 << 10))
      const buf = Buffer.alloc(end - from)
      const { bytesRead } = await f.fh.read(buf, 0, buf.length, from)
      let s = from > 0 ? buf.indexOf(0x0a) + 1 : 0
      const seen: Array<boolean | undefined> = [undefined, undefined, undefined]
      while (s > 0 || (from === 0 && s === 0)) {
        const nl = buf.indexOf(0x0a, s)
        if (nl < 0 || nl >= bytesRead) break
        const h = header(buf, s, nl)
        if (h) seen[h.stream] = h.partial
        s = nl + 1
      }
      for (const k of [1, 2] as const) if (last[k] === undefined) last[k] = seen[k]
      if (from > 0) break
    }
    fi--
    end = files[fi]?.size ?? 0
  }
  const out = new Set<1 | 2>()
  if (last[1]) out.add(1)
  if (last[2]) out.add(2)
  return out
}

// ---- reading

/** Wakes a follower when the log directory changes (writes, renames), or after a timeout. */
class Waker {
  #w?: FSWatcher
  #pending = false
  #wake?: () => void

  constructor(dir: string) {
    try {
      this.#w = watch(dir, () => this.#fire())
      this.#w.on('error', () => this.#fire())
    } catch (err) {
      if (!isNotFoundErrno(err)) throw err
    }
  }

  #fire(): void {
    this.#pending = true
    this.#wake?.()
  }

  wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.#pending || ms <= 0 || signal?.aborted) { this.#pending = false; return Promise.resolve() }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t)
        signal?.removeEventListener('abort', done)
        this.#wake = undefined
        this.#pending = false
        resolve()
      }
      const t = setTimeout(done, ms)
      this.#wake = done
      signal?.addEventListener('abort', done, { once: true })
    })
  }

  close(): void {
    this.#w?.close()
  }
}

/**
 * The core reader: lines of the rotated set from the start position the query asks for (the
 * later of `--tail` and `--since`), handed to `sink`; with `follow`, then the lines conmon
 * appends, across rotations (a rotated file is read to its end before the next one), until the
 * container stops. After each read, what `gathered()` returns is yielded.
 */
async function* readCore(logPath: string, q: LogQuery, sink: LineSink, gathered: () => Buffer[]): AsyncGenerator<Buffer[]> {
  let files = await openLogSet(logPath)
  const waker = q.follow ? new Waker(dirname(logPath)) : undefined
  let cur: LogFile | undefined
  let curPos = 0
  try {
    let start: Position = { file: 0, offset: 0 }
    if (files.length) {
      if (q.tail !== undefined && q.tail >= 0) start = later(start, await tailPosition(files, q.tail))
      if (q.sinceNano !== undefined) start = later(start, await sincePosition(files, q.sinceNano))
    }
    let stop = false
    const joiner = new Joiner({ line: (...a) => { const ok = sink.line(...a); if (!ok) stop = true; return ok } }, (s) => (s === 1 ? q.stdout : q.stderr))
    if (start.file > 0 || start.offset > 0) joiner.skipping = await midLineStreams(files, start)
    const buf = Buffer.alloc(READ_CHUNK)
    // Reads f from pos to its current end; returns the new position (whole records only).
    const drain = async function* (f: LogFile, pos: number): AsyncGenerator<Buffer[], number> {
      let fill = 0
      for (;;) {
        if (fill === buf.length) {
          // Not one newline in a whole buffer: not conmon's output (its records are < 9 KiB). Skip it.
          pos += fill
          fill = 0
        }
        const { bytesRead } = await f.fh.read(buf, fill, buf.length - fill, pos + fill)
        if (bytesRead === 0) return pos
        const end = fill + bytesRead
        const [used, go] = joiner.scan(buf, 0, end)
        pos += used
        buf.copy(buf, 0, used, end)
        fill = end - used
        const out = gathered()
        if (out.length) yield out
        if (!go) return pos
        if (q.signal?.aborted) return pos
      }
    }
    // Rotated (and, without follow, all) files from the start position.
    for (let i = start.file; i < files.length && !stop; i++) {
      const f = files[i]!
      const pos = yield* drain(f, i === start.file ? start.offset : 0)
      if (i === files.length - 1) { cur = f; curPos = pos }
    }
    for (const f of files) if (f !== cur) await f.fh.close()
    files = []
    if (!q.follow || stop || !cur) {
      if (!stop) joiner.flushAll()
      const out = gathered()
      if (out.length) yield out
      return
    }
    let pos = curPos
    for (;;) {
      if (q.signal?.aborted) return
      if (q.untilNano !== undefined && BigInt(Date.now()) * 1_000_000n > q.untilNano) return
      const stopped = q.stopped?.() ?? false
      await waker!.wait(stopped ? 0 : 1000, q.signal)
      pos = yield* drain(cur, pos)
      if (stop) return
      // Rotated? conmon has moved on once container.log names another file: finish ours, then
      // continue with the file that came after it.
      const st = await stat(logPath).catch((err: unknown) => { if (isNotFoundErrno(err)) return undefined; throw err })
      if (st && st.ino !== cur.ino) {
        pos = yield* drain(cur, pos)
        const set = await openLogSet(logPath)
        const idx = set.findIndex((f) => f.ino === cur!.ino)
        // Not in the set any more: every file left is newer than ours, the oldest comes next.
        const next = idx >= 0 ? set[idx + 1] : set[0]
        for (const f of set) if (f !== next) await f.fh.close()
        if (next) {
          await cur.fh.close()
          cur = next
          pos = 0
          continue
        }
      }
      if (stopped) {
        joiner.flushAll()
        const out = gathered()
        if (out.length) yield out
        return
      }
    }
  } finally {
    waker?.close()
    for (const f of files) await f.fh.close().catch(() => {})
    await cur?.fh.close().catch(() => {})
  }
}

/**
 * Docker's logs stream, encoded: stdcopy frames (or raw bytes with a TTY), with timestamps and
 * details as asked, gathered into large buffers so a 100 MB log costs few writes.
 */
export async function* readLogFrames(logPath: string, q: LogQuery, fmt: FrameFormat): AsyncGenerator<Buffer> {
  const times = new TimeCache()
  const details = fmt.details !== undefined ? Buffer.from(`${fmt.details} `) : undefined
  let out = Buffer.allocUnsafe(OUT_CHUNK)
  let o = 0
  const ready: Buffer[] = []
  const until = q.untilNano
  // Consecutive lines of one stream share a stdcopy frame (a frame is a piece of a stream, not a
  // line): the client then makes one write per frame instead of one per line.
  let frameAt = -1
  let frameStream = 0
  const sink: LineSink = {
    line(stream, tb, ts, te, p, ps, pe) {
      if (until !== undefined && times.nano(tb, ts, te) > until) return false
      const need = 8 + 32 + (details?.length ?? 0) + (pe - ps)
      if (o + need > out.length) {
        if (o > 0) ready.push(out.subarray(0, o))
        out = Buffer.allocUnsafe(Math.max(OUT_CHUNK, need))
        o = 0
        frameAt = -1
      }
      if (!fmt.raw && (frameAt < 0 || frameStream !== stream)) {
        frameAt = o
        frameStream = stream
        out[o] = stream
        out[o + 1] = 0
        out[o + 2] = 0
        out[o + 3] = 0
        o += 8
      }
      if (fmt.timestamps) o = times.writeUtc(tb, ts, te, out, o)
      if (details) o += details.copy(out, o)
      o += p.copy(out, o, ps, pe)
      if (!fmt.raw) out.writeUInt32BE(o - frameAt - 8, frameAt + 4)
      return true
    },
  }
  const gathered = () => {
    frameAt = -1
    if (o > 0) {
      ready.push(out.subarray(0, o))
      out = out.length - o >= 64 << 10 ? out.subarray(o) : Buffer.allocUnsafe(OUT_CHUNK)
      o = 0
    }
    return ready.splice(0)
  }
  for await (const bufs of readCore(logPath, q, sink, gathered)) yield* bufs
}

/**
 * Read a container's log as Docker's logs API does, one line at a time: optionally the last N
 * lines, filtered by time and stream, then (with follow) new lines as conmon appends them,
 * across rotations, until the container stops and the file is drained.
 */
export async function* readLogs(logPath: string, q: LogQuery): AsyncGenerator<LogRecord> {
  const times = new TimeCache()
  const lines: LogRecord[] = []
  const until = q.untilNano
  const sink: LineSink = {
    line(stream, tb, ts, te, p, ps, pe) {
      const timeNano = times.nano(tb, ts, te)
      if (until !== undefined && timeNano > until) return false
      lines.push({ stream: stream === 1 ? 'stdout' : 'stderr', timeNano, data: Buffer.from(p.subarray(ps, pe)) })
      return true
    },
  }
  for await (const _ of readCore(logPath, q, sink, () => (lines.length ? [Buffer.alloc(0)] : []))) yield* lines.splice(0)
  yield* lines.splice(0)
}

/** Docker's stdcopy framing: [stream, 0, 0, 0, size (big-endian uint32)] + payload. */
export function frame(stream: 0 | 1 | 2, payload: Buffer): Buffer {
  const h = Buffer.alloc(8)
  h[0] = stream
  h.writeUInt32BE(payload.length, 4)
  return Buffer.concat([h, payload])
}

/** RFC3339Nano in UTC with fixed nine digits, as docker prints log timestamps. */
export function formatNano(nano: bigint): string {
  const secs = Number(nano / 1_000_000_000n)
  const frac = (nano % 1_000_000_000n).toString().padStart(9, '0')
  return `${new Date(secs * 1000).toISOString().slice(0, 19)}.${frac}Z`
}
