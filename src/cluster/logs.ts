import { request as httpsRequest } from 'node:https'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { TLSSocket, PeerCertificate } from 'node:tls'
import type { LogsOptions, LogStream, SwarmLogs } from '../api/backend.js'
import { codedError } from '../lib/error-codes.js'
import { EngineError } from '../lib/errors.js'
import { taskName } from './agent.js'
import { requireManager, type SwarmContext, type SwarmContextSource } from './context.js'
import type { Service, Task } from './types.js'

/** The engine's container log (the container backend's `logs`): chunks as the logs route sends them. */
export type LocalLogReader = (containerId: string, o: LogsOptions) => Promise<LogStream>

export interface ClusterLogsOptions {
  /** How often follow mode looks for new tasks of the service (ms). */
  pollMs?: number
  /** How long a node may take to answer a remote log request (ms, default 5000). */
  connectTimeoutMs?: number
  log?: (msg: string) => void
}

const CONTEXT_KEYS = ['com.docker.swarm.node.id', 'com.docker.swarm.service.id', 'com.docker.swarm.task.id']

/** Where the node-side handler is mounted on the swarm port. */
export const NODE_LOGS_PATH = '/berth/logs/'
const TTY_HEADER = 'x-berth-log-tty'

/** One log message of a task, parsed from a container's log read with timestamps and details. */
interface LogRecord {
  stream: number
  ts: string
  attrs: string
  msg: Buffer
}

interface Source {
  task: Task
  containerId: string
}

/** moby's lookup of a service or task (helpers.go): full ID, then name (case-insensitive), then a unique ID prefix. */
function resolveObject<T extends { id: string }>(all: T[], ref: string, what: 'service' | 'task', nameOf?: (o: T) => string): T {
  const byId = all.find((o) => o.id === ref)
  if (byId) return byId
  if (nameOf) {
    const byName = all.filter((o) => nameOf(o).toLowerCase() === ref.toLowerCase())
    if (byName.length === 1) return byName[0]!
    if (byName.length > 1) throw codedError('ERR_SWARM_AMBIGUOUS', `${what} ${ref} is ambiguous (${byName.length} matches found)`)
  }
  const byPrefix = ref ? all.filter((o) => o.id.startsWith(ref)) : []
  if (byPrefix.length === 1) return byPrefix[0]!
  if (byPrefix.length > 1) throw codedError('ERR_SWARM_AMBIGUOUS', `${what} ${ref} is ambiguous (${byPrefix.length} matches found)`)
  throw codedError(what === 'service' ? 'ERR_SWARM_SERVICE_NOT_FOUND' : 'ERR_SWARM_TASK_NOT_FOUND', `${what} ${ref} not found`)
}

/** Split a container log stream (stdcopy frames, or raw lines with a TTY) into records. */
async function* records(s: LogStream): AsyncGenerator<LogRecord> {
  let buf: Buffer = Buffer.alloc(0)
  const parse = (stream: number, payload: Buffer): LogRecord => {
    const sp = payload.indexOf(0x20)
    if (sp < 0) return { stream, ts: '', attrs: '', msg: payload }
    const ts = payload.subarray(0, sp).toString()
    const rest = payload.subarray(sp + 1)
    const sp2 = rest.indexOf(0x20)
    if (sp2 < 0) return { stream, ts, attrs: '', msg: rest }
    return { stream, ts, attrs: rest.subarray(0, sp2).toString(), msg: rest.subarray(sp2 + 1) }
  }
  for await (const chunk of s.chunks) {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk
    if (s.tty) {
      let nl: number
      while ((nl = buf.indexOf(0x0a)) >= 0) {
        yield parse(1, buf.subarray(0, nl + 1))
        buf = buf.subarray(nl + 1)
      }
    } else {
      while (buf.length >= 8) {
        const size = buf.readUInt32BE(4)
        if (buf.length < 8 + size) break
        yield parse(buf[0]!, buf.subarray(8, 8 + size))
        buf = buf.subarray(8 + size)
      }
    }
  }
  if (s.tty && buf.length) yield parse(1, buf)
}

function frame(tty: boolean, stream: number, payload: Buffer): Buffer {
  if (tty) return payload
  const h = Buffer.alloc(8)
  h[0] = stream
  h.writeUInt32BE(payload.length, 4)
  return Buffer.concat([h, payload])
}

/** A simple many-producers queue read as an async iterable. */
class Merge<T> {
  private items: T[] = []
  private wake: (() => void) | undefined
  private open = 0
  private done = false

  add(it: AsyncIterable<T>, onError: (e: Error) => void): void {
    this.open++
    void (async () => {
      try {
        for await (const v of it) this.push(v)
      } catch (err) {
        onError(err as Error)
      } finally {
        this.open--
        this.poke()
      }
    })()
  }

  push(v: T): void {
    this.items.push(v)
    this.poke()
  }

  /** No more producers will be added (the iteration ends once the open ones are done). */
  close(): void {
    this.done = true
    this.poke()
  }

  private poke(): void {
    const w = this.wake
    this.wake = undefined
    w?.()
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      while (this.items.length) yield this.items.shift()!
      if (this.done && this.open === 0) return
      await new Promise<void>((r) => (this.wake = r))
    }
  }
}

function queryOf(o: LogsOptions): string {
  const q = new URLSearchParams()
  q.set('stdout', o.stdout ? '1' : '0')
  q.set('stderr', o.stderr ? '1' : '0')
  q.set('follow', o.follow ? '1' : '0')
  q.set('timestamps', '1')
  q.set('details', '1')
  if (o.since) q.set('since', o.since)
  if (o.until) q.set('until', o.until)
  if (o.tail !== undefined) q.set('tail', String(o.tail))
  return q.toString()
}

/** The node ID of a swarm certificate (its CN) and whether it is a manager's (OU). */
function identityOf(cert: PeerCertificate | undefined): { nodeId: string; manager: boolean } | undefined {
  if (!cert || !cert.subject) return undefined
  const ou = cert.subject.OU as string | string[] | undefined
  const ous = Array.isArray(ou) ? ou : ou ? [ou] : []
  return { nodeId: String(cert.subject.CN ?? ''), manager: ous.includes('swarm-manager') }
}

/**
 * `docker service logs` and `docker service ps`'s task logs: the container logs of every task of
 * the service (ended ones too while their containers exist), local ones through the engine,
 * the others from their node's swarm port (`GET /berth/logs/<container>`, mTLS with the node
 * certificates). Every line gets dockerd's context details (`com.docker.swarm.node.id=…,
 * com.docker.swarm.service.id=…,com.docker.swarm.task.id=…` after the container's own
 * attributes) when `details` is asked — the docker CLI always asks, and prints them as
 * `<service>.<slot>.<task>@<node>    | line`. Without follow the lines of all tasks come in
 * time order (the tail counts per task); with follow they come as they are written, and tasks
 * that start later are followed too.
 */
export class ClusterLogs implements SwarmLogs {
  private readonly pollMs: number
  private readonly connectTimeoutMs: number

  constructor(private readonly ctx: SwarmContextSource, private readonly readLocal: LocalLogReader, private readonly opts: ClusterLogsOptions = {}) {
    this.pollMs = opts.pollMs ?? 1000
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 5000
  }

  async serviceLogs(idOrName: string, o: LogsOptions): Promise<LogStream> {
    const ctx = requireManager(this.ctx)
    const svc = resolveObject(await ctx.store.list('services'), idOrName, 'service', (s: Service) => s.spec.name)
    const tasksOf = async () => (await ctx.store.list('tasks')).filter((t) => t.serviceId === svc.id)
    return this.stream(ctx, svc.spec.taskTemplate.containerSpec.tty ?? false, await tasksOf(), o, o.follow ? tasksOf : undefined)
  }

  async taskLogs(id: string, o: LogsOptions): Promise<LogStream> {
    const ctx = requireManager(this.ctx)
    const task = resolveObject(await ctx.store.list('tasks'), id, 'task', (t: Task) => `${taskName(t)}.${t.id}`)
    return this.stream(ctx, task.spec.containerSpec.tty ?? false, [task], o, undefined)
  }

  private stream(ctx: SwarmContext, tty: boolean, tasks: Task[], o: LogsOptions, more: (() => Promise<Task[]>) | undefined): LogStream {
    const self = this
    const sourcesOf = (ts: Task[]): Source[] => ts.filter((t) => t.status.containerStatus?.containerId).map((t) => ({ task: t, containerId: t.status.containerStatus!.containerId }))
    const render = (src: Source, r: LogRecord): Buffer => {
      let head = ''
      if (o.timestamps && r.ts) head += `${r.ts} `
      if (o.details) {
        const own = r.attrs ? r.attrs.split(',').filter((kv) => !CONTEXT_KEYS.includes(decodeURIComponent(kv.split('=')[0] ?? ''))) : []
        const t = src.task
        head += [...own, `com.docker.swarm.node.id=${encodeURIComponent(t.nodeId)}`, `com.docker.swarm.service.id=${encodeURIComponent(t.serviceId)}`, `com.docker.swarm.task.id=${encodeURIComponent(t.id)}`].join(',') + ' '
      }
      return frame(tty, r.stream, head ? Buffer.concat([Buffer.from(head), r.msg]) : r.msg)
    }
    async function* chunks(): AsyncGenerator<Buffer> {
      const initial = sourcesOf(tasks)
      if (!o.follow) {
        const all: Array<{ src: Source; r: LogRecord; n: number }> = []
        let n = 0
        await Promise.all(initial.map(async (src) => {
          const s = await self.open(ctx, src, o)
          if (!s) return
          for await (const r of records(s)) all.push({ src, r, n: n++ })
        }))
        all.sort((a, b) => (a.r.ts < b.r.ts ? -1 : a.r.ts > b.r.ts ? 1 : a.n - b.n))
        for (const x of all) yield render(x.src, x.r)
        return
      }
      const merge = new Merge<Buffer>()
      const seen = new Set<string>()
      const follow = (src: Source, opts: LogsOptions) => {
        seen.add(src.containerId)
        merge.add((async function* () {
          const s = await self.open(ctx, src, opts)
          if (!s) return
          for await (const r of records(s)) yield render(src, r)
        })(), (e) => self.opts.log?.(`service logs of task ${src.task.id}: ${e.message}`))
      }
      for (const src of initial) follow(src, o)
      let timer: NodeJS.Timeout | undefined
      const stop = () => {
        clearTimeout(timer)
        merge.close()
      }
      if (o.signal.aborted) stop()
      o.signal.addEventListener('abort', stop, { once: true })
      if (more) {
        const look = async () => {
          try {
            for (const src of sourcesOf(await more())) if (!seen.has(src.containerId)) follow(src, withoutTail(o))
          } catch (err) {
            self.opts.log?.(`service logs: ${(err as Error).message}`)
          }
          if (!o.signal.aborted) timer = setTimeout(() => void look(), self.pollMs)
        }
        timer = setTimeout(() => void look(), self.pollMs)
      } else {
        merge.close()
      }
      try {
        for await (const b of merge) yield b
      } finally {
        clearTimeout(timer)
        o.signal.removeEventListener('abort', stop)
      }
    }
    return { tty, chunks: chunks() }
  }

  /** One task container's log (timestamps and details on, to be parsed), local or from its node; undefined when it cannot be read. */
  private async open(ctx: SwarmContext, src: Source, o: LogsOptions): Promise<LogStream | undefined> {
    const opts: LogsOptions = { ...o, timestamps: true, details: true }
    try {
      if (src.task.nodeId === ctx.nodeId) return await this.readLocal(src.containerId, opts)
      return await this.readRemote(ctx, src, opts)
    } catch (err) {
      // A container removed since, or a node that does not answer: its lines are missing, as with dockerd.
      if (!(err instanceof EngineError && err.kind === 'NotFound')) this.opts.log?.(`logs of task ${src.task.id}: ${(err as Error).message}`)
      return undefined
    }
  }

  private async readRemote(ctx: SwarmContext, src: Source, o: LogsOptions): Promise<LogStream | undefined> {
    const node = await ctx.store.find('nodes', src.task.nodeId)
    if (!node) return undefined
    const addr = swarmAddrOf(node.managerStatus?.addr, node.status.addr, ctx.swarmAddr)
    if (!addr) return undefined
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpsRequest({
        host: addr.host,
        port: addr.port,
        method: 'GET',
        path: `${NODE_LOGS_PATH}${encodeURIComponent(src.containerId)}?${queryOf(o)}`,
        ca: ctx.tls.caPem,
        cert: ctx.tls.certPem,
        key: ctx.tls.keyPem,
        // Node certificates name the node (CN = node ID), not an address.
        checkServerIdentity: (_host, cert) => (identityOf(cert)?.nodeId === src.task.nodeId ? undefined : new Error(`certificate of node ${String(cert.subject?.CN)} is not node ${src.task.nodeId}'s`)),
        signal: o.signal,
      }, (r) => {
        clearTimeout(timer)
        resolve(r)
      })
      // A node that does not answer (down, partitioned) must not hold the merged stream.
      const timer = setTimeout(() => req.destroy(new Error(`node ${src.task.nodeId} at ${addr.host}:${addr.port} did not answer`)), this.connectTimeoutMs)
      req.on('error', (e) => {
        clearTimeout(timer)
        reject(e)
      })
      req.end()
    })
    if (res.statusCode === 404) {
      res.resume()
      return undefined
    }
    if (res.statusCode !== 200) {
      let body = ''
      for await (const c of res) body += String(c)
      throw codedError('ERR_SWARM_LOGS_REMOTE', `node ${src.task.nodeId} answered ${res.statusCode}: ${body.trim()}`)
    }
    return { tty: res.headers[TTY_HEADER] === '1', chunks: res as AsyncIterable<Buffer> }
  }
}

/** A task that started after the follow began: all of its log. */
function withoutTail(o: LogsOptions): LogsOptions {
  const { tail: _tail, ...rest } = o
  return rest
}

function swarmAddrOf(managerAddr: string | undefined, ip: string, own: string): { host: string; port: number } | undefined {
  const split = (hp: string) => {
    const i = hp.lastIndexOf(':')
    return i < 0 ? undefined : { host: hp.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(hp.slice(i + 1)) }
  }
  if (managerAddr) return split(managerAddr)
  const port = split(own)?.port ?? 2377
  return ip ? { host: ip, port } : undefined
}

/**
 * The node side of remote task logs, mounted by the swarm port's server under `/berth/logs/`:
 * `GET /berth/logs/<container id>?stdout=&stderr=&follow=&timestamps=&details=&since=&until=&tail=`
 * answers the container's log stream as the engine reads it (stdcopy frames, raw with a TTY,
 * `X-Berth-Log-Tty: 1|0`). Only a manager's node certificate may ask (over mTLS).
 */
export function nodeLogsHandler(readLocal: LocalLogReader): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const fail = (status: number, message: string) => {
      if (!res.headersSent) {
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ message }))
      } else res.destroy()
    }
    const sock = req.socket as Partial<TLSSocket>
    if (typeof sock.getPeerCertificate === 'function') {
      const who = sock.authorized ? identityOf(sock.getPeerCertificate()) : undefined
      if (!who?.manager) return fail(403, 'a swarm manager certificate is required')
    }
    if (req.method !== 'GET') return fail(405, 'method not allowed')
    const url = new URL(req.url ?? '/', 'https://node')
    if (!url.pathname.startsWith(NODE_LOGS_PATH)) return fail(404, 'page not found')
    const id = decodeURIComponent(url.pathname.slice(NODE_LOGS_PATH.length))
    const q = url.searchParams
    const flag = (k: string) => q.get(k) === '1' || q.get(k) === 'true'
    const ac = new AbortController()
    res.on('close', () => ac.abort())
    const tail = q.get('tail')
    const opts: LogsOptions = {
      stdout: flag('stdout'), stderr: flag('stderr'), follow: flag('follow'), timestamps: flag('timestamps'), details: flag('details'),
      ...(q.get('since') ? { since: q.get('since')! } : {}),
      ...(q.get('until') ? { until: q.get('until')! } : {}),
      ...(tail !== null && tail !== '' && tail !== 'all' && Number.isFinite(Number(tail)) ? { tail: Number(tail) } : {}),
      signal: ac.signal,
    }
    void (async () => {
      let s: LogStream
      try {
        s = await readLocal(id, opts)
      } catch (err) {
        const kind = err instanceof EngineError ? err.kind : ''
        return fail(kind === 'NotFound' ? 404 : kind === 'InvalidArgument' ? 400 : 500, (err as Error).message)
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', [TTY_HEADER]: s.tty ? '1' : '0' })
      try {
        for await (const c of s.chunks) {
          if (!res.write(c)) await new Promise<void>((r) => { res.once('drain', r); res.once('close', r) })
          if (ac.signal.aborted) break
        }
        res.end()
      } catch {
        res.destroy()
      }
    })()
  }
}

