/**
 * The real docker CLI against berthd: exec (attached, interactive, detached, TTY, users, env,
 * errors), update of a live container's limits and restart policy, healthchecks run by the
 * engine (states, ps, inspect, events), and container sizes. berth's own exec is compared with
 * docker's.
 */
import { before, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { api, berth, type DaemonHandle } from './harness.js'
import { dockerSuite, waitFor } from './image-helpers.js'
import { busyboxDaemon, cgroupDir, cgroupV1, conmonsOf, dockerIn, dockerT, runKilled, sleep } from './container-helpers.js'

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any

dockerSuite('docker CLI: exec, update, healthchecks', () => {
  let h: DaemonHandle

  const ok = async (...args: string[]): Promise<string> => {
    const r = await dockerT(h, 30, ...args)
    assert.equal(r.code, 0, `docker ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
    return r.stdout
  }
  const d = (...args: string[]) => dockerT(h, 30, ...args)
  const inspect = async (ref: string): Promise<Json> => (JSON.parse(await ok('inspect', ref)) as Json[])[0]
  const running = (name: string, ...extra: string[]) => ok('run', '-d', '--name', name, ...extra, 'busybox', 'sleep', '1000')

  const daemon = busyboxDaemon()
  before(() => { h = daemon.h })

  it('exec runs in the container with its exit code, stdout and stderr apart', async () => {
    await running('x1')
    const r = await d('exec', 'x1', 'sh', '-c', 'echo out; echo err >&2; cat /etc/hostname; exit 5')
    assert.equal(r.code, 5)
    const id = (await inspect('x1')).Id as string
    assert.equal(r.stdout, `out\n${id.slice(0, 12)}\n`)
    assert.equal(r.stderr, 'err\n')
    // The process is in the container's namespaces: PID 1 is the container's sleep.
    assert.equal((await ok('exec', 'x1', 'cat', '/proc/1/cmdline')).replace(/\0/g, ' ').trim(), 'sleep 1000')
  })

  it('exec -i passes stdin through and ends when it closes; large input arrives whole', async () => {
    await running('x2')
    const input = Buffer.alloc(3 * 1024 * 1024 + 17, 'abcdefghij')
    const r = await dockerIn(h, 30, input, 'exec', '-i', 'x2', 'sh', '-c', 'wc -c; echo done')
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout.trim().split('\n').map((l) => l.trim()).join(' '), `${input.length} done`)
  })

  it('exec -u, -w, -e, --env-file and --privileged', async () => {
    await running('x3', '-e', 'FROM_RUN=1')
    assert.equal((await ok('exec', '-u', 'nobody', '-w', '/tmp', 'x3', 'sh', '-c', 'id -u; pwd')).trim(), '65534\n/tmp')
    // As `run -u` gives it: no supplementary groups for a uid and gid without a passwd entry.
    assert.equal((await ok('exec', '-u', '1234:5678', 'x3', 'id')).trim(), (await ok('run', '--rm', '-u', '1234:5678', 'busybox', 'id')).trim())
    assert.equal((await ok('exec', '-e', 'A=b', 'x3', 'sh', '-c', 'echo $A $FROM_RUN $HOME')).trim(), 'b 1 /root')
    const caps = (s: string) => /CapEff:\s*(\S+)/.exec(s)?.[1]
    const plain = caps(await ok('exec', 'x3', 'cat', '/proc/self/status'))
    const priv = caps(await ok('exec', '--privileged', 'x3', 'cat', '/proc/self/status'))
    assert.equal(plain, '00000000a80425fb', 'Docker\'s default capabilities')
    assert.notEqual(priv, plain, '--privileged gives every capability')
    const wrongDir = await d('exec', '-w', 'relative', 'x3', 'true')
    assert.notEqual(wrongDir.code, 0)
    assert.match(wrongDir.stderr, /the working directory 'relative' is invalid, it needs to be an absolute path/)
  })

  it('exec errors: command not found (126), stopped, paused, unknown container', async () => {
    await running('x4')
    const missing = await d('exec', 'x4', 'no-such-cmd')
    assert.equal(missing.code, 126)
    assert.match(missing.stdout + missing.stderr, /OCI runtime exec failed: exec failed: unable to start container process: exec: "no-such-cmd": executable file not found in \$PATH: unknown/)
    await ok('pause', 'x4')
    const paused = await d('exec', 'x4', 'true')
    assert.equal(paused.code, 1)
    assert.match(paused.stderr, /Error response from daemon: Container [0-9a-f]{64} is paused, unpause the container before exec/)
    await ok('unpause', 'x4')
    await ok('stop', '-t', '0', 'x4')
    const stopped = await d('exec', 'x4', 'true')
    assert.equal(stopped.code, 1)
    assert.match(stopped.stderr, /Error response from daemon: Container [0-9a-f]{64} is not running/)
    const unknown = await d('exec', 'no-such-container', 'true')
    assert.equal(unknown.code, 1)
    assert.match(unknown.stderr, /No such container: no-such-container/)
  })

  it('exec -d runs in the background; exec inspect and events follow the session', async () => {
    await running('x5')
    const since = (Date.now() / 1000).toFixed(3)
    assert.equal(await ok('exec', '-d', 'x5', 'sh', '-c', 'sleep 0.5; echo later > /tmp/mark'), '')
    assert.equal((await d('exec', 'x5', 'cat', '/tmp/mark')).code, 1, 'not yet written')
    await waitFor('the detached exec to finish', async () => (await d('exec', 'x5', 'cat', '/tmp/mark')).stdout === 'later\n')
    const until = (Date.now() / 1000 + 1).toFixed(3)
    const ev = await ok('events', '--since', since, '--until', until, '--filter', 'container=x5', '--format', '{{.Action}}')
    const actions = ev.split('\n').filter(Boolean)
    assert.ok(actions.includes('exec_create: sh -c sleep 0.5; echo later > /tmp/mark'), ev)
    assert.ok(actions.includes('exec_start: sh -c sleep 0.5; echo later > /tmp/mark'), ev)
    assert.ok(actions.includes('exec_die'), ev)
    // The API: create, inspect before and after start.
    const created = await api(h, 'POST', '/containers/x5/exec', { Cmd: ['sh', '-c', 'exit 7'], AttachStdout: true })
    assert.equal(created.status, 201)
    const execId = (created.json() as Json).Id as string
    const before = (await api(h, 'GET', `/exec/${execId}/json`)).json() as Json
    assert.equal(before.Running, false)
    assert.equal(before.ExitCode, null)
    assert.deepEqual(before.ProcessConfig, { tty: false, entrypoint: 'sh', arguments: ['-c', 'exit 7'], privileged: false })
    assert.equal((await api(h, 'POST', `/exec/${execId}/start`, { Detach: true })).status, 200)
    await waitFor('the exec to end', async () => ((await api(h, 'GET', `/exec/${execId}/json`)).json() as Json).ExitCode === 7)
    const again = await api(h, 'POST', `/exec/${execId}/start`, { Detach: true })
    assert.equal(again.status, 409)
    assert.match(String((again.json() as Json).message), /Exec command [0-9a-f]{64} has already run/)
    assert.equal((await api(h, 'GET', '/exec/nope/json')).status, 404)
    assert.equal((await api(h, 'POST', '/containers/x5/exec', { Cmd: [] })).status, 400)
  })

  it('exec -t gives a terminal of the requested size; exec -it under a pty works with the docker CLI and berth', async () => {
    await running('x6')
    const tty = await ok('exec', '-t', 'x6', 'sh', '-c', 'test -t 1 && echo tty')
    assert.equal(tty, 'tty\r\n')
    const script = (cmd: string) => runKilled(h, 20, ['script', '-qec', `stty rows 33 cols 101; ${cmd}`, '/dev/null'], { input: '' })
    const viaDocker = await script('docker exec -it x6 sh -c "stty size; exit 3"')
    assert.equal(viaDocker.code, 3, viaDocker.stdout)
    assert.match(viaDocker.stdout, /33 101/)
  })

  it('berth exec behaves as docker exec (output, exit codes, errors)', async () => {
    await running('x7')
    for (const args of [['x7', 'sh', '-c', 'echo a; echo b >&2; exit 4'], ['x7', 'no-such-cmd'], ['no-such-container', 'true'], ['-u', 'nobody', 'x7', 'id']]) {
      const b = await berth(h, 'exec', ...args)
      const k = await d('exec', ...args)
      assert.equal(b.code, k.code, `exec ${args.join(' ')}: ${b.stderr}`)
      assert.equal(b.stdout, k.stdout, `exec ${args.join(' ')}`)
      assert.equal(b.stderr, k.stderr, `exec ${args.join(' ')}`)
    }
  })

  it('exec sessions leave no monitor behind; a container that stops ends its execs', async () => {
    await running('x8')
    const before = (await conmonsOf(h)).length
    await ok('exec', 'x8', 'true')
    await ok('exec', '-d', 'x8', 'sleep', '1000')
    await waitFor('the detached exec to run', async () => (await conmonsOf(h)).length === before + 1)
    await ok('stop', '-t', '0', 'x8')
    await waitFor('every monitor of x8 to exit', async () => (await conmonsOf(h)).length === before - 1)
  })

  it('update changes a running container\'s cgroup limits and restart policy, and records them', { skip: !cgroupV1 && 'needs cgroup v1' }, async () => {
    await running('u1', '-m', '64m', '--pids-limit', '20')
    const id = (await inspect('u1')).Id as string
    const mem = () => readFile(join(cgroupDir('memory', id), 'memory.limit_in_bytes'), 'utf8').then((s) => s.trim())
    const pids = () => readFile(join(cgroupDir('pids', id), 'pids.max'), 'utf8').then((s) => s.trim())
    assert.equal(await mem(), String(64 * 1024 * 1024))
    assert.equal((await ok('update', '-m', '96m', '--memory-swap', '200m', '--pids-limit', '50', '--cpus', '0.5', '--restart', 'on-failure:3', 'u1')).trim(), 'u1')
    assert.equal(await mem(), String(96 * 1024 * 1024))
    assert.equal(await pids(), '50')
    assert.equal((await readFile(join(cgroupDir('cpu', id), 'cpu.cfs_quota_us'), 'utf8')).trim(), '50000')
    const c = await inspect('u1')
    assert.equal(c.HostConfig.Memory, 96 * 1024 * 1024)
    assert.equal(c.HostConfig.NanoCpus, 500_000_000)
    assert.equal(c.HostConfig.PidsLimit, 50)
    assert.deepEqual(c.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 })
    await ok('update', '--pids-limit', '-1', 'u1')
    assert.equal(await pids(), 'max')
    // Docker's refusals, and nothing changed by them.
    const tooSmall = await d('update', '-m', '2m', 'u1')
    assert.equal(tooSmall.code, 1)
    assert.match(tooSmall.stderr, /Minimum memory limit allowed is 6MB/)
    const overSwap = await d('update', '-m', '300m', 'u1')
    assert.match(overSwap.stderr, /Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time/)
    assert.equal(await mem(), String(96 * 1024 * 1024))
    const none = await d('update', 'u1')
    assert.match(none.stderr, /you must provide one or more flags when using this command/)
    await ok('run', '-d', '--rm', '--name', 'u2', 'busybox', 'sleep', '1000')
    const autoRemove = await d('update', '--restart', 'always', 'u2')
    assert.match(autoRemove.stderr, /Restart policy cannot be updated because AutoRemove is enabled for the container/)
    // A stopped container's update applies at its next start.
    await ok('stop', '-t', '0', 'u1')
    await ok('update', '-m', '128m', '--memory-swap', '256m', 'u1')
    await ok('start', 'u1')
    assert.equal(await mem(), String(128 * 1024 * 1024))
  })

  it('healthchecks: starting, healthy, unhealthy with retries, timeouts; ps, inspect, filters and events', async () => {
    const since = (Date.now() / 1000).toFixed(3)
    await ok('run', '-d', '--name', 'hc1', '--health-cmd', 'test -e /tmp/ok', '--health-interval', '300ms', '--health-retries', '2', 'busybox', 'sleep', '1000')
    // Asked before the other two containers start: hc1 turns unhealthy about 600 ms after its start.
    assert.match(await ok('ps', '--filter', 'name=hc1', '--format', '{{.Status}}'), /\(health: starting\)/)
    await ok('run', '-d', '--name', 'hc2', '--health-cmd', 'sleep 5', '--health-interval', '300ms', '--health-timeout', '200ms', '--health-retries', '1', 'busybox', 'sleep', '1000')
    await ok('run', '-d', '--name', 'hc3', 'busybox', 'sleep', '1000')
    await waitFor('hc1 unhealthy', async () => (await inspect('hc1')).State.Health.Status === 'unhealthy')
    await waitFor('hc2 unhealthy', async () => (await inspect('hc2')).State.Health.Status === 'unhealthy')
    const h2 = (await inspect('hc2')).State.Health
    assert.equal(h2.Log.at(-1).ExitCode, -1)
    assert.equal(h2.Log.at(-1).Output, 'Health check exceeded timeout (200ms)')
    await ok('exec', 'hc1', 'touch', '/tmp/ok')
    await waitFor('hc1 healthy', async () => (await inspect('hc1')).State.Health.Status === 'healthy')
    const h1 = (await inspect('hc1')).State.Health
    assert.equal(h1.FailingStreak, 0)
    assert.ok(h1.Log.length <= 5 && h1.Log.length >= 3, `${h1.Log.length} results kept`)
    assert.match(await ok('ps', '--filter', 'name=hc1', '--format', '{{.Status}}'), /^Up .* \(healthy\)$/m)
    assert.equal((await ok('ps', '--filter', 'health=healthy', '--format', '{{.Names}}')).trim(), 'hc1')
    assert.equal((await ok('ps', '--filter', 'health=unhealthy', '--format', '{{.Names}}')).trim(), 'hc2')
    assert.equal((await ok('ps', '--filter', 'health=none', '--format', '{{.Names}}')).trim(), 'hc3')
    assert.equal((await inspect('hc3')).State.Health, undefined)
    const until = (Date.now() / 1000 + 0.5).toFixed(3)
    const ev = await ok('events', '--since', since, '--until', until, '--filter', 'event=health_status', '--format', '{{.Actor.Attributes.name}} {{.Action}}')
    const lines = ev.split('\n').filter(Boolean)
    assert.deepEqual(lines.filter((l) => l.startsWith('hc1 ')), ['hc1 health_status: unhealthy', 'hc1 health_status: healthy'])
    assert.deepEqual(lines.filter((l) => l.startsWith('hc2 ')), ['hc2 health_status: unhealthy'])
    // Docker's validation in the daemon (the docker CLI checks some itself).
    for (const [hc, message] of [[{ Test: ['CMD', 'true'], Retries: -1 }, 'Retries in Healthcheck cannot be negative'], [{ Test: ['CMD', 'true'], Interval: 1000 }, 'Interval in Healthcheck cannot be less than 1ms']] as const) {
      const bad = await api(h, 'POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], Healthcheck: hc })
      assert.equal(bad.status, 400)
      assert.equal((bad.json() as Json).message, message)
    }
  })

  it('a restarted container starts its health over; --no-healthcheck disables the image\'s', async () => {
    await ok('run', '-d', '--name', 'hc4', '--health-cmd', 'true', '--health-interval', '200ms', 'busybox', 'sleep', '1000')
    await waitFor('hc4 healthy', async () => (await inspect('hc4')).State.Health.Status === 'healthy')
    await ok('restart', '-t', '0', 'hc4')
    const afterRestart = (await inspect('hc4')).State.Health
    assert.ok(afterRestart.Status === 'starting' || afterRestart.Log.length <= 2, JSON.stringify(afterRestart))
    await waitFor('hc4 healthy again', async () => (await inspect('hc4')).State.Health.Status === 'healthy')
    await ok('run', '-d', '--name', 'hc5', '--no-healthcheck', 'busybox', 'sleep', '1000')
    await sleep(300)
    assert.equal((await inspect('hc5')).State.Health, undefined)
  })
  it('sizes: ps -s, inspect -s and system df show the writable layer and the virtual size', async () => {
    await ok('run', '--name', 'sz', 'busybox', 'sh', '-c', 'dd if=/dev/zero of=/big bs=1k count=300 2>/dev/null')
    const [rw, rootfs] = (await ok('inspect', '-s', '-f', '{{.SizeRw}} {{.SizeRootFs}}', 'sz')).trim().split(' ').map(Number)
    assert.ok(rw! >= 300 * 1024 && rw! < 400 * 1024, `SizeRw ${rw}`)
    assert.ok(rootfs! > rw!, `SizeRootFs ${rootfs}`)
    assert.match(await ok('ps', '-as', '--filter', 'name=sz', '--format', '{{.Size}}'), /^3\d\dkB \(virtual [\d.]+MB\)$/m)
    assert.match(await ok('system', 'df'), /^Containers\s+1\s+0\s+3\d\d(\.\d)?kB/m)
  })
})
