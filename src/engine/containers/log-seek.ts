import { READ_CHUNK, type LogFile } from './log-files.js'
import { FLAG_AT, parseHeader, TimeCache } from './log-records.js'

/** A byte offset in the n-th file of the rotated set. */
export interface Position { file: number; offset: number }

/** The later of two positions. */
export function pickLater(a: Position, b: Position): Position {
  return a.file > b.file || (a.file === b.file && a.offset >= b.offset) ? a : b
}

/** Where the last `n` lines (records ending a line: F) start, reading backwards from the end. */
export async function tailPosition(files: LogFile[], n: number): Promise<Position> {
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
    const h = parseHeader(buf, 0, nl)
    if (h) return { offset: pos, time: times.nano(buf, 0, h.tsEnd) }
    pos += nl + 1
  }
}

/** The first record with a time >= since: the file by its first record, then binary search on byte offsets. */
export async function sincePosition(files: LogFile[], since: bigint): Promise<Position> {
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
    const h = parseHeader(win, s, nl)
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
export async function midLineStreams(files: LogFile[], pos: Position): Promise<Set<1 | 2>> {
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
        const h = parseHeader(buf, s, nl)
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
