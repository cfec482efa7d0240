import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chmod, copyFile, readFile, readdir } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { BERTH, fixture, runCmd, type RunResult } from './harness.js'
import { HostLab, labPrerequisite, type LabHost } from './machine-hosts.js'
import { eventually } from './swarm-harness.js'

// Issue 16, "together with swarm": three machines made by `berth machine create` form a swarm
// with the real docker CLI through `eval $(berth machine env mN)`, run a published service on
// it, leave it, and `berth machine rm` leaves each host clean (no etcd, engine, mounts, netns,
// iptables chains of the engine).

const missing = labPrerequisite() ?? (!existsSync(process.env.BERTH_ETCD || '/usr/bin/etcd') ? 'needs etcd (apt-get install etcd-server)' : undefined) ?? (() => {
  try {
    execFileSync('docker', ['--version'], { stdio: 'ignore' })
    return undefined
  } catch {
    return 'needs the docker CLI'
  }
})()

const HTTPD = ['sh', '-c', 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www']


test('three machines from berth machine create form a swarm with the docker CLI; rm leaves the hosts clean', { skip: missing ?? false, timeout: 1_500_000 }, async (t) => {
  const lab = new HostLab()
  let env: Record<string, string> = {}
  const made: string[] = []
  t.after(async () => {
    // Even on failure: the machines first (engine, etcd, files), then the hosts.
    for (const name of made) await runCmd(process.execPath, [BERTH, 'machine', 'rm', '-f', '-y', name], { env, timeoutMs: 120_000 })
    await lab.down()
  })
  await lab.init()
  const hosts: LabHost[] = []
  for (const n of ['m1', 'm2', 'm3']) hosts.push(await lab.addHost(n))
  const home = join(lab.root, 'home')
  await lab.writeSshConfig(join(home, '.ssh'))
  await copyFile(lab.clientKey, join(home, '.ssh', 'id_ed25519'))
  await chmod(join(home, '.ssh', 'id_ed25519'), 0o600)
  env = {
    HOME: home, PATH: process.env.PATH ?? '/usr/bin:/bin', DOCKER_CONFIG: join(home, '.docker'),
    DOCKER_HOST: '', BERTH_HOST: '', DOCKER_CONTEXT: '', DOCKER_TLS_VERIFY: '', DOCKER_CERT_PATH: '', DOCKER_MACHINE_NAME: '', SSH_AUTH_SOCK: '',
  }
  const berth = (args: string[]) => runCmd(process.execPath, [BERTH, ...args], { env, timeoutMs: 300_000 })
  const ok = (r: RunResult, what: string) => { assert.equal(r.code, 0, `${what}: ${r.stderr}${r.stdout}`); return r.stdout }
  // The shape: a shell that evals the machine's env, then the docker CLI.
  const onMachine = (name: string, cmd: string) => runCmd('bash', ['-c', `eval $(berth machine env ${name}) && ${cmd}`], {
    env: { ...env, PATH: `${join(lab.root, 'bin')}:${env.PATH}` }, timeoutMs: 180_000,
  })
  // `berth` on PATH for the eval.
  const { mkdir, writeFile } = await import('node:fs/promises')
  await mkdir(join(lab.root, 'bin'), { recursive: true })
  await writeFile(join(lab.root, 'bin', 'berth'), `#!/bin/sh\nexec ${process.execPath} ${BERTH} "$@"\n`, { mode: 0o755 })
  const [m1, m2, m3] = hosts as [LabHost, LabHost, LabHost]

  let t0 = Date.now()
  const creates = await Promise.all(hosts.map((h) => {
    made.push(h.name)
    return berth(['machine', 'create', '--driver', 'generic', '--generic-ip-address', h.ip, '--generic-ssh-user', 'root', '--generic-ssh-key', lab.clientKey, h.name])
  }))
  creates.forEach((c, i) => ok(c, `machine create ${hosts[i]!.name}`))
  t.diagnostic(`machine create m1, m2, m3 (concurrently): ${Date.now() - t0} ms`)
  const ls = ok(await berth(['machine', 'ls', '--format', '{{.Name}} {{.State}}']), 'machine ls')
  assert.equal(ls, 'm1 Running\nm2 Running\nm3 Running\n')

  t0 = Date.now()
  ok(await onMachine('m1', `docker swarm init --advertise-addr ${m1.ip}`), 'swarm init on m1')
  const token = ok(await onMachine('m1', 'docker swarm join-token -q worker'), 'join-token').trim()
  assert.match(token, /^SWMTKN-1-/)
  for (const h of [m2, m3]) ok(await onMachine(h.name, `docker swarm join --token ${token} ${m1.ip}:2377`), `swarm join on ${h.name}`)
  const nodes = (await eventually(async () => {
    const out = ok(await onMachine('m1', "docker node ls --format '{{.Hostname}} {{.Status}} {{.ManagerStatus}}'"), 'node ls')
    const lines = out.trim().split('\n').sort()
    return lines.length === 3 && lines.every((l) => / Ready/.test(l)) ? lines : undefined
  }, 60_000, "3 Ready nodes"))!
  t.diagnostic(`swarm formed (init, 2 joins, 3 Ready): ${Date.now() - t0} ms`)
  assert.deepEqual(nodes.map((l) => l.split(' ')[0]), ['m1', 'm2', 'm3'])
  assert.equal(nodes.filter((l) => l.endsWith(' Leader')).length, 1)
  assert.match(nodes[0]!, /^m1 Ready Leader$/)

  // Each machine's engine gets busybox over TLS (the lab has no registry nor DNS).
  const busybox = await fixture('busybox')
  await Promise.all(hosts.map(async (h) => ok(await onMachine(h.name, `docker load -i ${busybox}`), `docker load on ${h.name}`)))

  t0 = Date.now()
  ok(await onMachine('m1', `docker service create --detach --no-resolve-image --name web --replicas 3 -p 8080:80 busybox ${HTTPD.slice(0, 2).join(' ')} '${HTTPD[2]}'`), 'service create')
  await eventually(async () => ok(await onMachine('m1', "docker service ls --filter name=web --format '{{.Replicas}}'"), 'service ls').trim() === '3/3', 120_000, 'web 3/3')
  t.diagnostic(`service web converged to 3/3: ${Date.now() - t0} ms`)
  const ps = ok(await onMachine('m1', "docker service ps web --filter desired-state=running --format '{{.Node}}'"), 'service ps')
  t.diagnostic(`web tasks on: ${ps.trim().split('\n').join(', ')}`)
  for (const h of hosts) {
    const body = await eventually(async () => {
      const r = await runCmd('curl', ['-s', '-m', '3', `http://${h.ip}:8080/`])
      return r.code === 0 && /^[0-9a-f]{12}$/.test(r.stdout.trim()) ? r.stdout.trim() : undefined
    }, 30_000, `8080 on ${h.ip}`)
    t.diagnostic(`http://${h.ip}:8080/ answered by task container ${body}`)
  }

  // The workers leave; m1 stays the manager, so rm must stop its etcd member (which runs
  // detached from berthd) along with the engine.
  for (const h of [m3, m2]) ok(await onMachine(h.name, 'docker swarm leave --force'), `swarm leave on ${h.name}`)
  const m1Procs = await Promise.all((await lab.hostPids(m1)).map((p) => readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => '')))
  assert.ok(m1Procs.some((c) => c.startsWith('/usr/bin/etcd\0') || c.includes('etcd\0--name')), 'm1 runs an etcd member before rm')
  const state = ok(await onMachine('m2', "docker info --format '{{.Swarm.LocalNodeState}}'"), 'info')
  assert.equal(state.trim(), 'inactive')
  for (const h of hosts) {
    ok(await berth(['machine', 'rm', '-f', '-y', h.name]), `machine rm ${h.name}`)
    made.splice(made.indexOf(h.name), 1)
  }
  for (const h of hosts) {
    const procs = (await lab.hostPids(h)).filter((p) => p !== h.sshd.pid)
    const cmds = (await Promise.all(procs.map((p) => readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => '')))).map((c) => c.replace(/\0/g, ' '))
    assert.deepEqual(cmds.filter((c) => /etcd|berthd|conmon|supervise|httpd/.test(c)), [], `${h.name}: processes left`)
    assert.equal(existsSync(h.upper('/var/lib/berth')) ? (await readdir(h.upper('/var/lib/berth'))).length : 0, 0, `${h.name}: data root not empty`)
    const netns = existsSync(h.upper('/run/netns')) ? await readdir(h.upper('/run/netns')) : []
    assert.deepEqual(netns, [], `${h.name}: network namespaces left`)
    const ipt = await runCmd('ip', ['netns', 'exec', h.netns, 'iptables-save'])
    assert.equal(ipt.code, 0, ipt.stderr)
    assert.deepEqual(ipt.stdout.split('\n').filter((l) => /BERTH|DOCKER/i.test(l)), [], `${h.name}: iptables chains left`)
    const links = (await runCmd('ip', ['-n', h.netns, '-o', 'link'])).stdout.split('\n').filter(Boolean).map((l) => l.split(': ')[1]!.split('@')[0])
    assert.deepEqual(links.sort(), ['eth0', 'lo'], `${h.name}: links left`)
    const mounts = (await readFile(`/proc/${h.sshd.pid}/mountinfo`, 'utf8')).split('\n').map((l) => l.split(' ')[4]).filter((m): m is string => !!m && (m.startsWith('/var/lib/berth/') || m.startsWith('/run/berth')))
    assert.deepEqual(mounts, [], `${h.name}: mounts left`)
  }
})
