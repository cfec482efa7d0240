import { strict as assert } from 'node:assert'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { isKind } from '../../lib/errors.js'
import { newContainerConfig, newHostConfig, validateRestartPolicy } from './create.js'
import { restartDelay } from './exits.js'
import { fakeHost, harness, type Harness } from './testing.js'
import type { HostConfig } from './types.js'

const req = (hc: Partial<HostConfig> = {}, name?: string) => ({ ...(name ? { name } : {}), config: newContainerConfig({ image: 'busybox' }), hostConfig: newHostConfig(hc) })

/** Resolve once `check` holds (the exit watcher works on its own turn). */
async function until(check: () => boolean, what: string, ms = 3000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (check()) return
    await new Promise((r) => setTimeout(r, 10))
  }
  assert.fail(`timed out waiting for ${what}`)
}

const rejectsWith = (p: Promise<unknown>, re: RegExp, kind = 'InvalidArgument') =>
  assert.rejects(p, (e: Error) => { assert.match(e.message, re); assert.ok(isKind(e, kind as 'InvalidArgument'), `kind ${kind}: ${String(e)}`); return true })

describe('container create: Docker\'s create-time checks and warnings', () => {
  let h: Harness
  before(async () => { h = await harness({ host: fakeHost({ swapLimit: false }) }) })
  after(() => h.cleanup())

  const nothingLeft = () => {
    assert.equal(h.svc.store.all().length, 0)
    const dir = join(h.root, 'data', 'containers')
    assert.deepEqual(existsSync(dir) ? readdirSync(dir) : [], [])
  }

  it('refuses -m 1k at create, with Docker\'s words, and leaves nothing', async () => {
    await rejectsWith(h.svc.create(req({ memory: 1024 }, 'tiny')), /^Minimum memory limit allowed is 6MB$/)
    nothingLeft()
    assert.equal(h.svc.store.hasName('tiny'), false)
  })

  it('checks memory, swap, reservation, CPU, cpuset and platform settings as verifyPlatformContainerResources', async () => {
    await rejectsWith(h.svc.create(req({ memorySwap: 64 << 20 })), /You should always set the Memory limit when using Memoryswap limit/)
    await rejectsWith(h.svc.create(req({ memoryReservation: 1024 })), /Minimum memory reservation allowed is 6MB/)
    await rejectsWith(h.svc.create(req({ memory: 8 << 20, memoryReservation: 16 << 20 })), /Minimum memory limit can not be less than memory reservation limit/)
    await rejectsWith(h.svc.create(req({ nanoCpus: 5e9 })), /Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available/)
    await rejectsWith(h.svc.create(req({ nanoCpus: 1e9, cpuPeriod: 100000 })), /Conflicting options: Nano CPUs and CPU Period cannot both be set/)
    await rejectsWith(h.svc.create(req({ cpuPeriod: 10 })), /CPU cfs period can not be less than 1ms/)
    await rejectsWith(h.svc.create(req({ cpuQuota: 10 })), /CPU cfs quota can not be less than 1ms/)
    await rejectsWith(h.svc.create(req({ cpusetCpus: '5' })), /Requested CPUs are not available - requested 5, available: 0-1/)
    await rejectsWith(h.svc.create(req({ cpusetCpus: 'x' })), /Invalid value x for cpuset cpus/)
    await rejectsWith(h.svc.create(req({ oomScoreAdj: 5000 })), /range for oom score adj is \[-1000, 1000\]/)
    await rejectsWith(h.svc.create(req({ shmSize: -1 })), /SHM size can not be less than 0/)
    nothingLeft()
  })

  it('returns Docker\'s warnings for what the host cannot enforce', async () => {
    const { id, warnings } = await h.svc.create(req({ memory: 64 << 20 }))
    assert.deepEqual(warnings, ['Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.'])
    const host = await h.svc.create(req({ networkMode: 'host', portBindings: { '80/tcp': [{ hostIp: '', hostPort: '8080' }] } }))
    assert.ok(host.warnings.includes('Published ports are discarded when using host network mode'))
    await h.svc.remove(id)
    await h.svc.remove(host.id)
  })

  it('validates the restart policy once, with Docker\'s words', async () => {
    await rejectsWith(h.svc.create(req({ restartPolicy: { name: 'sometimes' as 'no', maximumRetryCount: 0 } })), /^invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'$/)
    await rejectsWith(h.svc.create(req({ restartPolicy: { name: 'always', maximumRetryCount: 2 } })), /^invalid restart policy: maximum retry count can only be used with 'on-failure'$/)
    await rejectsWith(h.svc.create(req({ restartPolicy: { name: 'no', maximumRetryCount: -1 } })), /can only be used with 'on-failure' and cannot be negative$/)
    await rejectsWith(h.svc.create(req({ restartPolicy: { name: 'on-failure', maximumRetryCount: -2 } })), /^invalid restart policy: maximum retry count cannot be negative$/)
    await rejectsWith(h.svc.create(req({ autoRemove: true, restartPolicy: { name: 'always', maximumRetryCount: 0 } })), /^can't create 'AutoRemove' container with restart policy$/)
    assert.deepEqual(validateRestartPolicy({ name: 'on-failure', maximumRetryCount: 3 }), { name: 'on-failure', maximumRetryCount: 3 })
    nothingLeft()
  })

  it('refuses bad mounts at create with Docker\'s words', async () => {
    await rejectsWith(h.svc.create(req({ mounts: [{ Type: 'bind', Source: 'relative', Target: '/x' }] })), /invalid mount config for type "bind": invalid mount path: 'relative' mount path must be absolute/)
    await rejectsWith(h.svc.create(req({ mounts: [{ Type: 'bind', Source: join(h.root, 'nope'), Target: '/x' }] })), /invalid mount config for type "bind": bind source path does not exist/)
    await rejectsWith(h.svc.create(req({ mounts: [{ Type: 'tmpfs', Target: '/x', VolumeOptions: { NoCopy: true } }] })), /invalid mount config for type "tmpfs": field VolumeOptions must not be specified/)
    await rejectsWith(h.svc.create(req({ mounts: [{ Type: 'weird', Target: '/x' }] })), /invalid mount config for type "weird": mount type unknown/)
    await rejectsWith(h.svc.create(req({ binds: ['/a:/b:zz'] })), /invalid mode: zz/)
    nothingLeft()
  })

  it('applies the image\'s defaults and refuses an unknown image', async () => {
    const { id } = await h.svc.create(req({}, 'defaults'))
    const rec = h.svc.resolve('defaults')
    assert.equal(rec.path, 'sh')
    assert.deepEqual(rec.config.env, ['PATH=/bin'])
    assert.equal(rec.config.hostname, id.slice(0, 12))
    await h.svc.remove(id)
    await rejectsWith(h.svc.create({ config: newContainerConfig({ image: 'nothere' }), hostConfig: newHostConfig() }), /No such image: nothere/, 'NotFound')
  })
})

describe('container lifecycle over a fake runtime', () => {
  let h: Harness
  before(async () => { h = await harness() })
  after(() => h.cleanup())

  it('start rolls back every step when one fails: nothing mounted, created or left in the exec root', async () => {
    const { id } = await h.svc.create(req({}, 'failing'))
    h.runtime.failNext.set('start', 'boom')
    await assert.rejects(h.svc.start(id), /boom/)
    const rec = h.svc.resolve(id)
    assert.equal(rec.state.status, 'created')
    assert.match(rec.state.error, /boom/)
    assert.equal(h.mounted().length, 0, 'rootfs unmounted')
    assert.equal(h.runtime.created.size, 0, 'runtime container deleted')
    assert.equal(existsSync(h.svc.bundleDir(id)), false, 'bundle removed')
    h.runtime.failNext.set('create', 'executable file `nope` not found in $PATH')
    await assert.rejects(h.svc.start(id), /exec: "nope": executable file not found in \$PATH/)
    assert.equal(h.svc.resolve(id).state.exitCode, 127)
    assert.equal(h.mounted().length, 0)
    assert.equal(existsSync(h.svc.bundleDir(id)), false)
    // A failing mount: nothing created, nothing left either.
    h.platform.mounts.failNext('mountOverlay', 'mount: overlay: no such device')
    await assert.rejects(h.svc.start(id), /no such device/)
    assert.equal(h.mounted().length, 0)
    assert.equal(h.runtime.created.size, 0)
    assert.equal(existsSync(h.svc.bundleDir(id)), false)
    await h.svc.remove(id)
  })

  it('start, stop, kill and wait move through Docker\'s states', async () => {
    const { id } = await h.svc.create(req({}, 'life'))
    assert.equal(await h.svc.start(id), 'started')
    assert.equal(await h.svc.start(id), 'already')
    const rec = h.svc.resolve(id)
    assert.equal(rec.state.status, 'running')
    assert.ok(h.mounted().includes(h.svc.rootfsDir(id)))
    const waited = h.svc.wait(id)
    assert.equal(await h.svc.stop(id, { timeout: 5 }), 'stopped')
    assert.deepEqual(await waited, { statusCode: 143 })
    assert.equal(rec.state.status, 'exited')
    assert.equal(rec.state.exitCode, 143)
    assert.equal(h.mounted().length, 0, 'rootfs unmounted at exit')
    assert.equal(await h.svc.stop(id), 'not-running')
    assert.deepEqual(await h.svc.wait(id), { statusCode: 143 })
    await assert.rejects(h.svc.kill(id), (e: Error) => isKind(e, 'Conflict') && /is not running/.test(e.message))
    await h.svc.start(id)
    await h.svc.kill(id)
    assert.equal(h.svc.resolve(id).state.exitCode, 137)
    await assert.rejects(h.svc.wait(id, 'bogus'), /invalid condition: "bogus"/)
    await h.svc.remove(id)
  })

  it('pause and unpause, and refuse what Docker refuses', async () => {
    const { id } = await h.svc.create(req({}, 'pausing'))
    await assert.rejects(h.svc.pause(id, true), /is not running/)
    await h.svc.start(id)
    await h.svc.pause(id, true)
    assert.equal(h.svc.resolve(id).state.status, 'paused')
    await assert.rejects(h.svc.pause(id, true), /already paused/)
    await assert.rejects(h.svc.start(id), /cannot start a paused container/)
    await h.svc.pause(id, false)
    await h.svc.kill(id)
    await h.svc.remove(id)
  })

  it('restart policy: back-off doubles from 100 ms; a stopped container is not restarted', async () => {
    assert.equal(restartDelay(0, 50), 100)
    assert.equal(restartDelay(3, 50), 800)
    assert.equal(restartDelay(20, 50), 60_000)
    assert.equal(restartDelay(5, 11_000), 100)
    const { id } = await h.svc.create(req({ restartPolicy: { name: 'always', maximumRetryCount: 0 } }, 'policy'))
    await h.svc.start(id)
    const rec = h.svc.resolve(id)
    await h.runtime.exit(id, 1)
    await until(() => rec.state.status === 'restarting', 'restarting')
    assert.equal(rec.restartCount, 1)
    assert.deepEqual(h.clock.pending().filter((d) => d <= 100), [100])
    h.clock.advance(100)
    await until(() => rec.state.status === 'running', 'restarted')
    await h.runtime.exit(id, 1)
    await until(() => rec.state.status === 'restarting', 'restarting again')
    assert.ok(h.clock.pending().includes(200), `second back-off is 200 ms: ${h.clock.pending().join(',')}`)
    // A stop during the back-off ends the policy (as Docker: 204, the container counts as running).
    assert.equal(await h.svc.stop(id), 'stopped')
    assert.equal(rec.state.status, 'exited')
    assert.equal(rec.state.stoppedByUser, true)
    h.clock.advance(1000)
    await new Promise((r) => setTimeout(r, 50))
    assert.equal(rec.state.status, 'exited', 'no restart after a user stop')
    // A user stop of a running container: not restarted either.
    await h.svc.start(id)
    await h.svc.stop(id)
    await new Promise((r) => setTimeout(r, 50))
    h.clock.advance(60_000)
    await new Promise((r) => setTimeout(r, 50))
    assert.equal(rec.state.status, 'exited', 'no restart after a user stop of a running container')
    await h.svc.remove(id)
  })

  it('on-failure stops after its retry count; exit 0 is not restarted', async () => {
    const { id } = await h.svc.create(req({ restartPolicy: { name: 'on-failure', maximumRetryCount: 1 } }, 'onfail'))
    const rec = h.svc.resolve(id)
    await h.svc.start(id)
    await h.runtime.exit(id, 0)
    await until(() => rec.state.status === 'exited', 'exited')
    assert.equal(rec.restartCount, 0)
    await h.svc.start(id)
    await h.runtime.exit(id, 3)
    await until(() => rec.state.status === 'restarting', 'restarting')
    h.clock.advance(100)
    await until(() => rec.state.status === 'running', 'restarted')
    await h.runtime.exit(id, 3)
    await until(() => rec.state.status === 'exited', 'given up')
    assert.equal(rec.restartCount, 1)
    await h.svc.remove(id)
  })

  it('rename: conflicts with Docker\'s words; the old name is freed', async () => {
    const a = await h.svc.create(req({}, 'alpha'))
    const b = await h.svc.create(req({}, 'beta'))
    await assert.rejects(h.svc.rename('alpha', 'beta'), (e: Error) => isKind(e, 'Conflict') && /^Error when allocating new name: Conflict. The container name "\/beta" is already in use by container "/.test(e.message))
    await assert.rejects(h.svc.rename('alpha', 'alpha'), /same name as its current name/)
    await assert.rejects(h.svc.rename('alpha', ''), /Neither old nor new names may be empty/)
    await h.svc.rename('alpha', 'gamma')
    assert.equal(h.svc.resolve('gamma').id, a.id)
    assert.throws(() => h.svc.resolve('alpha'), /No such container: alpha/)
    await h.svc.rename(b.id, 'alpha')
    await h.svc.remove(a.id)
    await h.svc.remove(b.id)
  })

  it('remove: a running container only with force; removal wakes the waiters', async () => {
    const { id } = await h.svc.create(req({}, 'busy'))
    await h.svc.start(id)
    await assert.rejects(h.svc.remove('busy'), (e: Error) => isKind(e, 'Conflict') && e.message === 'cannot remove container "busy": container is running: stop the container before removing or force remove')
    assert.equal(h.svc.resolve(id).state.status, 'running')
    const removed = h.svc.wait(id, 'removed')
    await h.svc.remove('busy', { force: true })
    assert.deepEqual(await removed, { statusCode: 137 })
    assert.throws(() => h.svc.resolve(id), /No such container/)
    assert.equal(existsSync(join(h.root, 'data', 'containers', id)), false)
    assert.equal(h.mounted().length, 0)
  })

  it('update reuses create\'s resource checks and records the new limits', async () => {
    // (This host has swap limits: a swap limit below the memory limit is refused.)
    await rejectsWith(h.svc.create(req({ memory: 64 << 20, memorySwap: 32 << 20 })), /Minimum memoryswap limit should be larger than memory limit/)
    const { id } = await h.svc.create(req({}, 'upd'))
    await assert.rejects(h.svc.update(id, { memory: 1024 }), /Cannot update container .*: Minimum memory limit allowed is 6MB/)
    await assert.rejects(h.svc.update(id, { restartPolicy: { name: 'always', maximumRetryCount: 3 } }), /maximum retry count can only be used with 'on-failure'/)
    await h.svc.start(id)
    await h.svc.update(id, { memory: 64 << 20, restartPolicy: { name: 'unless-stopped', maximumRetryCount: 0 } })
    const rec = h.svc.resolve(id)
    assert.equal(rec.hostConfig.memory, 64 << 20)
    assert.equal(rec.hostConfig.restartPolicy.name, 'unless-stopped')
    assert.ok(h.runtime.calls.includes(`update ${id}`))
    await h.svc.remove(id, { force: true })
  })
})
