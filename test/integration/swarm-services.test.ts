import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fixture, runCmd } from './harness.js'
import { eventually, startSwarmLab, swarmInfo, swarmLabSkip, type SwarmHost, type SwarmLab } from './swarm-harness.js'

/**
 * Issue 15's acceptance, end to end with the real docker CLI against berthd's on three network
 * namespaces: a 6-replica busybox httpd published on 8080 answers on every host; a task on host 2
 * reaches a task on host 3 by service name over an overlay; killing host 3's berthd brings its
 * tasks up on the others within 5 s; a rolling update with --update-parallelism 2 replaces tasks
 * two at a time; with three managers, killing the leader's berthd lets service writes resume
 * within 2 s. The measured figures are printed (t.diagnostic).
 *
 * Services are created with --no-resolve-image: the lab has no DNS, and the CLI's digest lookup
 * (/distribution) would wait for the resolver's timeout (~40 s) before creating anything.
 */

const SKIP = swarmLabSkip()
/**
 * The issue's time targets (5 s reschedule, 2 s leader loss) are checked only when asked
 * (BERTH_TIMING_TARGETS=1, a quiet machine): CI never gates on timing; the figures are printed
 * either way and the behaviour (tasks replaced, writes resuming) is always checked.
 */
const TIMING = process.env.BERTH_TIMING_TARGETS === '1'

const HTTPD = ['sh', '-c', 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www']

interface WireTask {
  ID: string
  Slot?: number
  NodeID: string
  CreatedAt: string
  DesiredState: string
  Status: { State: string; Timestamp: string; ContainerStatus?: { ContainerID?: string } }
  Spec: { ContainerSpec: { Env?: string[] } }
}

async function tasksOf(h: SwarmHost, service: string): Promise<WireTask[]> {
  const f = encodeURIComponent(JSON.stringify({ service: [service] }))
  const r = await h.api('GET', `/tasks?filters=${f}`)
  assert.equal(r.status, 200, r.text)
  return r.json() as WireTask[]
}

const runningOf = (ts: WireTask[]) => ts.filter((t) => t.DesiredState === 'running' && t.Status.State === 'running')

async function ok(h: SwarmHost, ...args: string[]): Promise<string> {
  const r = await h.docker(...args)
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}

async function nodeIds(h: SwarmHost): Promise<Map<string, string>> {
  const r = await h.api('GET', '/nodes')
  return new Map((r.json() as Array<{ ID: string; Description: { Hostname: string } }>).map((n) => [n.Description.Hostname, n.ID]))
}

async function curl(url: string, ns?: string): Promise<string> {
  const args = ['-s', '-m', '3', url]
  const r = ns ? await runCmd('ip', ['netns', 'exec', ns, 'curl', ...args]) : await runCmd('curl', args)
  return r.code === 0 ? r.stdout.trim() : `curl exit ${r.code}`
}

test('swarm services on three hosts with the docker CLI (issue 15 acceptance)', { skip: SKIP, timeout: 900_000 }, async (t) => {
  const lab: SwarmLab = await startSwarmLab(3)
  t.after(() => lab.cleanup())
  const [h1, h2, h3] = lab.hosts as [SwarmHost, SwarmHost, SwarmHost]
  let ids = new Map<string, string>()

  await t.test('init on host 1, join on hosts 2 and 3', async () => {
    const busybox = await fixture('busybox')
    for (const h of lab.hosts) await ok(h, 'load', '-i', busybox)
    await ok(h1, 'swarm', 'init', '--advertise-addr', h1.ip)
    const token = (await ok(h1, 'swarm', 'join-token', '-q', 'worker')).trim()
    for (const h of [h2, h3]) await ok(h, 'swarm', 'join', '--token', token, `${h1.ip}:2377`)
    await eventually(async () => (await ok(h1, 'node', 'ls', '--format', '{{.Status}}')).trim().split('\n').filter((s) => s === 'Ready').length === 3, 20_000, '3 ready nodes')
    ids = await nodeIds(h1)
  })

  await t.test('a 6-replica httpd on -p 8080:80 converges over the three nodes and answers on every host', async () => {
    const t0 = Date.now()
    await ok(h1, 'service', 'create', '--detach', '--no-resolve-image', '--name', 'web', '--replicas', '6', '-p', '8080:80', 'busybox', ...HTTPD)
    await eventually(async () => (await ok(h1, 'service', 'ls', '--filter', 'name=web', '--format', '{{.Replicas}}')).trim() === '6/6', 60_000, 'web 6/6')
    t.diagnostic(`web: create to 6/6 (service ls) in ${Date.now() - t0} ms`)
    const ps = await ok(h1, 'service', 'ps', 'web', '--filter', 'desired-state=running', '--format', '{{.Node}} {{.CurrentState}}')
    const nodes = new Set(ps.trim().split('\n').map((l) => l.split(' ')[0]))
    assert.deepEqual([...nodes].sort(), [h1.hostname, h2.hostname, h3.hostname], ps)
    for (const h of lab.hosts) {
      const body = await eventually(async () => { const b = await curl(`http://${h.ip}:8080/`); return /^[0-9a-f]{12}$/.test(b) ? b : undefined }, 10_000, `8080 on ${h.ip}`)
      t.diagnostic(`http://${h.ip}:8080/ answered by task container ${body}`)
      const local = await curl('http://127.0.0.1:8080/', h.ns)
      assert.match(local, /^[0-9a-f]{12}$/, `127.0.0.1:8080 inside ${h.ns}`)
    }
    // The routing mesh balances: several tasks answer over a few requests.
    const seen = new Set<string>()
    for (let i = 0; i < 12; i++) seen.add(await curl(`http://${h2.ip}:8080/`))
    assert.ok(seen.size >= 2, `one task answered every request: ${[...seen].join(',')}`)
  })

  await t.test('a task on host 2 reaches a task on host 3 by service name over an overlay', async () => {
    await ok(h1, 'network', 'create', '-d', 'overlay', 'appnet')
    await ok(h1, 'service', 'create', '--detach', '--no-resolve-image', '--name', 'back', '--network', 'appnet', '--constraint', `node.hostname==${h3.hostname}`, 'busybox', ...HTTPD)
    await ok(h1, 'service', 'create', '--detach', '--no-resolve-image', '--name', 'front', '--network', 'appnet', '--constraint', `node.hostname==${h2.hostname}`, 'busybox', 'sleep', '3600')
    const backTask = (await eventually(async () => runningOf(await tasksOf(h1, 'back'))[0], 60_000, 'back running'))!
    assert.equal(backTask.NodeID, ids.get(h3.hostname))
    await eventually(async () => runningOf(await tasksOf(h1, 'front'))[0], 60_000, 'front running')
    const front = (await ok(h2, 'ps', '-q', '--filter', 'name=front.1.')).trim()
    assert.ok(front, 'front task container on host 2')
    const backCtr = backTask.Status.ContainerStatus!.ContainerID!.slice(0, 12)
    const body = await eventually(async () => {
      const r = await h2.docker('exec', front, 'wget', '-qO-', 'http://back/')
      return r.code === 0 && r.stdout.trim()
    }, 15_000, 'wget http://back/ from host 2')
    assert.equal(body, backCtr)
    const ns = await ok(h2, 'exec', front, 'nslookup', 'tasks.back')
    t.diagnostic(`front (host 2) -> http://back/ answered by ${body} on host 3; nslookup tasks.back: ${ns.replace(/\s+/g, ' ').trim()}`)
  })

  await t.test('killing host 3\'s berthd brings its tasks up on the others within 5 s', async () => {
    const n3 = ids.get(h3.hostname)!
    const onH3 = runningOf(await tasksOf(h1, 'web')).filter((x) => x.NodeID === n3).length
    assert.ok(onH3 > 0, 'web has tasks on host 3')
    const t0 = Date.now()
    await h3.kill()
    let off: WireTask[] = []
    const deadline = Date.now() + 30_000
    for (;;) {
      const run = runningOf(await tasksOf(h1, 'web'))
      if (run.length === 6 && run.every((x) => x.NodeID !== n3)) { off = run; break }
      if (Date.now() > deadline) assert.fail(`6 web tasks off host 3: ${run.length} running`)
      await new Promise((r) => setTimeout(r, 50))
    }
    const seen = Date.now() - t0
    const down = (await h1.api('GET', `/nodes/${n3}`)).json() as { Status: { State: string }; UpdatedAt: string }
    const fresh = off.filter((x) => Date.parse(x.CreatedAt) >= t0)
    // When the last replacement was up: the agent's `running` report (the test's own polling adds its latency to `seen`).
    const took = Math.max(...fresh.map((x) => Date.parse(x.Status.Timestamp) - t0))
    t.diagnostic(`host 3 killed: node ${down.Status.State} after ${Date.parse(down.UpdatedAt) - t0} ms; ${fresh.length} replacement tasks created after ${fresh.map((x) => Date.parse(x.CreatedAt) - t0).join('/')} ms, running after ${fresh.map((x) => Date.parse(x.Status.Timestamp) - t0).join('/')} ms; 6/6 off host 3 seen by the test after ${seen} ms`)
    assert.equal(down.Status.State, 'down')
    assert.equal(fresh.length, onH3)
    if (TIMING) assert.ok(took <= 5000, `rescheduling took ${took} ms (issue: within 5 s)`)
  })

  await t.test('host 3 comes back: ready again, its stale tasks removed, not run twice', async () => {
    await h3.start()
    await eventually(async () => (await ok(h1, 'node', 'ls', '--filter', `name=${h3.hostname}`, '--format', '{{.Status}}')).trim() === 'Ready', 20_000, 'host 3 ready')
    await eventually(async () => (await ok(h3, 'ps', '-q', '--filter', 'name=web.')).trim() === '', 20_000, 'no web containers on host 3')
    assert.equal(runningOf(await tasksOf(h1, 'web')).length, 6)
  })

  await t.test('service update --update-parallelism 2 replaces tasks two at a time', async () => {
    const before = new Set(runningOf(await tasksOf(h1, 'web')).map((x) => x.ID))
    let minRunning = 6
    let maxNewStarting = 0
    const t0 = Date.now()
    await ok(h1, 'service', 'update', '--detach', '--update-parallelism', '2', '--update-delay', '0s', '--env-add', 'X=1', 'web')
    await eventually(async () => {
      const ts = await tasksOf(h1, 'web')
      const run = runningOf(ts)
      minRunning = Math.min(minRunning, run.length)
      const newActive = ts.filter((x) => !before.has(x.ID) && x.DesiredState === 'running' && x.Status.State !== 'running').length
      maxNewStarting = Math.max(maxNewStarting, newActive)
      return run.length === 6 && run.every((x) => !before.has(x.ID) && (x.Spec.ContainerSpec.Env ?? []).includes('X=1'))
    }, 120_000, 'web updated')
    const took = Date.now() - t0
    const fresh = runningOf(await tasksOf(h1, 'web')).map((x) => Date.parse(x.CreatedAt) - t0).sort((a, b) => a - b)
    // Batches: tasks created within 300 ms of each other.
    const batches: number[][] = []
    for (const c of fresh) {
      const last = batches[batches.length - 1]
      if (last && c - last[last.length - 1]! < 300) last.push(c)
      else batches.push([c])
    }
    t.diagnostic(`update: done in ${took} ms; new tasks created at ${batches.map((b) => `[${b.join(',')}]`).join(' ')} ms; fewest running during it ${minRunning}; most new tasks not yet running at once ${maxNewStarting}`)
    const hist = await ok(h1, 'service', 'ps', 'web', '--format', '{{.Name}} {{.DesiredState}} {{.CurrentState}}')
    t.diagnostic(`service ps web:\n${hist}`)
    // swarmkit's updater runs `parallelism` workers, each taking the next slot when its task is
    // replaced (a window of two, not lock-step batches): never more than two new at once.
    assert.ok(batches.every((b) => b.length <= 2), `a batch of more than 2: ${JSON.stringify(batches)}`)
    assert.equal(fresh.length, 6)
    assert.ok(minRunning >= 4, `only ${minRunning} tasks ran at one point`)
    assert.ok(maxNewStarting <= 2, `${maxNewStarting} new tasks started at once`)
  })

  await t.test('three managers: killing the leader\'s berthd lets service writes resume within 2 s', async () => {
    await ok(h1, 'node', 'promote', h2.hostname, h3.hostname)
    await eventually(async () => {
      const s = await swarmInfo(h1)
      return s.Managers === 3 && (await swarmInfo(h2)).ControlAvailable && (await swarmInfo(h3)).ControlAvailable
    }, 60_000, 'three managers')
    const leader = (await ok(h2, 'node', 'ls', '--filter', 'role=manager', '--format', '{{.Hostname}} {{.ManagerStatus}}')).split('\n').find((l) => l.endsWith('Leader'))?.split(' ')[0]
    assert.equal(leader, h1.hostname)
    const t0 = Date.now()
    await h1.kill()
    let tries = 0
    await eventually(async () => {
      tries++
      const r = await h2.docker('service', 'create', '--detach', '--no-resolve-image', '--name', 'after', '--replicas', '2', 'busybox', 'sleep', '3600')
      if (r.code !== 0 && /already exists/.test(r.stderr)) return true
      return r.code === 0
    }, 20_000, 'service create on host 2')
    const created = Date.now() - t0
    await ok(h2, 'service', 'update', '--detach', '--env-add', 'Y=1', 'after')
    const updated = Date.now() - t0
    await eventually(async () => runningOf(await tasksOf(h2, 'after')).length === 2, 30_000, 'after 2/2')
    const converged = Date.now() - t0
    const newLeader = (await ok(h2, 'node', 'ls', '--filter', 'role=manager', '--format', '{{.Hostname}} {{.ManagerStatus}}')).split('\n').find((l) => l.endsWith('Leader'))?.split(' ')[0]
    t.diagnostic(`leader (host 1) killed: service create on host 2 succeeded after ${created} ms (${tries} tries), update after ${updated} ms, the new service 2/2 after ${converged} ms; new leader ${newLeader}`)
    if (TIMING) assert.ok(created <= 2000, `service create resumed after ${created} ms (issue: within 2 s)`)
    assert.ok(newLeader && newLeader !== h1.hostname)
  })
})
