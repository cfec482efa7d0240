import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { FakePlatform } from './fake.js'
import { realPlatform } from './platform.js'
import { SUITE_SCRIPT_3, platformSuite } from './testsuite.js'

const root = process.getuid?.() === 0

platformSuite('host', () => ({
  platform: realPlatform(),
  knownFile: { path: '/proc/self/status', includes: 'Pid:' },
  knownDir: { path: '/proc/self', has: 'mountinfo' },
  knownLink: { path: '/proc/self/ns/net', includes: 'net:[' },
  mountedPath: '/',
  ...(root ? {} : { cannotMount: 'mounting needs root' }),
  // Nothing on the host is safe to write from a test: a sysctl or cgroup limit changes the machine.
  writable: 'writing a kernel file would change the host',
}))

function fake(): FakePlatform {
  const p = new FakePlatform()
  p.spawner
    .on('cat', (c) => ({ stdout: c.input }))
    .on('false', { code: 1 })
    .on((c) => c.cmd === 'sh' && c.args[0] === '-c' && c.args[1] === SUITE_SCRIPT_3, { code: 3, stdout: 'out', stderr: 'err' })
  p.files.set('/proc/self/status', 'Name:\tnode\nPid:\t42\n').set('/proc/self/mountinfo', '').link('/proc/self/ns/net', 'net:[4026531840]')
  p.files.set('/proc/sys/net/ipv4/ip_forward', '0')
  void p.mounts.mount('/dev/vda1', '/', { type: 'ext4' })
  return p
}

platformSuite('fake', () => {
  const p = fake()
  return {
    platform: p,
    knownFile: { path: '/proc/self/status', includes: 'Pid:' },
    knownDir: { path: '/proc/self', has: 'mountinfo' },
    knownLink: { path: '/proc/self/ns/net', includes: 'net:[' },
    mountedPath: '/',
    writable: { path: '/proc/sys/net/ipv4/ip_forward', value: '1' },
    breakNextOverlayMount: () => p.mounts.failNext('mountOverlay', "special device overlay does not exist"),
  }
})

describe('FakePlatform', () => {
  it('records every command with its input, in order', async () => {
    const p = fake()
    await p.spawner.run('cat', ['-'], { input: 'x' })
    const t = p.spawner.start('cat', [], { extraFds: [7] })
    t.stdin!.end('streamed')
    await t.exit
    assert.deepEqual(p.spawner.calls.map((c) => [c.via, c.cmd, c.args, c.input.toString()]), [['run', 'cat', ['-'], 'x'], ['start', 'cat', [], 'streamed']])
    assert.deepEqual(p.spawner.callsOf('cat')[1]!.extraFds, [7])
  })

  it('a later script overrides an earlier one', async () => {
    const p = fake()
    p.spawner.on('false', { code: 2, stderr: 'boom' })
    assert.deepEqual(await p.spawner.run('false', []), { code: 2, stdout: '', stderr: 'boom' })
  })

  it('cgroup figures come from the fake files', async () => {
    const p = fake()
    const cg = '/sys/fs/cgroup'
    p.files.set(`${cg}/cpuacct/berth/c1/cpuacct.usage`, '1000\n').set(`${cg}/pids/berth/c1/pids.current`, '3\n').set(`${cg}/pids/berth/c1/pids.max`, '10\n')
    const s = await p.cgroups.statsReader().readContainer('/berth/c1')
    assert.equal(s?.cpu.totalUsage, 1000n)
    assert.deepEqual(s?.pids, { current: 3n, limit: 10n })
    assert.equal(await p.cgroups.statsReader().readContainer('/berth/gone'), undefined)
    await p.cgroups.unlimitPids('/berth/c1')
    assert.deepEqual(p.files.writes, [{ path: `${cg}/pids/berth/c1/pids.max`, value: 'max' }])
    await p.cgroups.unlimitPids('/berth/no-pids-cgroup') // no file: fine
  })

  it('mounts stack and unmount removes the topmost', async () => {
    const p = fake()
    await p.mounts.mountOverlay(['/l2', '/l1'], '/u', '/w', '/m')
    await p.mounts.bind('/src', '/m')
    await p.mounts.unmount('/m')
    const [m] = await p.mounts.list('/')
    assert.equal(m?.fsType, 'overlay')
    assert.ok(m?.options.includes('lowerdir=/l2:/l1'))
    p.mounts.failNext('unmount', 'device busy')
    await assert.rejects(p.mounts.unmount('/m'), /device busy/)
    assert.equal(await p.mounts.isMounted('/m'), true)
  })

  it('file tools record whiteouts, opaque dirs and nodes', async () => {
    const p = fake()
    await p.fileTools.makeWhiteouts(['/r/a'])
    await p.fileTools.markOpaque(['/r/d', '/other'])
    await p.fileTools.mknod('/r/null', 0o20666, { type: 'c', major: 1, minor: 3 })
    assert.deepEqual([...p.fileTools.whiteouts], ['/r/a'])
    assert.deepEqual(await p.fileTools.findOpaque('/r'), ['/r/d'])
    assert.deepEqual(p.fileTools.nodes.get('/r/null'), { mode: 0o666, kind: { type: 'c', major: 1, minor: 3 } })
  })
})
