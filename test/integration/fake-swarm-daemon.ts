/**
 * A canned Engine API for the swarm commands (test only): a unix-socket HTTP server answering
 * /info, /nodes, /services, /tasks, /secrets, /configs, /networks and /swarm from fixed JSON in
 * Docker's wire shapes, and recording every request (method, path, query, body). The same
 * answers go to the real docker CLI and to berth, so their output and their request bodies can
 * be compared byte for byte without a daemon in swarm mode.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

export interface Recorded { method: string; path: string; query: Record<string, string>; body: unknown }

/** RFC 3339 with Go's fraction (trailing zeros dropped), as dockerd sends times. */
let NOW = Date.now()
const ago = (ms: number) => new Date(NOW - ms).toISOString().replace(/\.?0+Z$/, 'Z')
const H = 3600_000

export function cannedSwarm(now = Date.now()): { nodes: Json[]; services: Json[]; tasks: Json[]; secrets: Json[]; configs: Json[]; networks: Json[]; swarm: Json; info: Json } {
  NOW = now
  const self = 'abcdefghijklmnopqrstuvwxy'
  const other = 'zyxwvutsrqponmlkjihgfedcb'
  const nodes = [
    {
      ID: self, Version: { Index: 9 }, CreatedAt: ago(5 * H), UpdatedAt: ago(4 * H),
      Spec: { Labels: { zone: 'a', empty: '' }, Role: 'manager', Availability: 'active' },
      Description: {
        Hostname: 'node-1', Platform: { Architecture: 'x86_64', OS: 'linux' },
        Resources: { NanoCPUs: 4000000000, MemoryBytes: 8254009344 },
        Engine: { EngineVersion: '28.2.2', Labels: { foo: 'bar' }, Plugins: [{ Type: 'Network', Name: 'bridge' }, { Type: 'Network', Name: 'overlay' }, { Type: 'Volume', Name: 'local' }] },
        TLSInfo: { TrustRoot: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', CertIssuerSubject: 'MBMxETAPBgNVBAMTCHN3YXJtLWNh', CertIssuerPublicKey: 'MFkwEwYHKoZIzj0CAQY=' },
      },
      Status: { State: 'ready', Addr: '10.0.0.1' },
      ManagerStatus: { Leader: true, Reachability: 'reachable', Addr: '10.0.0.1:2377' },
    },
    {
      ID: other, Version: { Index: 12 }, CreatedAt: ago(3 * H), UpdatedAt: ago(2 * H),
      Spec: { Role: 'worker', Availability: 'drain' },
      Description: { Hostname: 'node-10', Platform: { Architecture: 'aarch64', OS: 'linux' }, Resources: { NanoCPUs: 2000000000, MemoryBytes: 2147483648 }, Engine: { EngineVersion: '28.1.0' } },
      Status: { State: 'down', Message: 'heartbeat failure', Addr: '10.0.0.2' },
    },
  ]
  const web = {
    ID: 'svcweb0000000000000000001', Version: { Index: 20 }, CreatedAt: ago(2 * H), UpdatedAt: ago(H),
    Spec: {
      Name: 'web', Labels: { app: 'shop', 'com.docker.stack.namespace': 'shop' },
      TaskTemplate: {
        ContainerSpec: {
          Image: 'nginx:1.27@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', Args: ['nginx', '-g', 'daemon off;'], Env: ['A=1', 'B=2'], Dir: '/srv', User: 'www',
          Init: true, Mounts: [{ Type: 'volume', Source: 'data', Target: '/data' }], StopGracePeriod: 10000000000,
          Secrets: [{ File: { Name: 'db_pw', UID: '0', GID: '0', Mode: 292 }, SecretID: 'sec1', SecretName: 'db_pw' }],
          Healthcheck: { Test: ['CMD-SHELL', 'curl -f localhost'], Interval: 30000000000, Timeout: 5000000000, Retries: 3 },
          CapabilityAdd: ['CAP_NET_ADMIN'],
        },
        Resources: { Limits: { NanoCPUs: 500000000, MemoryBytes: 268435456 }, Reservations: { MemoryBytes: 134217728 } },
        RestartPolicy: { Condition: 'any', Delay: 5000000000, MaxAttempts: 0 },
        Placement: { Constraints: ['node.role==worker'], Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.zone' } }] },
        Networks: [{ Target: 'net1' }],
        ForceUpdate: 0,
      },
      Mode: { Replicated: { Replicas: 3 } },
      UpdateConfig: { Parallelism: 2, Delay: 10000000000, FailureAction: 'pause', Monitor: 5000000000, MaxFailureRatio: 0, Order: 'stop-first' },
      EndpointSpec: { Mode: 'vip', Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' }] },
    },
    Endpoint: {
      Spec: { Mode: 'vip' },
      Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' }, { Protocol: 'tcp', TargetPort: 81, PublishedPort: 8081, PublishMode: 'ingress' }, { Protocol: 'udp', TargetPort: 53, PublishedPort: 53, PublishMode: 'ingress' }],
      VirtualIPs: [{ NetworkID: 'net1', Addr: '10.0.1.2/24' }],
    },
    UpdateStatus: { State: 'completed', StartedAt: ago(2 * H), CompletedAt: ago(H), Message: 'update completed' },
  }
  const agent = {
    ID: 'svcagent00000000000000002', Version: { Index: 22 }, CreatedAt: ago(2 * H), UpdatedAt: ago(2 * H),
    Spec: { Name: 'agent', Labels: {}, TaskTemplate: { ContainerSpec: { Image: 'busybox:latest' }, Placement: {}, ForceUpdate: 0 }, Mode: { Global: {} }, EndpointSpec: { Mode: 'dnsrr' } },
    Endpoint: { Spec: { Mode: 'dnsrr' } },
  }
  const task = (id: string, svc: Json, slot: number, node: string, state: string, desired: string, age: number, extra: Json = {}) => ({
    ID: id, Version: { Index: 30 }, CreatedAt: ago(age), UpdatedAt: ago(age - 1000),
    Spec: { ContainerSpec: { Image: svc.Spec.TaskTemplate.ContainerSpec.Image } },
    ServiceID: svc.ID, ...(slot ? { Slot: slot } : {}), NodeID: node,
    Status: { Timestamp: ago(age - 2000), State: state, Message: state, ...extra },
    DesiredState: desired,
  })
  const tasks = [
    task('task1aaaaaaaaaaaaaaaaaaaa', web, 1, self, 'running', 'running', 3 * H, { PortStatus: {} }),
    task('task2aaaaaaaaaaaaaaaaaaaa', web, 2, other, 'running', 'running', 3 * H),
    task('task2bbbbbbbbbbbbbbbbbbbb', web, 2, other, 'failed', 'shutdown', 4 * H, { Err: 'task: non-zero exit (1): the process failed badly and wrote a long message' }),
    task('task10aaaaaaaaaaaaaaaaaaa', web, 10, self, 'running', 'running', 3 * H),
    task('taskglobaaaaaaaaaaaaaaaaa', agent, 0, self, 'running', 'running', 3 * H, { PortStatus: { Ports: [{ Protocol: 'tcp', TargetPort: 9100, PublishedPort: 9100, PublishMode: 'host' }] } }),
  ]
  const secrets = [
    { ID: 'sec1', Version: { Index: 5 }, CreatedAt: ago(5 * H), UpdatedAt: ago(5 * H), Spec: { Name: 'db_pw', Labels: { env: 'prod' } } },
    { ID: 'sec2', Version: { Index: 6 }, CreatedAt: ago(26 * H), UpdatedAt: ago(25 * H), Spec: { Name: 'api_key', Labels: {}, Driver: { Name: 'vault' } } },
  ]
  const configs = [
    { ID: 'cfg1', Version: { Index: 7 }, CreatedAt: ago(5 * H), UpdatedAt: ago(5 * H), Spec: { Name: 'nginx.conf', Labels: { a: 'b' }, Data: Buffer.from('server {}\n').toString('base64') } },
  ]
  const networks = [{ Name: 'frontend', Id: 'net1', Scope: 'swarm', Driver: 'overlay' }]
  const swarm = {
    ID: 'swarmid', Version: { Index: 10 }, CreatedAt: ago(5 * H), UpdatedAt: ago(H),
    Spec: { Name: 'default', Labels: {}, Orchestration: { TaskHistoryRetentionLimit: 5 }, Raft: { SnapshotInterval: 10000, KeepOldSnapshots: 0, LogEntriesForSlowFollowers: 500, ElectionTick: 10, HeartbeatTick: 1 }, Dispatcher: { HeartbeatPeriod: 5000000000 }, CAConfig: { NodeCertExpiry: 7776000000000000 }, TaskDefaults: {}, EncryptionConfig: { AutoLockManagers: false } },
    TLSInfo: nodes[0]!.Description.TLSInfo,
    RootRotationInProgress: false,
    DefaultAddrPool: ['10.0.0.0/8'], SubnetSize: 24, DataPathPort: 4789,
    JoinTokens: { Worker: 'SWMTKN-1-worker', Manager: 'SWMTKN-1-manager' },
  }
  const info = { ID: 'x', Name: 'node-1', ServerVersion: '28.2.2', OSType: 'linux', Swarm: { NodeID: self, NodeAddr: '10.0.0.1', LocalNodeState: 'active', ControlAvailable: true, Error: '', RemoteManagers: [{ NodeID: self, Addr: '10.0.0.1:2377' }], Nodes: 2, Managers: 1, Cluster: { ID: 'swarmid', TLSInfo: nodes[0]!.Description.TLSInfo } } }
  return { nodes, services: [web, agent], tasks, secrets, configs, networks, swarm: { ...swarm, ClusterInfo: { ...swarm, TLSInfo: swarm.TLSInfo } }, info }
}

export interface FakeDaemon { socket: string; host: string; requests: Recorded[]; close(): Promise<void> }

function matchesFilters(o: Json, filters: Record<string, string[]>, kind: string): boolean {
  for (const [k, vals] of Object.entries(filters)) {
    if (k.startsWith('_')) continue
    const ok = vals.some((v) => {
      switch (k) {
        case 'id': return String(o.ID ?? o.Id).startsWith(v)
        case 'name': return kind === 'networks' ? o.Name === v : String(o.Spec?.Name ?? '').startsWith(v)
        case 'service': return o.ServiceID === v
        case 'node': return o.NodeID === v
        case 'label': {
          const [lk, lv] = v.split('=')
          const labels = (o.Spec?.Labels ?? o.Labels ?? {}) as Record<string, string>
          return lv === undefined ? lk! in labels : labels[lk!] === lv
        }
        case 'desired-state': return o.DesiredState === v
        default: return true
      }
    })
    if (!ok) return false
  }
  return true
}

/** Start the canned daemon; `overrides` can replace answers per "METHOD path". */
export async function startFakeDaemon(overrides: Record<string, (req: Recorded) => { status: number; body: unknown }> = {}, now = Date.now()): Promise<FakeDaemon> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-fake-swarm-'))
  const socket = join(dir, 'docker.sock')
  const data = cannedSwarm(now)
  const requests: Recorded[] = []
  let created = 0
  const read = (req: IncomingMessage) => new Promise<string>((res) => { let s = ''; req.on('data', (c) => (s += c)); req.on('end', () => res(s)) })
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const path = url.pathname.replace(/^\/v[\d.]+/, '')
    const query = Object.fromEntries(url.searchParams)
    const raw = await read(req)
    let body: unknown = raw
    try { body = raw ? JSON.parse(raw) : undefined } catch { /* not JSON */ }
    const rec = { method: req.method ?? 'GET', path, query, body }
    if (path !== '/_ping') requests.push(rec)
    const send = (status: number, b: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json', 'Api-Version': '1.50', 'Ostype': 'linux', 'Docker-Experimental': 'false', 'Swarm': 'active/manager' })
      res.end(b === undefined ? '' : typeof b === 'string' && status === 200 ? JSON.stringify(b) : JSON.stringify(b))
    }
    const key = `${rec.method} ${path}`
    for (const [pattern, fn] of Object.entries(overrides)) {
      if (new RegExp(`^${pattern}$`).test(key)) { const r = fn(rec); send(r.status, r.body); return }
    }
    if (path === '/_ping') { res.writeHead(200, { 'Api-Version': '1.50', 'Ostype': 'linux', 'Swarm': 'active/manager', 'Content-Type': 'text/plain' }); res.end('OK'); return }
    if (path === '/version') { send(200, { Version: '28.2.2', ApiVersion: '1.50', MinAPIVersion: '1.24', Os: 'linux', Arch: 'amd64' }); return }
    if (path === '/info') { send(200, data.info); return }
    if (path === '/swarm' && rec.method === 'GET') { send(200, data.swarm); return }
    if (path === '/swarm/init' && rec.method === 'POST') { send(200, data.info.Swarm.NodeID); return }
    if (path === '/swarm/unlockkey') { send(200, { UnlockKey: 'SWMKEY-1-secret' }); return }
    if (/^\/swarm\/(join|leave|update|unlock)$/.test(path) && rec.method === 'POST') { res.writeHead(200); res.end(); return }
    const filters: Record<string, string[]> = query.filters ? (() => { const f = JSON.parse(query.filters) as Record<string, string[] | Record<string, boolean>>; return Object.fromEntries(Object.entries(f).map(([k, v]) => [k, Array.isArray(v) ? v : Object.keys(v)])) })() : {}
    const logs = /^\/(services|tasks)\/([^/]+)\/logs$/.exec(path)
    if (logs && rec.method === 'GET') {
      // swarm logs: one stdcopy frame per line, the line's details (node, service, task) first when asked
      const web = data.services[0]!
      const frames: Buffer[] = []
      const line = (stream: number, task: Json, msg: string, i: number) => {
        let text = query.details === '1' || query.details === 'true' ? `com.docker.swarm.node.id=${task.NodeID},com.docker.swarm.service.id=${task.ServiceID},com.docker.swarm.task.id=${task.ID},extra=a%20b ${msg}\n` : `${msg}\n`
        if (query.timestamps === '1' || query.timestamps === 'true') text = `${new Date(NOW - 60_000 + i * 1000).toISOString().replace('Z', '000000Z')} ${text}`
        const payload = Buffer.from(text)
        const head = Buffer.alloc(8)
        head[0] = stream
        head.writeUInt32BE(payload.length, 4)
        frames.push(head, payload)
      }
      const tasks = data.tasks.filter((t) => t.ServiceID === web.ID && t.DesiredState === 'running')
      tasks.forEach((t, i) => line(1, t, `hello from ${t.Slot}`, i))
      line(2, tasks[0]!, 'an error line', 9)
      res.writeHead(200, { 'Content-Type': 'application/vnd.docker.multiplexed-stream', 'Api-Version': '1.50' })
      res.end(Buffer.concat(frames))
      return
    }
    const m = /^\/(nodes|services|tasks|secrets|configs|networks)(?:\/([^/]+))?$/.exec(path)
    if (m && rec.method === 'GET') {
      const kind = m[1]!
      const list = (data as unknown as Record<string, Json[]>)[kind]!
      if (!m[2]) { send(200, list.filter((o) => matchesFilters(o, filters, kind))); return }
      const ref = decodeURIComponent(m[2])
      const hit = list.find((o) => o.ID === ref || o.Id === ref || o.Spec?.Name === ref || o.Name === ref || (kind === 'nodes' && o.Description?.Hostname === ref)) ?? list.filter((o) => String(o.ID ?? o.Id).startsWith(ref))[0]
      if (!hit) { send(404, { message: `${kind === 'services' ? 'service' : kind.slice(0, -1)} ${ref} not found` }); return }
      send(200, hit)
      return
    }
    if (rec.method === 'POST' && /\/create$/.test(path)) {
      // created objects are listed afterwards (per daemon; each CLI run gets a fresh daemon in tests that need it)
      const kind = path.split('/')[1]!
      const b = (body ?? {}) as Json
      const id = `new${kind.slice(0, 3)}${String(created++).padStart(19, '0')}`
      const list = (data as unknown as Record<string, Json[]>)[kind]
      if (list && kind !== 'services') list.push(kind === 'networks' ? { ...b, Id: id, Scope: 'swarm' } : { ID: id, Version: { Index: 1 }, Spec: b })
      send(201, { ID: id, Id: id, Warnings: null })
      return
    }
    if (rec.method === 'POST' && /\/update$/.test(path)) { send(200, path.startsWith('/services') ? { Warnings: null } : undefined); return }
    if (rec.method === 'DELETE') { res.writeHead(200); res.end(); return }
    send(404, { message: `page not found: ${path}` })
  })
  await new Promise<void>((r) => server.listen(socket, r))
  return {
    socket, host: `unix://${socket}`, requests,
    async close() {
      await new Promise<void>((r) => server.close(() => r()))
      await rm(dir, { recursive: true, force: true })
    },
  }
}
