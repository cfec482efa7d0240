/**
 * After berthd restarts, containers of a compose project with a restart policy come back in
 * depends_on order: a service gated on `service_healthy` starts only once its dependency is
 * healthy again (the containers died while berthd was away, as in a reboot).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { api, BERTH } from './harness.js'
import { dockerSuite } from './image-helpers.js'
import { busyboxDaemon, runKilled } from './container-helpers.js'

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

dockerSuite('compose projects after a berthd restart', () => {
  const daemon = busyboxDaemon()
  describe('restart order', () => {
    it('starts a service_healthy dependant only after its dependency is healthy again', async () => {
      const h = daemon.h
      const dir = await mkdtemp(join(tmpdir(), 'berth-boot-'))
      try {
        // db becomes healthy ~1.5 s after each start; web and a service_started one depend on it.
        await writeFile(join(dir, 'compose.yaml'), [
          'services:',
          '  db:',
          '    image: busybox',
          '    restart: always',
          '    command: ["sh", "-c", "rm -f /tmp/ok; sleep 1.5; touch /tmp/ok; exec sleep 1000"]',
          '    healthcheck:',
          '      test: ["CMD", "test", "-f", "/tmp/ok"]',
          '      interval: 200ms',
          '      start_period: 10s',
          '      start_interval: 200ms',
          '  web:',
          '    image: busybox',
          '    restart: always',
          '    command: ["sleep", "1000"]',
          '    depends_on:',
          '      db:',
          '        condition: service_healthy',
          '',
        ].join('\n'))
        const up = await runKilled(h, 90, ['env', '-C', dir, process.execPath, BERTH, 'compose', '-p', 'boot', 'up', '-d', '--wait'])
        assert.equal(up.code, 0, up.stderr)
        const inspect = async (name: string): Promise<Json> => (await api(h, 'GET', `/containers/${name}/json`)).json()
        const before = { db: await inspect('boot-db-1'), web: await inspect('boot-web-1') }
        // A reboot: berthd goes away, then the containers' processes die.
        await h.stop()
        for (const c of Object.values(before)) process.kill(c.State.Pid, 'SIGKILL')
        await sleep(500)
        await h.restart()
        let db: Json, web: Json
        for (let i = 0; i < 100; i++) {
          db = await inspect('boot-db-1')
          web = await inspect('boot-web-1')
          if (web.State.Status === 'running' && db.State.Health?.Status === 'healthy') break
          await sleep(100)
        }
        assert.equal(db.State.Status, 'running')
        assert.equal(web.State.Status, 'running', 'web did not come back')
        assert.notEqual(db.State.StartedAt, before.db.State.StartedAt, 'db was not restarted')
        const healthyAt = Math.min(...db.State.Health.Log.filter((l: Json) => l.ExitCode === 0 && Date.parse(l.Start) >= Date.parse(db.State.StartedAt)).map((l: Json) => Date.parse(l.End)))
        assert.ok(Number.isFinite(healthyAt), 'no healthy probe after the restart')
        assert.ok(Date.parse(web.State.StartedAt) >= healthyAt - 5, `web started at ${web.State.StartedAt}, before db was healthy (${new Date(healthyAt).toISOString()})`)
        const down = await runKilled(h, 60, ['env', '-C', dir, process.execPath, BERTH, 'compose', '-p', 'boot', 'down'])
        assert.equal(down.code, 0, down.stderr)
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    })
  })
})
