import { TimeCache, type LineSink } from './log-records.js'
import { readLogLines, type LogQuery } from './log-reader.js'

export { keepPath, openLogSet, rotatedPath } from './log-files.js'
export { formatNano, parseTimeNano } from './log-records.js'
export type { LogQuery } from './log-reader.js'

/** One log line as Docker's logs API returns it (partial records of conmon's k8s-file joined). */
export interface LogRecord {
  stream: 'stdout' | 'stderr'
  /** Nanoseconds since the epoch (of the line's first part). */
  timeNano: bigint
  /** The bytes, with a newline unless the line is still incomplete. */
  data: Buffer
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

const OUT_CHUNK = 256 << 10

/**
 * Docker's logs stream, encoded: one stdcopy frame per line (or raw bytes with a TTY), with
 * timestamps and details as asked, gathered into large buffers so a 100 MB log costs few writes.
 */
export async function* readLogFrames(logPath: string, q: LogQuery, fmt: FrameFormat): AsyncGenerator<Buffer> {
  const times = new TimeCache()
  const details = fmt.details !== undefined ? Buffer.from(`${fmt.details} `) : undefined
  let out = Buffer.allocUnsafe(OUT_CHUNK)
  let o = 0
  const ready: Buffer[] = []
  const until = q.untilNano
  // One stdcopy frame per line, as dockerd writes them (clients such as docker-py's
  // `logs(stream=True)` hand out a frame as a line); many frames share a write.
  let frameAt = -1
  const sink: LineSink = {
    line(stream, tb, ts, te, p, ps, pe) {
      if (until !== undefined && times.nano(tb, ts, te) > until) return false
      const need = 8 + 32 + (details?.length ?? 0) + (pe - ps)
      if (o + need > out.length) {
        if (o > 0) ready.push(out.subarray(0, o))
        out = Buffer.allocUnsafe(Math.max(OUT_CHUNK, need))
        o = 0
      }
      if (!fmt.raw) {
        frameAt = o
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
    if (o > 0) {
      ready.push(out.subarray(0, o))
      out = out.length - o >= 64 << 10 ? out.subarray(o) : Buffer.allocUnsafe(OUT_CHUNK)
      o = 0
    }
    return ready.splice(0)
  }
  for await (const bufs of readLogLines(logPath, q, sink, gathered)) yield* bufs
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
  for await (const _ of readLogLines(logPath, q, sink, () => (lines.length ? [Buffer.alloc(0)] : []))) yield* lines.splice(0)
  yield* lines.splice(0)
}

/** Docker's stdcopy framing: [stream, 0, 0, 0, size (big-endian uint32)] + payload. */
export function frame(stream: 0 | 1 | 2, payload: Buffer): Buffer {
  const h = Buffer.alloc(8)
  h[0] = stream
  h.writeUInt32BE(payload.length, 4)
  return Buffer.concat([h, payload])
}
