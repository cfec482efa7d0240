import { stat } from 'node:fs/promises'
import { watch, type FSWatcher } from 'node:fs'
import { dirname } from 'node:path'
import { isNotFoundErrno } from '../../lib/errors.js'
import { openLogSet, READ_CHUNK, type LogFile } from './log-files.js'
import { Joiner, type LineSink } from './log-records.js'
import { midLineStreams, pickLater, sincePosition, tailPosition, type Position } from './log-seek.js'

/** What `docker logs` asks for: streams, time bounds, tail, and whether to follow. */
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
export async function* readLogLines(logPath: string, q: LogQuery, sink: LineSink, gathered: () => Buffer[]): AsyncGenerator<Buffer[]> {
  let files = await openLogSet(logPath)
  const waker = q.follow ? new Waker(dirname(logPath)) : undefined
  let cur: LogFile | undefined
  let curPos = 0
  try {
    let start: Position = { file: 0, offset: 0 }
    if (files.length) {
      if (q.tail !== undefined && q.tail >= 0) start = pickLater(start, await tailPosition(files, q.tail))
      if (q.sinceNano !== undefined) start = pickLater(start, await sincePosition(files, q.sinceNano))
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
    // The file followed (also `cur`, which the cleanup closes).
    let file: LogFile = cur
    for (;;) {
      if (q.signal?.aborted) return
      if (q.untilNano !== undefined && BigInt(Date.now()) * 1_000_000n > q.untilNano) return
      const stopped = q.stopped?.() ?? false
      await waker!.wait(stopped ? 0 : 1000, q.signal)
      pos = yield* drain(file, pos)
      if (stop) return
      // Rotated? conmon has moved on once container.log names another file: finish ours, then
      // continue with the file that came after it.
      const st = await stat(logPath).catch((err: unknown) => { if (isNotFoundErrno(err)) return undefined; throw err })
      if (st && st.ino !== file.ino) {
        pos = yield* drain(file, pos)
        const set = await openLogSet(logPath)
        const idx = set.findIndex((f) => f.ino === file.ino)
        // Not in the set: when our file is gone (shifted out), every file left is newer than
        // ours and the oldest comes next. While it still has a name, the set was listed in the
        // middle of a rotation's renames: look again rather than start over from its oldest
        // file (which was read already: lines came twice).
        const gone = idx < 0 && (await file.fh.stat()).nlink === 0
        const next = idx >= 0 ? set[idx + 1] : gone ? set[0] : undefined
        for (const f of set) if (f !== next) await f.fh.close()
        if (next) {
          await file.fh.close()
          file = next
          cur = next
          pos = 0
          continue
        }
        if (idx < 0 && !gone) {
          await new Promise((r) => setTimeout(r, 5))
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
