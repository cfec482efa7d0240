import { spawn, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { existsSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'node:http'
import { BERTHD, runCmd, type RunResult } from './harness.js'

/**
 * N "hosts" on this machine for swarm tests: one network namespace each, all on one bridge in
 * the root namespace (a private /24 that no route of this machine uses), each running its own
 * berthd (own data root, exec root and UTS namespace with its own hostname; its unix socket
 * in the root namespace's filesystem). Teardown kills only the processes this lab started —
 * each berthd and the etcd members those berthd's started (by the PID files in their data
 * roots) — and deletes the namespaces, the bridge and its one iptables rule.
 */

export interface SwarmHost {
  index: number
  hostname: string
  ns: string
  /** This host's address on the lab bridge. */
  ip: string
  root: string
  dataRoot: string
  execRoot: string
  socket: string
  /** unix://<socket>, for DOCKER_HOST / -H. */
  host: string
  proc: ChildProcess | undefined
  log(): string
  /** The docker CLI against this host's berthd. */
  docker(...args: string[]): Promise<RunResult>
  /** Raw API call. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; json: () => unknown; text: string }>
  /** SIGTERM berthd and wait. */
  stop(): Promise<void>
  /** SIGKILL berthd (a crash; its etcd keeps running). */
  kill(): Promise<void>
  /** SIGKILL this host's etcd member, if it runs one. */
  killEtcd(): Promise<boolean>
  /** Start berthd again on the same roots. */
  start(): Promise<void>
}

export interface SwarmLab {
  hosts: SwarmHost[]
  bridge: string
  subnet: string
  cleanup(): Promise<void>
}

async function sh(cmd: string, args: string[]): Promise<RunResult> {
  const r = await runCmd(cmd, args, { timeoutMs: 30_000 })
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`)
  return r
}

/** Why this machine cannot run the lab (for t.skip), or false. */
export function swarmLabSkip(): string | false {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)'
  if (!existsSync('/usr/bin/etcd') && !process.env.BERTH_ETCD) return 'etcd is not installed (apt-get install etcd-server)'
  if (!existsSync('/usr/bin/nsenter') || !existsSync('/usr/bin/unshare')) return 'util-linux nsenter/unshare are not installed'
  for (const bin of ['/usr/sbin/ip', '/bin/ip', '/usr/bin/ip']) if (existsSync(bin)) return false
  return 'iproute2 is not installed'
}

async function freeSubnet(): Promise<number> {
  const routes = (await sh('ip', ['-4', 'route', 'show', 'table', 'all'])).stdout + (await sh('ip', ['-4', 'addr'])).stdout
  for (let i = 0; i < 50; i++) {
    const x = 1 + Math.floor(Math.random() * 250)
    if (!routes.includes(`10.199.${x}.`)) return x
  }
  throw new Error('no free 10.199.x.0/24 subnet')
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')
  } catch {
    return false
  }
}

/** The etcd this data root's berthd started, if it still runs (checked by its command line). */
function etcdPidOf(dataRoot: string): number | undefined {
  const dir = join(dataRoot, 'swarm', 'etcd')
  try {
    const pid = Number(readFileSync(join(dir, 'etcd.pid'), 'utf8').trim())
    if (!pid) return undefined
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    return cmd.includes(`--data-dir=${join(dir, 'member-data')}`) && pidAlive(pid) ? pid : undefined
  } catch {
    return undefined
  }
}

async function killPid(pid: number, sig: NodeJS.Signals): Promise<void> {
  try {
    process.kill(pid, sig)
  } catch {
    return
  }
  const deadline = Date.now() + 10_000
  while (pidAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25))
  if (pidAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // gone
    }
  }
}

function ping(socket: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, path: '/_ping', method: 'GET' }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('error', reject)
    req.end()
  })
}

export async function startSwarmLab(n: number): Promise<SwarmLab> {
  const tag = randomBytes(3).toString('hex')
  const x = await freeSubnet()
  const subnet = `10.199.${x}.0/24`
  const bridge = `bsw${tag}`
  const root = await mkdtemp(join(tmpdir(), 'berth-swarm-'))
  const hosts: SwarmHost[] = []
  const done: Array<() => Promise<unknown>> = []
  let forwardRule = false

  const cleanup = async () => {
    for (const h of hosts) {
      // Containers (task containers too) outlive berthd by design: remove them while it answers
      // (a host whose berthd a test killed is started again for that).
      if (h.proc && (h.proc.exitCode !== null || h.proc.signalCode !== null)) await h.start().catch(() => undefined)
      if (h.proc && h.proc.exitCode === null && h.proc.signalCode === null) {
        try {
          const list = (await h.api('GET', '/containers/json?all=1')).json() as Array<{ Id: string }>
          for (const c of list) await h.api('DELETE', `/containers/${c.Id}?force=1`)
        } catch {
          // not answering: its mounts are unmounted below
        }
      }
      await h.stop().catch(() => undefined)
      const etcd = etcdPidOf(h.dataRoot)
      if (etcd) await killPid(etcd, 'SIGTERM')
    }
    // berthd leaves its namespaces (containers', overlays') behind by design: this lab's go
    // (named after each berthd's tag, sha256 of its data root, as the network service names them).
    const tags = hosts.map((h) => createHash('sha256').update(h.dataRoot).digest('hex').slice(0, 6))
    const all = (await runCmd('ip', ['netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0] ?? '')
    for (const ns of all) if (tags.some((t) => ns.startsWith(`ov-${t}-`) || ns.startsWith(`berth-${t}-`))) await runCmd('ip', ['netns', 'del', ns])
    // Whatever a berthd that could not come back left running: its containers' monitors (conmon,
    // with this lab's exec root on their command line) and the containers under them.
    for (const pid of (await runCmd('pgrep', ['-f', `conmon .*${root}/`])).stdout.split('\n').map(Number).filter(Boolean)) {
      const kids = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '')
      for (const k of kids.split(' ').map(Number).filter(Boolean)) await killPid(k, 'SIGKILL')
      await killPid(pid, 'SIGKILL')
    }
    // Containers outlive berthd by design: their mounts go before the files.
    const mounts = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').map((l) => l.split(' ')[4]).filter((m): m is string => !!m && m.startsWith(`${root}/`))
    for (const m of mounts.sort().reverse()) await runCmd('umount', ['-l', m])
    for (const f of done.reverse()) await f().catch(() => undefined)
    if (forwardRule) await runCmd('iptables', ['-D', 'FORWARD', '-i', bridge, '-o', bridge, '-j', 'ACCEPT'])
    await rm(root, { recursive: true, force: true })
  }

  try {
    await sh('ip', ['link', 'add', bridge, 'type', 'bridge'])
    done.push(() => sh('ip', ['link', 'del', bridge]))
    await sh('ip', ['addr', 'add', `10.199.${x}.254/24`, 'dev', bridge])
    await sh('ip', ['link', 'set', bridge, 'up'])
    // With br_netfilter, bridged frames cross the root namespace's FORWARD chain.
    await sh('iptables', ['-I', 'FORWARD', '-i', bridge, '-o', bridge, '-j', 'ACCEPT'])
    forwardRule = true
    for (let i = 1; i <= n; i++) {
      const ns = `bsw${tag}-${i}`
      const vh = `bsw${tag}h${i}`
      const vn = `bsw${tag}n${i}`
      await sh('ip', ['netns', 'add', ns])
      done.push(() => sh('ip', ['netns', 'del', ns]))
      await sh('ip', ['link', 'add', vh, 'type', 'veth', 'peer', 'name', vn])
      await sh('ip', ['link', 'set', vn, 'netns', ns])
      await sh('ip', ['link', 'set', vh, 'master', bridge, 'up'])
      const ip = `10.199.${x}.${i}`
      await sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up'])
      await sh('ip', ['-n', ns, 'link', 'set', vn, 'name', 'eth0'])
      await sh('ip', ['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0'])
      await sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up'])
      await sh('ip', ['-n', ns, 'route', 'add', 'default', 'via', `10.199.${x}.254`])
      hosts.push(makeHost(i, ns, ip, join(root, `host${i}`)))
    }
    for (const h of hosts) await h.start()
  } catch (err) {
    await cleanup()
    throw err
  }
  return { hosts, bridge, subnet, cleanup }
}

function makeHost(index: number, ns: string, ip: string, root: string): SwarmHost {
  let logText = ''
  const hostname = `swarm-host${index}`
  const h: SwarmHost = {
    index, hostname, ns, ip, root,
    dataRoot: join(root, 'data'),
    execRoot: join(root, 'exec'),
    socket: join(root, 'berth.sock'),
    host: `unix://${join(root, 'berth.sock')}`,
    proc: undefined,
    log: () => logText,
    docker: (...args) => runCmd('docker', ['-H', h.host, ...args], { timeoutMs: 90_000 }),
    api: (method, path, body) =>
      new Promise((resolve, reject) => {
        const payload = body === undefined ? undefined : JSON.stringify(body)
        const req = request({ socketPath: h.socket, path, method, headers: payload ? { 'Content-Type': 'application/json' } : {} }, (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString()
            resolve({ status: res.statusCode ?? 0, text, json: () => JSON.parse(text) })
          })
        })
        req.on('error', reject)
        req.end(payload)
      }),
    async stop() {
      const p = h.proc
      if (!p || p.exitCode !== null || p.signalCode !== null) return
      const exited = new Promise((r) => p.once('exit', r))
      p.kill('SIGTERM')
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))])
      if (p.exitCode === null && p.signalCode === null) {
        p.kill('SIGKILL')
        await exited
      }
    },
    async kill() {
      const p = h.proc
      if (!p || p.exitCode !== null || p.signalCode !== null) return
      const exited = new Promise((r) => p.once('exit', r))
      p.kill('SIGKILL')
      await exited
    },
    async killEtcd() {
      const pid = etcdPidOf(h.dataRoot)
      if (!pid) return false
      await killPid(pid, 'SIGKILL')
      return true
    },
    async start() {
      await h.stop()
      await writeFile(join(root, 'daemon.json'), '{}\n').catch(async () => {
        const { mkdir } = await import('node:fs/promises')
        await mkdir(root, { recursive: true })
        await writeFile(join(root, 'daemon.json'), '{}\n')
      })
      // nsenter --net (not `ip netns exec`, which remounts /sys without the cgroup hierarchies and
      // hides the daemon's mounts in a mount namespace of its own); a UTS namespace for the hostname.
      const args = [`--net=/run/netns/${ns}`, 'unshare', '--uts', 'sh', '-c', `hostname ${hostname} && exec "$0" "$@"`, process.execPath, BERTHD,
        '--data-root', h.dataRoot, '--exec-root', h.execRoot, '-H', h.host, '--config-file', join(root, 'daemon.json')]
      const p = spawn('nsenter', args, { stdio: ['ignore', 'ignore', 'pipe'] })
      h.proc = p
      p.stderr!.on('data', (b: Buffer) => (logText += b.toString()))
      const deadline = Date.now() + 20_000
      for (;;) {
        if (p.exitCode !== null) throw new Error(`berthd on ${hostname} exited with ${p.exitCode}: ${logText}`)
        if (await ping(h.socket).catch(() => 0) === 200) return
        if (Date.now() > deadline) throw new Error(`berthd on ${hostname} did not answer /_ping: ${logText}`)
        await new Promise((r) => setTimeout(r, 50))
      }
    },
  }
  return h
}

/** Poll `fn` until it returns a truthy value (or throw with the last value after `ms`). */
export async function eventually<T>(fn: () => Promise<T>, ms = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms
  let last: unknown
  for (;;) {
    try {
      const v = await fn()
      if (v) return v
      last = v
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${last instanceof Error ? last.message : JSON.stringify(last)}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

export interface WireSwarmInfo {
  NodeID: string
  NodeAddr: string
  LocalNodeState: string
  ControlAvailable: boolean
  Error: string
  RemoteManagers: { NodeID: string; Addr: string }[] | null
  Nodes?: number
  Managers?: number
  Cluster?: { ID: string; Spec: { EncryptionConfig: { AutoLockManagers: boolean } } }
}

export async function swarmInfo(h: SwarmHost): Promise<WireSwarmInfo> {
  const r = await h.api('GET', '/info')
  return (r.json() as { Swarm: WireSwarmInfo }).Swarm
}
