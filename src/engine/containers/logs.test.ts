import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { appendFile, mkdtemp, rename, rm, writeFile, link } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { keepPath, readLogFrames, readLogs, rotatedPath, type LogQuery } from './logs.js'

/** conmon's k8s-file record for second `sec` (+ nanos) of a fixed day, in a +02:00 zone. */
function rec(sec: number, stream: 'stdout' | 'stderr', flag: 'P' | 'F', text: string, nanos = 0): string {
  const h = Math.floor(sec / 3600), m = Math.floor((sec % 3600) / 60), s = sec % 60
  const p2 = (n: number) => String(n).padStart(2, '0')
  return `2024-03-01T${p2(h)}:${p2(m)}:${p2(s)}.${String(nanos).padStart(9, '0')}+02:00 ${stream} ${flag} ${text}\n`
}
/** Epoch nanos of rec(sec, ...): 2024-03-01T00:00:00+02:00 = 2024-02-29T22:00:00Z. */
const base = BigInt(Date.parse('2024-02-29T22:00:00Z')) * 1_000_000n
const nano = (sec: number, nanos = 0) => base + BigInt(sec) * 1_000_000_000n + BigInt(nanos)

async function collect(path: string, q: Partial<LogQuery>): Promise<string[]> {
  const out: string[] = []
  for await (const r of readLogs(path, { stdout: true, stderr: true, follow: false, ...q })) out.push(`${r.stream[3]}:${r.data.toString()}`)
  return out
}

describe('container logs: reading the rotated set', () => {
  let dir: string
  let log: string
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'berth-logs-')); log = join(dir, 'container.log') })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('reads .2, .1, then container.log in order, and joins a line split across files (P then F)', async () => {
    await writeFile(rotatedPath(log, 2), rec(1, 'stdout', 'F', 'one') + rec(2, 'stdout', 'F', 'two'))
    await writeFile(rotatedPath(log, 1), rec(3, 'stdout', 'F', 'three') + rec(4, 'stdout', 'P', 'fo'))
    await writeFile(log, rec(4, 'stderr', 'F', 'err') + rec(5, 'stdout', 'F', 'ur') + rec(6, 'stdout', 'F', 'five'))
    assert.deepEqual(await collect(log, {}), ['o:one\n', 'o:two\n', 'o:three\n', 'e:err\n', 'o:four\n', 'o:five\n'])
    // The joined line keeps the time of its first part.
    const recs = []
    for await (const r of readLogs(log, { stdout: true, stderr: false, follow: false })) recs.push(r)
    assert.equal(recs[3]!.timeNano, nano(4))
    assert.equal(recs.length, 5)
  })

  it('a keep link naming the current file is not read twice; one naming an older file comes before it', async () => {
    await link(log, keepPath(log))
    assert.equal((await collect(log, {})).length, 6)
    await rm(keepPath(log))
    const other = join(dir, 'other')
    await writeFile(other, rec(4, 'stdout', 'F', 'kept'))
    await rename(other, keepPath(log))
    try {
      // .1 ended with a partial line: the kept file's first record completes it.
      assert.deepEqual((await collect(log, {})).slice(3, 5), ['o:fokept\n', 'e:err\n'])
    } finally {
      await rm(keepPath(log))
    }
  })

  it('--tail counts whole lines across files', async () => {
    // A line split across the files, its parts not interleaved with the other stream.
    await writeFile(log, rec(5, 'stdout', 'F', 'ur') + rec(6, 'stdout', 'F', 'five'))
    assert.deepEqual(await collect(log, { tail: 2 }), ['o:four\n', 'o:five\n'])
    await writeFile(log, rec(4, 'stderr', 'F', 'err') + rec(5, 'stdout', 'F', 'ur') + rec(6, 'stdout', 'F', 'five'))
    assert.deepEqual(await collect(log, { tail: 1 }), ['o:five\n'])
    assert.deepEqual(await collect(log, { tail: 4 }), ['o:three\n', 'e:err\n', 'o:four\n', 'o:five\n'])
    assert.deepEqual(await collect(log, { tail: 0 }), [])
    assert.equal((await collect(log, { tail: 100 })).length, 6)
  })

  it('--since and --until by time', async () => {
    assert.deepEqual(await collect(log, { sinceNano: nano(3) }), ['o:three\n', 'e:err\n', 'o:four\n', 'o:five\n'])
    assert.deepEqual(await collect(log, { sinceNano: nano(2, 1) }), ['o:three\n', 'e:err\n', 'o:four\n', 'o:five\n'])
    assert.deepEqual(await collect(log, { sinceNano: nano(7) }), [])
    // The line begun at 4 in .1 ("fo" + "ur") is older than since=5: its second part is not shown alone.
    assert.deepEqual(await collect(log, { sinceNano: nano(5) }), ['o:five\n'])
    assert.deepEqual(await collect(log, { sinceNano: nano(0) }), (await collect(log, {})))
    assert.deepEqual(await collect(log, { untilNano: nano(2) }), ['o:one\n', 'o:two\n'])
    assert.deepEqual(await collect(log, { sinceNano: nano(2), tail: 5, untilNano: nano(3) }), ['o:two\n', 'o:three\n'])
  })
})

describe('container logs: --since binary search on a big file', () => {
  let dir: string
  let log: string
  const N = 200_000
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-logs-'))
    log = join(dir, 'container.log')
    const parts: string[] = []
    for (let i = 0; i < N; i++) parts.push(rec(Math.floor(i / 1000), 'stdout', 'F', `line ${i}`, (i % 1000) * 1000))
    await writeFile(log, parts.join(''))
  })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('finds the exact first line at or after since', async () => {
    for (const i of [0, 1, 999, 1000, 12345, 99_999, 150_000, N - 1]) {
      const since = nano(Math.floor(i / 1000), (i % 1000) * 1000)
      const out = await collect(log, { sinceNano: since, untilNano: since })
      assert.deepEqual(out, [`o:line ${i}\n`], `since line ${i}`)
    }
  })

  it('--tail 5 reads only the end', async () => {
    assert.deepEqual(await collect(log, { tail: 5 }), [0, 1, 2, 3, 4].map((k) => `o:line ${N - 5 + k}\n`))
  })

  it('frames: stdcopy headers, timestamps in UTC, details prefix', async () => {
    const bufs: Buffer[] = []
    for await (const b of readLogFrames(log, { stdout: true, stderr: true, follow: false, tail: 1 }, { raw: false, timestamps: true, details: 'a=b' })) bufs.push(b)
    const all = Buffer.concat(bufs)
    assert.equal(all[0], 1)
    assert.equal(all.readUInt32BE(4), all.length - 8)
    assert.equal(all.subarray(8).toString(), `2024-02-29T22:03:19.000999000Z a=b line ${N - 1}\n`)
    // One frame per line, as dockerd; every byte is framed.
    const many: Buffer[] = []
    for await (const b of readLogFrames(log, { stdout: true, stderr: true, follow: false, tail: 3000 }, { raw: false, timestamps: false })) many.push(b)
    const m = Buffer.concat(many)
    let text = ''
    let frames = 0
    for (let i = 0; i < m.length; ) {
      assert.equal(m[i], 1)
      const n = m.readUInt32BE(i + 4)
      const payload = m.subarray(i + 8, i + 8 + n).toString()
      assert.equal(payload.indexOf('\n'), payload.length - 1, `one line per frame: ${JSON.stringify(payload)}`)
      text += payload
      frames++
      i += 8 + n
    }
    assert.equal(frames, 3000)
    assert.equal(text.split('\n').length - 1, 3000)
    assert.ok(text.endsWith(`line ${N - 1}\n`))
  })
})

describe('container logs: follow across a rotation', () => {
  it('reads the old file to its end, then the new one, without losing a line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-logs-'))
    const log = join(dir, 'container.log')
    try {
      await writeFile(log, rec(1, 'stdout', 'F', 'a0'))
      let stopped = false
      const got: string[] = []
      const reading = (async () => {
        for await (const r of readLogs(log, { stdout: true, stderr: true, follow: true, stopped: () => stopped })) got.push(r.data.toString().trim())
      })()
      let n = 1
      for (let round = 0; round < 5; round++) {
        for (let i = 0; i < 50; i++) await appendFile(log, rec(2, 'stdout', 'F', `a${n++}`))
        // The rotation: rename, the writer still appends to the renamed file, then a new file.
        for (let k = round; k >= 1; k--) await rename(rotatedPath(log, k), rotatedPath(log, k + 1))
        await rename(log, rotatedPath(log, 1))
        await appendFile(rotatedPath(log, 1), rec(2, 'stdout', 'P', `a${n}-`))
        await new Promise((r) => setTimeout(r, 20))
        await writeFile(log, rec(2, 'stdout', 'F', `x`))
        n++
      }
      for (let i = 0; i < 50; i++) await appendFile(log, rec(3, 'stdout', 'F', `a${n++}`))
      await new Promise((r) => setTimeout(r, 100))
      stopped = true
      await reading
      const want: string[] = []
      for (let i = 0; i < n; i++) want.push(got.includes(`a${i}-x`) ? `a${i}-x` : `a${i}`)
      assert.deepEqual(got, want)
      assert.equal(got.filter((g) => g.endsWith('-x')).length, 5)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
