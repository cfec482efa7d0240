import { open, stat } from 'node:fs/promises'
import { watch } from 'node:fs'
import { isNotFoundErrno } from '../../lib/errors.js'

/** One log record as conmon's k8s-file format stores it: `<RFC3339Nano> <stream> <P|F> <text>`. */
export interface LogRecord {
  stream: 'stdout' | 'stderr'
  /** Nanoseconds since the epoch. */
  timeNano: bigint
  /** The bytes, with a newline unless the record is a partial line. */
  data: Buffer
}

export interface LogQuery {
  stdout: boolean
  stderr: boolean
  /** Seconds.nanos lower bound (inclusive), or undefined. */
  sinceNano?: bigint
  untilNano?: bigint
  /** Last N lines; undefined or negative is all. */
  tail?: number
  follow: boolean
  signal?: AbortSignal
  /** Resolves when following should stop (the container stopped). */
  stopped?: () => boolean
}

const CHUNK = 64 * 1024

export function parseTimeNano(ts: string): bigint {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(ts)
  if (!m) return 0n
  const secs = BigInt(Date.parse(`${m[1]}${m[3]}`) / 1000)
  return secs * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'))
}

function parseLine(line: Buffer): LogRecord | undefined {
  const s1 = line.indexOf(0x20)
  const s2 = s1 < 0 ? -1 : line.indexOf(0x20, s1 + 1)
  const s3 = s2 < 0 ? -1 : line.indexOf(0x20, s2 + 1)
  if (s3 < 0) return undefined
  const stream = line.toString('latin1', s1 + 1, s2)
  if (stream !== 'stdout' && stream !== 'stderr') return undefined
  const partial = line[s2 + 1] === 0x50 // 'P'
  const text = line.subarray(s3 + 1)
  return { stream, timeNano: parseTimeNano(line.toString('latin1', 0, s1)), data: partial ? text : Buffer.concat([text, Buffer.from('\n')]) }
}

/** Offset from which the last `n` lines of the file start, reading backwards in chunks. */
async function tailOffset(path: string, n: number): Promise<number> {
  const fh = await open(path, 'r')
  try {
    const size = (await fh.stat()).size
    let pos = size
    let newlines = 0
    const buf = Buffer.alloc(CHUNK)
    // A file normally ends with a newline: it does not start a line.
    let skipLast = true
    while (pos > 0) {
      const len = Math.min(CHUNK, pos)
      pos -= len
      await fh.read(buf, 0, len, pos)
      for (let i = len - 1; i >= 0; i--) {
        if (buf[i] !== 0x0a) { skipLast = false; continue }
        if (skipLast) { skipLast = false; continue }
        if (++newlines === n) return pos + i + 1
      }
    }
    return 0
  } finally {
    await fh.close()
  }
}

/**
 * Read a container's log as Docker's logs API does: optionally the last N lines, filtered by
 * time and stream, then (with follow) new records as conmon appends them, until the
 * container stops and the file is drained.
 */
export async function* readLogs(path: string, q: LogQuery): AsyncGenerator<LogRecord> {
  let start = 0
  try {
    if (q.tail !== undefined && q.tail >= 0) start = q.tail === 0 ? (await stat(path)).size : await tailOffset(path, q.tail)
  } catch (err) {
    if (!isNotFoundErrno(err)) throw err
  }
  let pos = start
  let rest = Buffer.alloc(0)
  const want = (r: LogRecord) =>
    ((r.stream === 'stdout' && q.stdout) || (r.stream === 'stderr' && q.stderr)) &&
    (q.sinceNano === undefined || r.timeNano >= q.sinceNano) &&
    (q.untilNano === undefined || r.timeNano <= q.untilNano)
  const drain = async function* (): AsyncGenerator<LogRecord> {
    let fh
    try {
      fh = await open(path, 'r')
    } catch (err) {
      if (isNotFoundErrno(err)) return
      throw err
    }
    try {
      const size = (await fh.stat()).size
      if (size < pos) { pos = 0; rest = Buffer.alloc(0) } // rotated or truncated: start over
      const buf = Buffer.alloc(CHUNK)
      while (pos < size) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(CHUNK, size - pos), pos)
        if (bytesRead === 0) break
        pos += bytesRead
        let data = rest.length ? Buffer.concat([rest, buf.subarray(0, bytesRead)]) : Buffer.from(buf.subarray(0, bytesRead))
        let nl: number
        while ((nl = data.indexOf(0x0a)) >= 0) {
          const rec = parseLine(data.subarray(0, nl))
          data = data.subarray(nl + 1)
          if (rec && want(rec)) yield rec
        }
        rest = data
      }
    } finally {
      await fh.close()
    }
  }
  yield* drain()
  if (!q.follow) return
  while (!q.signal?.aborted) {
    if (q.untilNano !== undefined && BigInt(Date.now()) * 1_000_000n > q.untilNano) return
    const stopped = q.stopped?.() ?? false
    await waitForChange(path, stopped ? 0 : 1000, q.signal)
    yield* drain()
    if (stopped) return
  }
}

function waitForChange(path: string, maxMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    let w: ReturnType<typeof watch> | undefined
    const done = () => {
      clearTimeout(t)
      w?.close()
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const t = setTimeout(done, maxMs)
    try {
      w = watch(path, done)
      w.on('error', done)
    } catch {
      // The file does not exist yet: the timer polls.
    }
    signal?.addEventListener('abort', done, { once: true })
  })
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
