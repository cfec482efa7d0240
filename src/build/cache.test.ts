import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BuildCache } from './cache.js'

describe('build cache index', () => {
  it('keeps every entry of concurrent puts, written behind them and on disk after flush (regression: parallel stages lost entries)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-bcache-'))
    try {
      const c = BuildCache.for(dir)
      assert.equal(BuildCache.for(dir), c)
      await Promise.all(Array.from({ length: 50 }, (_, i) => c.put(`sha256:p${i}`, `key${i}`, '', `sha256:${String(i).padStart(64, '0')}`)))
      // put does not wait for the write (the steps go on); flush is where the index is on disk.
      await c.flush()
      const onDisk = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { entries: Record<string, unknown> }
      assert.equal(Object.keys(onDisk.entries).length, 50)
      assert.equal(await c.get('sha256:p7', 'key7', ''), `sha256:${'7'.padStart(64, '0')}`)
      assert.equal(await c.get('sha256:p7', 'key7', 'other content'), undefined)
    } finally { await rm(dir, { recursive: true, force: true }) }
  })

  it('explains misses and prunes entries whose image is gone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-bcache-'))
    try {
      const c = BuildCache.for(dir)
      await c.put('sha256:p', 'COPY a', 'h1', 'sha256:img1')
      await c.put('sha256:p', 'RUN x', '', 'sha256:img2')
      const exists = (id: string) => id === 'sha256:img2'
      assert.equal(await c.explain('sha256:p', 'COPY a', 'h2', exists), 'the files it reads changed (content or metadata)')
      assert.equal(await c.explain('sha256:p', 'RUN y', '', exists), 'the instruction or the stage configuration changed')
      assert.equal(await c.explain('sha256:q', 'RUN x', '', exists), 'the previous step was rebuilt (new parent image)')
      assert.equal(await c.explain('sha256:p', 'COPY a', 'h1', exists), 'the cached image was removed')
      assert.equal((await c.prune(false, exists)).length, 1)
      assert.equal(await c.get('sha256:p', 'RUN x', ''), 'sha256:img2')
      assert.equal((await c.prune(true, exists)).length, 1)
      assert.equal(await c.get('sha256:p', 'RUN x', ''), undefined)
    } finally { await rm(dir, { recursive: true, force: true }) }
  })
})
