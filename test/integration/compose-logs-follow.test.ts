/**
 * `berth compose logs -f` follows, as compose v2 does, the project's containers that start
 * after it did: a scale-up's new replica shows up in the followed output.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BERTH } from './harness.js'
import { dockerSuite } from './image-helpers.js'
import { busyboxDaemon, runKilled } from './container-helpers.js'

dockerSuite('compose logs -f', () => {
  const daemon = busyboxDaemon()
  describe('following', () => {
    it('picks up a replica that a scale-up starts later', async () => {
      const h = daemon.h
      const dir = await mkdtemp(join(tmpdir(), 'berth-follow-'))
      try {
        await writeFile(join(dir, 'compose.yaml'), 'services:\n  tick:\n    image: busybox\n    command: ["sh", "-c", "while true; do echo tick-$$(hostname); sleep 0.2; done"]\n')
        const bc = (args: string[]) => runKilled(h, 60, ['env', '-C', dir, process.execPath, BERTH, 'compose', '-p', 'follow', ...args])
        assert.equal((await bc(['up', '-d'])).code, 0)
        const child = spawn(process.execPath, [BERTH, 'compose', '-p', 'follow', 'logs', '-f', '--no-color'], { cwd: dir, env: { ...process.env, DOCKER_HOST: h.host } })
        let out = ''
        child.stdout.on('data', (b: Buffer) => { out += b.toString() })
        try {
          for (let i = 0; i < 50 && !out.includes('tick-1  |'); i++) await new Promise((r) => setTimeout(r, 100))
          assert.match(out, /^tick-1 +\| tick-/m)
          assert.equal((await bc(['up', '-d', '--scale', 'tick=2'])).code, 0)
          for (let i = 0; i < 100 && !/^tick-2 +\| tick-/m.test(out); i++) await new Promise((r) => setTimeout(r, 100))
          assert.match(out, /^tick-2 +\| tick-/m, `the new replica's lines never appeared:\n${out.slice(-500)}`)
          assert.equal(child.exitCode, null, 'logs -f ended')
        } finally {
          child.kill('SIGKILL')
        }
        assert.equal((await bc(['down', '-t', '0'])).code, 0)
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    })
  })
})
