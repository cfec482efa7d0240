import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readdir, readFile, rm, stat, writeFile, appendFile, open } from 'node:fs/promises'
import { constants } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkRotation, logAttributes, logSettings, monitorLogOptions, nextInterval, parseHumanSize, resolveLogConfig, shiftRotated } from './log-rotate.js'
import { keepPath, rotatedPath } from './logs.js'
import type { ContainerRecord } from './types.js'
import { realPlatform } from '../../platform/platform.js'

const msg = (f: () => unknown) => { try { f(); return '' } catch (e) { return (e as Error).message } }

describe('log config: Docker validation and defaults', () => {
  it('fills the daemon defaults for its own driver only, and keeps the container\'s options', () => {
    const d = { type: 'json-file', config: { 'max-size': '1m', 'max-file': '2' } }
    assert.deepEqual(resolveLogConfig({ type: '', config: {} }, d), { type: 'json-file', config: { 'max-size': '1m', 'max-file': '2' } })
    assert.deepEqual(resolveLogConfig({ type: 'json-file', config: { 'max-size': '5k' } }, d).config, { 'max-size': '5k', 'max-file': '2' })
    assert.deepEqual(resolveLogConfig({ type: 'local', config: {} }, d), { type: 'local', config: {} })
    assert.deepEqual(resolveLogConfig({ type: 'none', config: { anything: 'x' } }), { type: 'none', config: { anything: 'x' } })
  })

  it('rejects with Docker\'s messages', () => {
    const r = (type: string, config: Record<string, string>) => msg(() => resolveLogConfig({ type, config }))
    assert.equal(r('json-file', { foo: 'x' }), "unknown log opt 'foo' for json-file log driver")
    assert.equal(r('local', { labels: 'x' }), "unknown log opt 'labels' for log driver local")
    assert.equal(r('syslogx', {}), "logger: no log driver named 'syslogx' is registered")
    assert.equal(r('json-file', { 'max-file': '0' }), 'failed to initialize logging driver: max-file cannot be less than 1')
    assert.equal(r('json-file', { 'max-file': 'x' }), 'failed to initialize logging driver: strconv.Atoi: parsing "x": invalid syntax')
    assert.equal(r('json-file', { 'max-size': '0' }), 'failed to initialize logging driver: max-size must be a positive number')
    assert.equal(r('json-file', { 'max-size': 'big' }), "failed to initialize logging driver: invalid size: 'big'")
    assert.equal(r('json-file', { compress: 'yes' }), 'failed to initialize logging driver: strconv.ParseBool: parsing "yes": invalid syntax')
    assert.equal(r('json-file', { compress: 'true', 'max-file': '1' }), 'failed to initialize logging driver: compress cannot be true when max-file is less than 2 or max-size is not set')
    assert.equal(r('json-file', { mode: 'fast' }), 'logger: logging mode not supported: fast')
    assert.equal(r('json-file', { 'max-buffer-size': '1m' }), "logger: max-buffer-size option is only supported with 'mode=non-blocking'")
    assert.equal(r('json-file', { mode: 'non-blocking', 'max-buffer-size': '1m', labels: 'a', env: 'B', 'env-regex': '^X', tag: '{{.Name}}' }), '')
  })

  it('sizes as docker/go-units reads them; rotation on by default', () => {
    assert.equal(parseHumanSize('10k'), 10_000)
    assert.equal(parseHumanSize('20m'), 20_000_000)
    assert.equal(parseHumanSize('1.5MB'), 1_500_000)
    assert.equal(parseHumanSize('3 kib'), 3000)
    assert.deepEqual(logSettings({ type: 'json-file', config: {} }), { maxSize: 20_000_000, maxFile: 5, compress: false })
    assert.equal(logSettings({ type: 'none', config: {} }), undefined)
    assert.deepEqual(monitorLogOptions({ type: 'json-file', config: { 'max-size': '10k', 'max-file': '3' } }), { logSizeMax: 30_000 })
    assert.deepEqual(monitorLogOptions({ type: 'none', config: {} }), { noLog: true })
  })

  it('--details attributes: sorted, query-escaped, only those asked for', () => {
    const rec = {
      id: 'a'.repeat(64), name: '/web', imageId: `sha256:${'b'.repeat(64)}`,
      config: { labels: { zone: 'eu west', app: 'shop', other: 'x' }, env: ['PATH=/bin', 'MODE=prod&x', 'X_ONE=1'], image: 'busybox' },
      hostConfig: { logConfig: { type: 'json-file', config: { labels: 'zone,app,missing', env: 'MODE', 'env-regex': '^X_', tag: '{{.Name}}/{{.ID}}' } } },
    } as unknown as ContainerRecord
    assert.equal(logAttributes(rec), 'MODE=prod%26x,X_ONE=1,app=shop,tag=web%2Faaaaaaaaaaaa,zone=eu+west')
    rec.hostConfig.logConfig.config = {}
    assert.equal(logAttributes(rec), '')
  })
})

describe('log rotation on disk', () => {
  it('shifts .1 → .2 ... and drops what is beyond max-file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-rot-'))
    const log = join(dir, 'container.log')
    try {
      for (const i of [1, 2]) await writeFile(rotatedPath(log, i), `f${i}`)
      await shiftRotated(log, 3)
      assert.deepEqual((await readdir(dir)).sort(), ['container.log.2'])
      assert.equal(await readFile(rotatedPath(log, 2), 'utf8'), 'f1')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('renames the full file to .1, asks conmon to reopen through the control FIFO, and links the new file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-rot-'))
    const log = join(dir, 'container.log')
    const ctl = join(dir, 'ctl')
    const s = { maxSize: 100, maxFile: 3, compress: false }
    try {
      await realPlatform().fileTools.mknod(ctl, 0o600, { type: 'p' })
      // Plays conmon: reads the FIFO, and on "2" creates a fresh log file (as conmon's rename of .tmp).
      const fifo = await open(ctl, constants.O_RDWR | constants.O_NONBLOCK)
      const seen: string[] = []
      const timer = setInterval(async () => {
        const b = Buffer.alloc(64)
        try {
          const { bytesRead } = await fifo.read(b, 0, 64, null)
          if (bytesRead > 0) { seen.push(b.subarray(0, bytesRead).toString()); await writeFile(`${log}.tmp`, ''); const { rename } = await import('node:fs/promises'); await rename(`${log}.tmp`, log) }
        } catch (err) { if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err }
      }, 2)
      try {
        await writeFile(log, 'x'.repeat(50))
        assert.equal(await checkRotation(log, ctl, s), 50)
        assert.equal((await stat(keepPath(log))).ino, (await stat(log)).ino)
        for (let round = 1; round <= 4; round++) {
          await appendFile(log, `${round}`.repeat(120))
          assert.equal(await checkRotation(log, ctl, s), 0)
          assert.equal((await stat(keepPath(log))).ino, (await stat(log)).ino)
        }
        assert.deepEqual(seen.join(''), '2 0 0\n'.repeat(4))
        assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith('container.log')).sort(), ['container.log', 'container.log.1', 'container.log.2'])
        assert.equal((await readFile(rotatedPath(log, 1), 'utf8'))[0], '4')
        assert.equal((await readFile(rotatedPath(log, 2), 'utf8'))[0], '3')
        // A cut conmon made itself (its --log-size-max): the kept link files the old log as .1.
        await appendFile(log, 'c'.repeat(10))
        await writeFile(`${log}.tmp`, 'new')
        const { rename } = await import('node:fs/promises')
        await rename(`${log}.tmp`, log)
        assert.equal(await checkRotation(log, ctl, s), 3)
        assert.equal(await readFile(rotatedPath(log, 1), 'utf8'), 'c'.repeat(10))
        assert.equal((await readFile(rotatedPath(log, 2), 'utf8'))[0], '4')
        assert.equal((await stat(keepPath(log))).ino, (await stat(log)).ino)
      } finally {
        clearInterval(timer)
        await fifo.close()
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('a reopen request to a FIFO nobody reads returns at once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-rot-'))
    try {
      await realPlatform().fileTools.mknod(join(dir, 'ctl'), 0o600, { type: 'p' })
      const { requestReopen } = await import('./log-rotate.js')
      assert.equal(await requestReopen(join(dir, 'ctl')), false)
      assert.equal(await requestReopen(join(dir, 'missing')), false)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('checks a fast writer often and an idle one rarely', () => {
    const s = { maxSize: 20_000_000, maxFile: 5, compress: false }
    const w = { lastSize: 0, lastAt: 0, rate: 0, settings: s }
    // 140 MB/s: 140 KB per ms.
    const fast = nextInterval(w, 0, 1_400_000, 10)
    assert.ok(fast >= 5 && fast < 100, `fast ${fast}`)
    const w2 = { lastSize: 100, lastAt: 0, rate: 0, settings: s }
    const idle = nextInterval(w2, 100, 100, 30_000)
    assert.ok(idle >= 30_000, `idle ${idle}`)
  })
})
