/**
 * The real docker CLI (28.x) against berthd: running containers and managing their lifecycle,
 * with the outputs, exit codes and error messages Docker gives. Every command that could hang
 * runs under `timeout -s KILL`.
 */
import { after, before, beforeEach, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, statSync } from 'node:fs'
import { readFile, readlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { api, fixture, startDaemon, type DaemonHandle } from './harness.js'
import { dockerSuite, waitFor } from './image-helpers.js'
import { cgroupDir, cgroupV1, createdIds, dockerIn, dockerT, forceCleanup, isClean, leftoversOf, listedContainerIds, runKilled, sleep } from './container-helpers.js'

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any

const ZERO_TIME = '0001-01-01T00:00:00Z'
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/
/** Docker's default capability set (CapEff of a default container). */
const DEFAULT_CAPS = '00000000a80425fb'

dockerSuite('docker CLI: containers', () => {
  let h: DaemonHandle
  const seen = new Set<string>()

  /** docker ... (20 s hard limit) that must succeed; returns stdout. */
  const ok = async (...args: string[]): Promise<string> => {
    const r = await dockerT(h, 20, ...args)
    assert.equal(r.code, 0, `docker ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
    for (const m of r.stdout.matchAll(/\b[a-f0-9]{64}\b/g)) seen.add(m[0])
    return r.stdout
  }
  const d = (...args: string[]) => dockerT(h, 20, ...args)
  const inspect = async (ref: string): Promise<Json> => (JSON.parse(await ok('inspect', ref)) as Json[])[0]
  const lines = (s: string) => s.split('\n').filter((l) => l.trim() !== '')
  const hostStatus = async (field: string) => /^(\S+):\s*(\S+)/m.exec((await readFile('/proc/self/status', 'utf8')).split('\n').find((l) => l.startsWith(`${field}:`)) ?? '')?.[2] ?? ''
  /** Unix seconds with milliseconds, for --since/--until. */
  const nowSecs = (offsetMs = 0) => ((Date.now() + offsetMs) / 1000).toFixed(3)

  before(async () => {
    h = await startDaemon()
    assert.equal((await ok('load', '-i', await fixture('busybox'))).trim(), 'Loaded image: busybox:latest')
    assert.equal((await ok('load', '-i', await fixture('hello-world'))).trim(), 'Loaded image: hello-world:latest')
  })
  // A failed test must not leave its containers to the next one.
  beforeEach(async () => {
    for (const id of await listedContainerIds(h)) {
      seen.add(id)
      await api(h, 'DELETE', `/containers/${id}?force=1`)
    }
  })
  after(async () => {
    if (h) {
      await forceCleanup(h).catch(() => {})
      await h.cleanup()
    }
  })

  it('docker run --rm hello-world prints its greeting, exits 0 and leaves no container', async () => {
    const r = await d('run', '--rm', 'hello-world')
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^Hello from /m)
    assert.equal(r.stderr, '')
    assert.equal((await ok('ps', '-aq')).trim(), '')
  })

  it('exit codes: the container\'s own, 127 not found, 126 not executable, 125 daemon error', async () => {
    assert.equal((await d('run', '--rm', 'busybox', 'sh', '-c', 'exit 3')).code, 3)
    assert.equal((await d('run', 'busybox', 'sh', '-c', 'exit 3')).code, 3, 'without --rm too')
    const missing = await d('run', '--rm', 'busybox', 'no-such-binary')
    assert.equal(missing.code, 127)
    assert.match(missing.stderr, /exec: "no-such-binary": executable file not found in \$PATH/)
    const notExec = await d('run', '--rm', 'busybox', '/etc/passwd')
    assert.equal(notExec.code, 126, notExec.stderr)
    assert.match(notExec.stderr, /exec: "\/etc\/passwd": permission denied/)
    const noImage = await d('run', '--rm', '--pull', 'never', 'no-such-image:1')
    assert.equal(noImage.code, 125)
    // A container that could not start keeps Docker's record of why (127) and stays "Created".
    await d('run', '--name', 'failed-start', 'busybox', 'no-such-binary')
    const c = await inspect('failed-start')
    assert.equal(c.State.Status, 'created')
    assert.equal(c.State.ExitCode, 127)
    assert.match(c.State.Error, /executable file not found/)
    assert.equal((await ok('ps', '-a', '--filter', 'name=failed-start', '--format', '{{.Status}}')).trim(), 'Created')
    await ok('rm', 'failed-start')
    assert.equal(lines(await ok('ps', '-aq')).length, 1, 'the --rm runs removed themselves, even when start failed')
    await ok('container', 'prune', '-f')
  })

  it('stdout and stderr stay separate', async () => {
    const r = await d('run', '--rm', 'busybox', 'sh', '-c', 'echo out1; echo err1 >&2; echo out2')
    assert.equal(r.code, 0)
    assert.equal(r.stdout, 'out1\nout2\n')
    assert.equal(r.stderr, 'err1\n')
  })

  it('-e, --env-file, -w, -u user:group, --hostname, --entrypoint', async () => {
    const envFile = join(h.root, 'env.list')
    await writeFile(envFile, '# a comment\nFROM_FILE=two words\nOVERRIDDEN=file\n\nPASSED\n')
    const r = await runKilled(h, 20, ['docker', 'run', '--rm', '-e', 'A=1', '--env-file', envFile, '-e', 'OVERRIDDEN=flag', '-w', '/tmp/work', '-u', '1000:1001', '--hostname', 'myhost', 'busybox',
      'sh', '-c', 'echo "$A|$FROM_FILE|$OVERRIDDEN|$PASSED|$(pwd)|$(id -u):$(id -g)|$(hostname)|$HOSTNAME|$HOME"'], { env: { PASSED: 'from-env' } })
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, '1|two words|flag|from-env|/tmp/work|1000:1001|myhost|myhost|/\n')
    // Names resolve against the image's /etc/passwd and /etc/group.
    assert.equal(await ok('run', '--rm', '-u', 'nobody:nogroup', 'busybox', 'sh', '-c', 'echo $(id -un):$(id -gn):$HOME'), 'nobody:nogroup:/home\n')
    const noUser = await d('run', '--rm', '-u', 'nosuchuser', 'busybox', 'true')
    assert.equal(noUser.code, 125)
    assert.match(noUser.stderr, /unable to find user nosuchuser: no matching entries in passwd file/)
    // --entrypoint replaces the image's and the arguments follow it.
    assert.equal(await ok('run', '--rm', '--entrypoint', 'echo', 'busybox', 'hi', 'there'), 'hi there\n')
    assert.equal(await ok('run', '--rm', '--entrypoint', '/bin/sh', 'busybox', '-c', 'echo $0'), '/bin/sh\n')
  })

  it('--name, -l and the name conflict (exit 125, Docker\'s message)', async () => {
    const id = (await ok('create', '--name', 'named', '-l', 'tier=web', '-l', 'empty=', 'busybox', 'true')).trim()
    assert.match(id, /^[a-f0-9]{64}$/)
    const c = await inspect('named')
    assert.equal(c.Name, '/named')
    assert.deepEqual(c.Config.Labels, { tier: 'web', empty: '' })
    const r = await d('run', '--name', 'named', 'busybox', 'true')
    assert.equal(r.code, 125)
    assert.equal(lines(r.stderr)[0], `docker: Error response from daemon: Conflict. The container name "/named" is already in use by container "${id}". You have to remove (or rename) that container to be able to reuse that name.`)
    // The API answers 409 for it.
    const res = await api(h, 'POST', '/containers/create?name=named', { Image: 'busybox', Cmd: ['true'] })
    assert.equal(res.status, 409)
    const bad = await d('create', '--name', 'bad/name', 'busybox')
    assert.equal(bad.code, 1, 'docker create exits 1 on a daemon error (run: 125)')
    assert.match(bad.stderr, /Invalid container name \(bad\/name\), only \[a-zA-Z0-9\]\[a-zA-Z0-9_.-\] are allowed/)
    await ok('rm', 'named')
  })

  it('--init runs docker-init as pid 1', async () => {
    const out = await ok('run', '--rm', '--init', 'busybox', 'cat', '/proc/1/cmdline')
    assert.deepEqual(out.split('\0').filter(Boolean), ['/sbin/docker-init', '--', 'cat', '/proc/1/cmdline'])
    // Without --init the command itself is pid 1.
    assert.equal(await ok('run', '--rm', 'busybox', 'sh', '-c', 'echo $$'), '1\n')
  })

  it('--read-only: the root is read-only, /dev/shm stays writable', async () => {
    const r = await d('run', '--rm', '--read-only', 'busybox', 'touch', '/x')
    assert.equal(r.code, 1)
    assert.match(r.stderr, /Read-only file system/)
    assert.equal((await d('run', '--rm', '--read-only', 'busybox', 'touch', '/dev/shm/x')).code, 0)
    assert.equal((await d('run', '--rm', 'busybox', 'touch', '/x')).code, 0, 'writable without it')
  })

  it('capabilities: default set, --cap-add/--cap-drop, --privileged; --security-opt no-new-privileges', async () => {
    const capEff = async (...flags: string[]) => /CapEff:\s*([0-9a-f]+)/.exec(await ok('run', '--rm', ...flags, 'busybox', 'grep', 'CapEff', '/proc/self/status'))?.[1]
    assert.equal(await capEff(), DEFAULT_CAPS)
    // NET_ADMIN is bit 12, CHOWN bit 0.
    assert.equal(await capEff('--cap-add', 'NET_ADMIN', '--cap-drop', 'CHOWN'), ((BigInt(`0x${DEFAULT_CAPS}`) | (1n << 12n)) & ~1n).toString(16).padStart(16, '0'))
    assert.equal(await capEff('--cap-drop', 'ALL', '--cap-add', 'KILL'), (1n << 5n).toString(16).padStart(16, '0'))
    // Privileged: every capability this host can give (its bounding set).
    assert.equal(await capEff('--privileged'), await hostStatus('CapBnd'))
    assert.equal(await ok('run', '--rm', '--privileged', 'busybox', 'sh', '-c', 'test -e /dev/kmsg && echo yes'), 'yes\n', 'privileged sees host devices')
    const nnp = async (...flags: string[]) => /NoNewPrivs:\s*(\d)/.exec(await ok('run', '--rm', ...flags, 'busybox', 'grep', 'NoNewPrivs', '/proc/self/status'))?.[1]
    assert.equal(await nnp(), '0')
    assert.equal(await nnp('--security-opt', 'no-new-privileges'), '1')
    assert.equal(await nnp('--security-opt', 'no-new-privileges:true'), '1')
    const badCap = await d('run', '--rm', '--cap-add', 'NOT_A_CAP', 'busybox', 'true')
    assert.equal(badCap.code, 125)
  })

  it('--ulimit nofile, --shm-size', async () => {
    assert.equal(await ok('run', '--rm', '--ulimit', 'nofile=1024:2048', 'busybox', 'sh', '-c', 'echo $(ulimit -n) $(ulimit -Hn)'), '1024 2048\n')
    const shmKb = async (...flags: string[]) => lines(await ok('run', '--rm', ...flags, 'busybox', 'df', '-k', '/dev/shm'))[1]?.split(/\s+/)[1]
    assert.equal(await shmKb(), '65536', 'Docker\'s default 64 MiB')
    assert.equal(await shmKb('--shm-size', '32m'), '32768')
    assert.equal((await inspect((await ok('create', '--shm-size', '32m', 'busybox')).trim())).HostConfig.ShmSize, 32 << 20)
    await ok('container', 'prune', '-f')
  })

  it('-m, --cpus, --pids-limit, --oom-kill-disable land in the cgroup; the cgroup goes with the container', { skip: cgroupV1 ? false : 'needs the cgroup v1 hierarchy' }, async () => {
    const id = (await ok('run', '-d', '-m', '64m', '--cpus', '0.5', '--pids-limit', '100', '--oom-kill-disable', 'busybox', 'sleep', '60')).trim()
    const read = async (ctl: string, file: string) => (await readFile(join(cgroupDir(ctl, id), file), 'utf8')).trim()
    assert.equal(await read('memory', 'memory.limit_in_bytes'), String(64 << 20))
    assert.match(await read('memory', 'memory.oom_control'), /^oom_kill_disable 1$/m)
    assert.equal(await read('cpu', 'cpu.cfs_quota_us'), '50000')
    assert.equal(await read('cpu', 'cpu.cfs_period_us'), '100000')
    assert.equal(await read('pids', 'pids.max'), '100')
    const pid = (await inspect(id)).State.Pid as number
    assert.match(await read('pids', 'cgroup.procs'), new RegExp(`^${pid}$`, 'm'), 'the container process is in its cgroup')
    const hc = (await inspect(id)).HostConfig
    assert.deepEqual([hc.Memory, hc.NanoCpus, hc.PidsLimit, hc.OomKillDisable], [64 << 20, 500_000_000, 100, true])
    await ok('rm', '-f', id)
    for (const ctl of ['memory', 'cpu', 'pids']) assert.equal(existsSync(cgroupDir(ctl, id)), false, `${ctl} cgroup removed`)
  })

  it('-m too small for the work: OOM kill, exit 137, State.OOMKilled', async () => {
    // Regression: conmon also writes an `oom` file into its working directory, which was berthd's.
    const daemonCwd = await readlink(`/proc/${h.proc.pid}/cwd`)
    const marker = () => statSync(join(daemonCwd, 'oom'), { throwIfNoEntry: false })?.mtimeMs
    const markerBefore = marker()
    const r = await d('run', '--name', 'oom', '-m', '8m', 'busybox', 'sh', '-c', 'x=$(head -c 50000000 /dev/zero | tr "\\0" a); echo ${#x}')
    assert.equal(r.code, 137, r.stderr)
    const s = (await inspect('oom')).State
    assert.equal(s.OOMKilled, true)
    assert.equal(s.ExitCode, 137)
    assert.equal(s.Status, 'exited')
    assert.equal(marker(), markerBefore, `no oom file written into berthd's working directory ${daemonCwd}`)
    // A container that was not OOM killed says so.
    await ok('run', '--name', 'not-oom', '-m', '64m', 'busybox', 'true')
    assert.equal((await inspect('not-oom')).State.OOMKilled, false)
    await ok('rm', 'oom', 'not-oom')
  })

  it('--restart on-failure:2 restarts twice, then stays exited (RestartCount 2)', async () => {
    const t0 = nowSecs()
    await ok('run', '-d', '--name', 'flaky', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'echo run; exit 1')
    await waitFor('two restarts', async () => {
      const c = await inspect('flaky')
      return c.RestartCount === 2 && c.State.Status === 'exited'
    }, 15_000, 100)
    await sleep(1000) // a third restart would come within the back-off (400 ms)
    const c = await inspect('flaky')
    assert.equal(c.RestartCount, 2)
    assert.equal(c.State.ExitCode, 1)
    assert.equal(c.HostConfig.RestartPolicy.Name, 'on-failure')
    assert.equal(c.HostConfig.RestartPolicy.MaximumRetryCount, 2)
    assert.equal(await ok('logs', 'flaky'), 'run\nrun\nrun\n')
    const events = lines(await ok('events', '--since', t0, '--until', nowSecs(1000), '--filter', 'container=flaky', '--format', '{{.Action}}'))
    assert.deepEqual(events.filter((e) => e !== 'attach'), ['create', 'start', 'die', 'start', 'die', 'start', 'die'], 'a policy restart is a plain start, as in Docker')
    // A stopped on-failure container with exit 0 is not restarted; neither after docker stop.
    await ok('run', '-d', '--name', 'fine', '--restart', 'on-failure', 'busybox', 'true')
    await ok('run', '-d', '--name', 'always', '--restart', 'always', 'busybox', 'sleep', '60')
    await ok('stop', '-t', '0', 'always')
    await sleep(500)
    assert.equal((await inspect('fine')).RestartCount, 0)
    const a = await inspect('always')
    assert.equal(a.State.Status, 'exited')
    assert.equal(a.RestartCount, 0)
    await ok('rm', 'flaky', 'fine', 'always')
  })

  it('docker ps: -a -q -l -n --no-trunc, status/name/label/exited filters, --format', async () => {
    const web = (await ok('run', '-d', '--name', 'ps-web', '-l', 'app=web', 'busybox', 'sleep', '60')).trim()
    await ok('run', '--name', 'ps-zero', '-l', 'app=batch', 'busybox', 'true')
    assert.equal((await d('run', '--name', 'ps-three', 'busybox', 'sh', '-c', 'exit 3')).code, 3)
    const three = (await ok('ps', '-aq', '--no-trunc', '--filter', 'name=ps-three')).trim()
    const zero = (await ok('ps', '-aq', '--no-trunc', '--filter', 'name=ps-zero')).trim()
    assert.equal(lines(await ok('ps', '-q')).join(), web.slice(0, 12), 'only running ones without -a')
    assert.deepEqual(lines(await ok('ps', '-aq', '--filter', 'name=ps-')), [three, zero, web].map((i) => i.slice(0, 12)), 'newest first')
    assert.deepEqual(lines(await ok('ps', '-l', '-q')), [three.slice(0, 12)])
    assert.deepEqual(lines(await ok('ps', '-n', '2', '-q')), [three, zero].map((i) => i.slice(0, 12)))
    assert.deepEqual(lines(await ok('ps', '-q', '--no-trunc')), [web])
    const table = lines(await ok('ps', '-a'))
    assert.match(table[0]!, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/)
    assert.match(table.find((l) => l.endsWith('ps-web'))!, /^[a-f0-9]{12}\s+busybox\s+"sleep 60"\s+.*\s+Up (Less than a second|\d+ seconds?)\s+ps-web$/)
    assert.match(table.find((l) => l.endsWith('ps-three'))!, /\s+Exited \(3\) (Less than a second|\d+ seconds?) ago\s+ps-three$/)
    assert.deepEqual(lines(await ok('ps', '-a', '--filter', 'status=exited', '--filter', 'name=ps-', '--format', '{{.Names}}')), ['ps-three', 'ps-zero'])
    assert.deepEqual(lines(await ok('ps', '-a', '--filter', 'exited=3', '--format', '{{.Names}}')), ['ps-three'])
    assert.deepEqual(lines(await ok('ps', '-a', '--filter', 'label=app=web', '--format', '{{.Names}}')), ['ps-web'])
    assert.deepEqual(lines(await ok('ps', '-a', '--filter', 'label=app', '--format', '{{.Names}}')), ['ps-zero', 'ps-web'])
    assert.deepEqual(lines(await ok('ps', '--filter', 'status=running', '--format', '{{.Names}} {{.State}} {{.Label "app"}} {{.Command}} {{.Image}}')), ['ps-web running web "sleep 60" busybox'])
    assert.deepEqual(lines(await ok('ps', '-a', '--filter', 'ancestor=busybox', '--filter', 'name=ps-zero', '--format', '{{.ID}}')), [zero.slice(0, 12)])
    const bad = await d('ps', '--filter', 'status=sleeping')
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /invalid filter 'status=sleeping'/)
    const json = JSON.parse(lines(await ok('ps', '--format', 'json'))[0]!) as Json
    assert.equal(json.Names, 'ps-web')
    assert.equal(json.State, 'running')
    await ok('rm', '-f', 'ps-web', 'ps-zero', 'ps-three')
  })

  it('docker inspect: State of a running and of an exited container', async () => {
    const id = (await ok('run', '-d', '--name', 'insp', 'busybox', 'sleep', '60')).trim()
    let s = (await inspect('insp')).State
    assert.equal(s.Status, 'running')
    assert.equal(s.Running, true)
    assert.equal(s.Paused, false)
    assert.equal(s.ExitCode, 0)
    assert.equal(s.OOMKilled, false)
    assert.match(s.StartedAt, RFC3339)
    assert.equal(s.FinishedAt, ZERO_TIME)
    assert.ok(s.Pid > 0)
    assert.equal((await readFile(`/proc/${s.Pid}/cmdline`, 'utf8')).split('\0')[0], 'sleep', 'Pid is the container process on the host')
    assert.equal((await ok('inspect', '-f', '{{.State.Pid}} {{.Id}} {{.Name}} {{.Path}} {{json .Args}} {{.Config.Image}}', 'insp')).trim(), `${s.Pid} ${id} /insp sleep ["60"] busybox`)
    await ok('stop', '-t', '0', 'insp')
    s = (await inspect('insp')).State
    assert.equal(s.Status, 'exited')
    assert.equal(s.Running, false)
    assert.equal(s.Pid, 0)
    assert.equal(s.ExitCode, 137)
    assert.match(s.FinishedAt, RFC3339)
    assert.ok(Date.parse(s.FinishedAt) >= Date.parse(s.StartedAt))
    const missing = await d('inspect', 'no-such-container')
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /No such object: no-such-container/)
    await ok('rm', 'insp')
  })

  it('docker logs: all, --tail, -t, --since/--until, stdout vs stderr, -f ends when the container stops', async () => {
    await ok('run', '-d', '--name', 'chatty', 'busybox', 'sh', '-c', 'for i in 1 2 3 4 5; do echo line$i; done; echo oops >&2; trap "echo bye; exit 0" TERM; while true; do sleep 0.1; done')
    await waitFor('the log', async () => (await d('logs', 'chatty')).stderr === 'oops\n')
    let r = await d('logs', 'chatty')
    assert.equal(r.stdout, 'line1\nline2\nline3\nline4\nline5\n')
    assert.equal(r.stderr, 'oops\n')
    r = await d('logs', '--tail', '2', 'chatty')
    assert.equal(r.stdout, 'line5\n')
    assert.equal(r.stderr, 'oops\n')
    assert.equal((await d('logs', '--tail', '0', 'chatty')).stdout, '')
    const stamped = lines((await d('logs', '-t', '--tail', '3', 'chatty')).stdout)
    assert.equal(stamped.length, 2)
    for (const l of stamped) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line[45]$/)
    assert.equal((await d('logs', '--since', '1m', 'chatty')).stdout.split('\n').length, 6)
    assert.equal((await d('logs', '--since', nowSecs(60_000), 'chatty')).stdout, '', 'nothing from the future')
    assert.equal((await d('logs', '--until', '2020-01-01T00:00:00Z', 'chatty')).stdout, '')
    // -f follows until the container stops, with what it wrote on the way out.
    const follow = dockerT(h, 20, 'logs', '-f', '--tail', '2', 'chatty')
    await sleep(500)
    await ok('stop', 'chatty')
    const f = await follow
    assert.equal(f.code, 0)
    assert.equal(f.stdout, 'line5\nbye\n')
    assert.equal(f.stderr, 'oops\n')
    // -f on a stopped container returns at once.
    assert.equal((await d('logs', '-f', 'chatty')).stdout, 'line1\nline2\nline3\nline4\nline5\nbye\n')
    const missing = await d('logs', 'nope')
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /No such container: nope/)
    await ok('rm', 'chatty')
  })

  it('docker stop: 143 when the process handles SIGTERM, 137 when it ignores it; --stop-signal', async () => {
    await ok('run', '-d', '--name', 'trapper', 'busybox', 'sh', '-c', 'trap "exit 143" TERM; while true; do sleep 0.1; done')
    await ok('run', '-d', '--name', 'inited', '--init', 'busybox', 'sleep', '60')
    await ok('run', '-d', '--name', 'deaf', 'busybox', 'sleep', '60')
    await ok('run', '-d', '--name', 'usr1', '--stop-signal', 'USR1', 'busybox', 'sh', '-c', 'trap "echo got usr1; exit 5" USR1; while true; do sleep 0.1; done')
    await sleep(300) // the shells set their traps
    let t = Date.now()
    assert.equal(await ok('stop', 'trapper', 'inited'), 'trapper\ninited\n')
    assert.ok(Date.now() - t < 5000, 'a handled SIGTERM does not wait for the timeout')
    assert.equal((await inspect('trapper')).State.ExitCode, 143)
    assert.equal((await inspect('inited')).State.ExitCode, 143, 'docker-init passes SIGTERM on; sleep dies of it')
    t = Date.now()
    await ok('stop', '-t', '1', 'deaf')
    assert.ok(Date.now() - t >= 900, 'pid 1 ignores SIGTERM: killed after the timeout')
    assert.equal((await inspect('deaf')).State.ExitCode, 137)
    assert.equal((await inspect('usr1')).Config.StopSignal, 'USR1')
    await ok('stop', 'usr1')
    assert.equal((await inspect('usr1')).State.ExitCode, 5)
    assert.equal(await ok('logs', 'usr1'), 'got usr1\n')
    // Stopping a stopped container is fine.
    assert.equal(await ok('stop', 'deaf'), 'deaf\n')
    await ok('rm', 'trapper', 'inited', 'deaf', 'usr1')
  })

  it('docker kill -s, docker kill waits for the stop, docker wait prints the exit code', async () => {
    await ok('run', '-d', '--name', 'hup', 'busybox', 'sh', '-c', 'trap "echo hup; exit 7" HUP; while true; do sleep 0.1; done')
    await sleep(300)
    const waiting = dockerT(h, 20, 'wait', 'hup')
    await sleep(200)
    assert.equal(await ok('kill', '-s', 'HUP', 'hup'), 'hup\n')
    const w = await waiting
    assert.equal(w.code, 0)
    assert.equal(w.stdout, '7\n')
    assert.equal(await ok('wait', 'hup'), '7\n', 'wait on a stopped container answers at once')
    const r = await d('kill', 'hup')
    assert.equal(r.code, 1)
    assert.match(r.stderr, /annot kill container: hup: container [a-f0-9]{64} is not running/)
    await ok('run', '-d', '--name', 'victim', 'busybox', 'sleep', '60')
    assert.equal(await ok('kill', 'victim'), 'victim\n')
    const s = (await inspect('victim')).State
    assert.deepEqual([s.Status, s.ExitCode], ['exited', 137], 'SIGKILL returns once the container is down')
    const bad = await d('kill', '-s', 'NOPE', 'victim')
    assert.equal(bad.code, 1)
    await ok('rm', 'hup', 'victim')
  })

  it('docker restart, docker rm (running: 409 with Docker\'s message; -f), docker rename', async () => {
    await ok('run', '-d', '--name', 'rs', 'busybox', 'sleep', '60')
    const started = (await inspect('rs')).State.StartedAt as string
    await sleep(20)
    const t0 = nowSecs()
    assert.equal(await ok('restart', '-t', '0', 'rs'), 'rs\n')
    const after = (await inspect('rs')).State
    assert.equal(after.Status, 'running')
    assert.ok(Date.parse(after.StartedAt) > Date.parse(started))
    const ev = lines(await ok('events', '--since', t0, '--until', nowSecs(1000), '--filter', 'container=rs', '--format', '{{.Action}}'))
    assert.deepEqual(ev.filter((e) => !e.startsWith('kill')), ['die', 'stop', 'start', 'restart'])
    const r = await d('rm', 'rs')
    assert.equal(r.code, 1)
    assert.equal(r.stderr.trim(), 'Error response from daemon: cannot remove container "rs": container is running: stop the container before removing or force remove')
    const res = await api(h, 'DELETE', `/containers/rs`)
    assert.equal(res.status, 409)
    // rename, and its conflict in the words Compose looks for
    await ok('create', '--name', 'other', 'busybox')
    await ok('rename', 'rs', 'rs2')
    assert.equal((await inspect('rs2')).Name, '/rs2')
    assert.equal((await d('inspect', 'rs')).code, 1)
    const clash = await d('rename', 'rs2', 'other')
    assert.equal(clash.code, 1)
    assert.match(clash.stderr, /^Error response from daemon: Error when allocating new name: Conflict\. The container name "\/other" is already in use by container "[a-f0-9]{64}"\. You have to remove \(or rename\) that container to be able to reuse that name\.$/m)
    assert.equal((await inspect('rs2')).Name, '/rs2', 'unchanged after a failed rename')
    assert.equal(await ok('rm', '-f', 'rs2', 'other'), 'rs2\nother\n')
    assert.equal((await ok('ps', '-aq')).trim(), '')
    const gone = await d('rm', 'rs2')
    assert.equal(gone.code, 1)
    assert.equal(gone.stderr.trim(), 'Error response from daemon: No such container: rs2')
  })

  it('docker pause / unpause: State.Paused, the freezer, ps status; a paused container refuses rm', async () => {
    const id = (await ok('run', '-d', '--name', 'frozen', 'busybox', 'sleep', '60')).trim()
    assert.equal(await ok('pause', 'frozen'), 'frozen\n')
    let s = (await inspect('frozen')).State
    assert.deepEqual([s.Status, s.Paused, s.Running], ['paused', true, true])
    if (cgroupV1) assert.equal((await readFile(join(cgroupDir('freezer', id), 'freezer.state'), 'utf8')).trim(), 'FROZEN')
    assert.match((await ok('ps', '--format', '{{.Status}}', '--filter', 'name=frozen')).trim(), /^Up .* \(Paused\)$/)
    assert.deepEqual(lines(await ok('ps', '-q', '--filter', 'status=paused')), [id.slice(0, 12)])
    const again = await d('pause', 'frozen')
    assert.equal(again.code, 1)
    assert.match(again.stderr, /is already paused/)
    const rm = await d('rm', 'frozen')
    assert.equal(rm.code, 1)
    assert.equal(rm.stderr.trim(), 'Error response from daemon: cannot remove container "frozen": container is paused and must be unpaused first')
    assert.equal(await ok('unpause', 'frozen'), 'frozen\n')
    s = (await inspect('frozen')).State
    assert.deepEqual([s.Status, s.Paused, s.Running], ['running', false, true])
    const not = await d('unpause', 'frozen')
    assert.equal(not.code, 1)
    assert.match(not.stderr, /is not paused/)
    // A paused container can still be stopped or killed (it is thawed to hear the signal).
    await ok('pause', 'frozen')
    await ok('stop', '-t', '0', 'frozen')
    assert.equal((await inspect('frozen')).State.Status, 'exited')
    await ok('start', 'frozen')
    await ok('pause', 'frozen')
    const t = Date.now()
    await ok('kill', 'frozen')
    assert.ok(Date.now() - t < 5000, 'kill of a paused container does not hang')
    assert.deepEqual([(await inspect('frozen')).State.Status, (await inspect('frozen')).State.ExitCode], ['exited', 137])
    await ok('rm', 'frozen')
  })

  it('docker container prune -f removes stopped containers only', async () => {
    await ok('run', '--name', 'done1', 'busybox', 'true')
    await ok('create', '--name', 'made1', 'busybox')
    const keep = (await ok('run', '-d', '--name', 'alive', 'busybox', 'sleep', '60')).trim()
    const out = await ok('container', 'prune', '-f')
    assert.match(out, /^Deleted Containers:\n([a-f0-9]{64}\n){2}\nTotal reclaimed space: \S+\n$/)
    assert.deepEqual(lines(await ok('ps', '-aq', '--no-trunc')), [keep])
    await ok('rm', '-f', 'alive')
  })

  it('docker attach to a running container prints its output and exits with its code', async () => {
    await ok('run', '-d', '--name', 'ticker', 'busybox', 'sh', '-c', 'sleep 1; for i in 1 2 3; do echo tick$i; echo tock$i >&2; sleep 0.2; done; exit 4')
    const r = await dockerT(h, 20, 'attach', 'ticker')
    assert.equal(r.code, 4)
    assert.equal(r.stdout, 'tick1\ntick2\ntick3\n')
    assert.equal(r.stderr, 'tock1\ntock2\ntock3\n')
    const stopped = await d('attach', 'ticker')
    assert.equal(stopped.code, 1)
    assert.match(stopped.stderr, /You cannot attach to a stopped container, start it first/)
    // start -a attaches from the start
    const again = await d('start', '-a', 'ticker')
    assert.equal(again.code, 4)
    assert.equal(again.stdout, 'tick1\ntick2\ntick3\n')
    await ok('rm', 'ticker')
  })

  it('docker run -i with piped stdin: text, the exit code, and 3 MB of binary intact', async () => {
    let r = await dockerIn(h, 20, 'hello\nworld\n', 'run', '-i', '--rm', 'busybox', 'sh', '-c', 'cat; echo done; exit 5')
    assert.equal(r.code, 5)
    assert.equal(r.stdout, 'hello\nworld\ndone\n')
    // Regression: stdin arrived in 64 KiB writes and conmon kept 32 KiB of each.
    const data = randomBytes(3 << 20)
    r = await dockerIn(h, 30, data, 'run', '-i', '--rm', 'busybox', 'sh', '-c', 'wc -c; true')
    assert.equal(r.stdout.trim(), String(data.length))
    r = await dockerIn(h, 30, data, 'run', '-i', '--rm', 'busybox', 'md5sum')
    assert.equal(r.stdout.split(' ')[0], createHash('md5').update(data).digest('hex'))
    // Regression: stdin written before the container started filled conmon's socket, whose
    // connect then never completed: the start hung (any input over ~100 KiB).
    r = await runKilled(h, 20, ['sh', '-c', 'head -c 30000000 /dev/zero | docker run -i --rm busybox sh -c "head -c 10 | wc -c"'])
    assert.deepEqual([r.code, r.stdout], [0, '10\n'], r.stderr)
    r = await runKilled(h, 20, ['sh', '-c', 'head -c 30000000 /dev/zero | docker run -i --rm busybox wc -c'])
    assert.deepEqual([r.code, r.stdout.trim()], [0, '30000000'], r.stderr)
    // Regression: a container that exits with input unread (conmon closes with our stdin in its
    // queue: ECONNRESET) lost its last output now and then.
    r = await runKilled(h, 60, ['sh', '-c', 'for i in $(seq 20); do yes | docker run -i --rm busybox head -c 10 | wc -c; done'])
    assert.equal(r.stdout, '10\n'.repeat(20), r.stderr)
    // Without -i the container's stdin is empty.
    r = await dockerIn(h, 20, 'ignored\n', 'run', '--rm', 'busybox', 'sh', '-c', 'cat; echo end')
    assert.equal(r.stdout, 'end\n')
  })

  it('docker run -it through a terminal (script): tty, prompt and input, exit code', async () => {
    const viaScript = (cmd: string, input?: string) =>
      runKilled(h, 20, ['script', '-qec', cmd, '/dev/null'], input !== undefined ? { input } : {})
    let r = await viaScript('docker run -it --rm busybox sh -c "tty; echo in-tty; exit 4"')
    assert.equal(r.code, 4, r.stdout + r.stderr)
    // The docker CLI itself sends one NUL on a TTY attach, which the pty echoes as ^@ (moby#53701).
    assert.match(r.stdout.replace(/\^@/g, ''), /^\/dev\/pts\/0\r\nin-tty\r\n$/)
    r = await viaScript('docker run -it --rm busybox sh', 'echo hi-$((40+2))\nexit 6\n')
    assert.equal(r.code, 6, r.stdout + r.stderr)
    assert.match(r.stdout, /\/ # /, 'the shell prompts on the terminal')
    assert.match(r.stdout, /^hi-42\r$/m)
    // docker run -dit, then attach and detach with ctrl-p ctrl-q: Docker's words and exit 1.
    await ok('run', '-dit', '--name', 'shell', 'busybox', 'sh')
    // The keys come after the shell answered, as a person would type them.
    r = await runKilled(h, 20, ['sh', '-c', `(printf 'echo attached-$((6*7))\\n'; sleep 1; printf '\\020\\021'; sleep 1) | script -qec 'docker attach shell' /dev/null`])
    assert.equal(r.code, 1, r.stdout)
    assert.match(r.stdout, /^attached-42\r$/m)
    assert.match(r.stdout, /read escape sequence/)
    assert.equal((await inspect('shell')).State.Status, 'running', 'detaching leaves it running')
    await ok('rm', '-f', 'shell')
  })

  it('docker events --since/--until --filter type=container: create, start, die, destroy', async () => {
    const t0 = nowSecs()
    assert.equal((await d('run', '--rm', '--name', 'evented', 'busybox', 'sh', '-c', 'exit 2')).code, 2)
    const out = await ok('events', '--since', t0, '--until', nowSecs(1000), '--filter', 'type=container', '--filter', 'container=evented', '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{index .Actor.Attributes "exitCode"}}')
    const core = lines(out).map((l) => l.trim()).filter((e) => /^container (create|start|die|destroy) /.test(e))
    assert.deepEqual(core, ['container create evented', 'container start evented', 'container die evented 2', 'container destroy evented'])
    const json = lines(await ok('events', '--since', t0, '--until', nowSecs(1000), '--filter', 'event=die', '--format', '{{json .}}')).map((l) => JSON.parse(l) as Json)
    assert.ok(json.length >= 1)
    assert.equal(json[0].Type, 'container')
    assert.equal(json[0].Action, 'die')
    assert.equal(json[0].Actor.Attributes.image, 'busybox')
    assert.match(json[0].Actor.ID, /^[a-f0-9]{64}$/)
  })

  it('docker rmi of an image a container uses: Docker\'s conflict message', async () => {
    const id = (await ok('create', '--name', 'user', 'busybox', 'true')).trim()
    const img = (await ok('image', 'inspect', '-f', '{{.Id}}', 'busybox')).trim().replace('sha256:', '')
    const r = await d('rmi', 'busybox')
    assert.equal(r.code, 1)
    assert.equal(r.stderr.trim(), `Error response from daemon: conflict: unable to remove repository reference "busybox" (must force) - container ${id.slice(0, 12)} is using its referenced image ${img.slice(0, 12)}`)
    await ok('rm', 'user')
  })

  it('commands of other areas answer a clear error or work, never hang', async () => {
    await ok('run', '-d', '--name', 'idle', 'busybox', 'sleep', '60')
    for (const args of [['exec', 'idle', 'true'], ['top', 'idle'], ['diff', 'idle'], ['update', '--memory', '64m', 'idle']]) {
      const r = await d(...args)
      if (r.code !== 0) assert.match(r.stderr, /Error response from daemon: (page not found|.*not (implemented|supported))/i, `docker ${args.join(' ')}: ${r.stderr}`)
    }
    await ok('rm', '-f', 'idle')
  })

  it('leaves nothing behind: no mounts, conmon processes, runtime state or cgroups', async () => {
    for (const id of await createdIds(h)) seen.add(id)
    for (const id of await listedContainerIds(h)) seen.add(id)
    for (const id of await listedContainerIds(h)) await ok('rm', '-f', id)
    await waitFor('monitors to exit', async () => isClean(await leftoversOf(h, seen)), 10_000, 100).catch(() => {})
    assert.deepEqual(await leftoversOf(h, seen), { mounts: [], conmons: [], runtimeState: [], cgroups: [] })
    assert.ok(seen.size > 20, `saw ${seen.size} containers`)
  })
})
