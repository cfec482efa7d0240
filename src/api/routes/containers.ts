import { constants } from 'node:fs'
import { open } from 'node:fs/promises'
import type { Daemon } from '../../daemon/daemon.js'
import { Filters, parseTimestamp } from '../../engine/filters.js'
import { readLogFrames } from '../../engine/containers/logs.js'
import { top } from '../../engine/containers/top.js'
import type { ContainerRecord } from '../../engine/containers/types.js'
import { conflict, invalid, notImplemented } from '../../lib/errors.js'
import { boolParam, readJsonBody, versionAtLeast, type Ctx } from '../http.js'
import type { HijackCtx, Router } from '../router.js'
import { joinAttach, parseDetachKeys } from '../attach-stream.js'
import type { UpdateRequest } from '../../engine/containers/service.js'
import { fromWireCreate, healthOf, toWireInspect, toWireSummary } from '../wire-containers.js'

const PS_FILTERS = ['ancestor', 'before', 'expose', 'exited', 'health', 'id', 'isolation', 'is-task', 'label', 'name', 'network', 'publish', 'since', 'status', 'volume']
const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead']

export function containerRoutes(r: Router, d: Daemon): void {
  const svc = () => d.engine.containers

  r.add('GET', '/containers/json', async (ctx) => {
    const f = Filters.parse(ctx.query.get('filters'))
    f.validate(PS_FILTERS)
    for (const s of f.get('status')) if (!STATUSES.includes(s)) throw invalid('ERR_INVALID_FILTER', `invalid filter 'status=${s}'`)
    for (const h of f.get('health')) if (!['starting', 'healthy', 'unhealthy', 'none'].includes(h)) throw invalid('ERR_INVALID_FILTER', `Unrecognised filter value for health: ${h}`)
    const all = boolParam(ctx.query, 'all')
    const limit = Number(ctx.query.get('limit') ?? -1)
    // Newest first; ISO-8601 UTC times of equal length sort as strings, no Date parsing needed.
    let list = svc().store.all().sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : a.id < b.id ? 1 : -1))
    const before = f.get('before').map((x) => svc().resolve(x))
    const since = f.get('since').map((x) => svc().resolve(x))
    list = list.filter((c) => {
      const running = c.state.status === 'running' || c.state.status === 'paused' || c.state.status === 'restarting'
      if (!all && limit <= 0 && !f.has('status') && !f.has('exited') && !running) return false
      if (f.has('status') && !f.get('status').includes(c.state.status)) return false
      if (f.has('exited') && (c.state.status !== 'exited' || !f.get('exited').includes(String(c.state.exitCode)))) return false
      if (f.has('id') && !f.get('id').some((x) => c.id.startsWith(x))) return false
      if (f.has('name') && !f.get('name').some((x) => new RegExp(x.replace(/^\//, '')).test(c.name))) return false
      if (!f.matchLabels('label', c.config.labels)) return false
      if (f.has('ancestor') && !f.get('ancestor').some((a) => matchesAncestor(d, c, a))) return false
      if (before.some((b) => Date.parse(c.created) >= Date.parse(b.created))) return false
      if (since.some((s) => Date.parse(c.created) <= Date.parse(s.created))) return false
      if (f.has('network') && !f.get('network').some((n) => networksOf(c).includes(n))) return false
      if (f.has('publish') && !f.get('publish').some((p) => publishes(c, p))) return false
      if (f.has('expose') && !f.get('expose').some((p) => exposes(c, p))) return false
      if (f.has('health') && !f.get('health').includes(healthOf(c))) return false
      if (f.has('volume') && !f.get('volume').some((v) => c.mountPoints?.some((m) => m.name === v || m.destination === v || m.source === v))) return false
      return true
    })
    if (limit > 0) list = list.slice(0, limit)
    if (!boolParam(ctx.query, 'size')) return list.map(toWireSummary)
    return Promise.all(list.map(async (c) => {
      const { sizeRw, sizeRootFs } = await svc().sizes(c)
      return { ...toWireSummary(c), SizeRw: sizeRw, SizeRootFs: sizeRootFs }
    }))
  })

  r.add('POST', '/containers/create', async (ctx) => {
    const body = (await readJsonBody<Record<string, unknown>>(ctx.req)) ?? {}
    const { config, hostConfig, endpointsConfig } = fromWireCreate(body)
    const name = ctx.query.get('name') ?? ''
    const platform = ctx.query.get('platform')
    if (platform && !platform.startsWith('linux')) throw invalid('ERR_PLATFORM', `image with reference ${config.image} was found but does not match the specified platform: wanted ${platform}`)
    const out = await svc().create({ ...(name ? { name } : {}), config, hostConfig, ...(endpointsConfig ? { endpointsConfig } : {}) })
    ctx.res.writeHead(201, { 'Content-Type': 'application/json' })
    ctx.res.end(JSON.stringify({ Id: out.id, Warnings: out.warnings }))
  })

  r.add('GET', '/containers/{id}/json', async (ctx) => {
    const c = svc().resolve(ctx.params[0]!)
    const out = toWireInspect(c, ctx.version, d.engine.exec.idsOf(c.id))
    if (!boolParam(ctx.query, 'size')) return out
    const { sizeRw, sizeRootFs } = await svc().sizes(c)
    return { ...out, SizeRw: sizeRw, SizeRootFs: sizeRootFs }
  })

  r.add('POST', '/containers/{id}/start', async (ctx) => {
    if (ctx.query.get('checkpoint')) throw notImplemented('ERR_CHECKPOINT', 'checkpoints are not supported by berthd')
    const r = await svc().start(ctx.params[0]!, { signal: ctx.signal })
    if (r === 'already') { ctx.res.writeHead(304); ctx.res.end(); return }
  })

  r.add('POST', '/containers/{id}/stop', async (ctx) => {
    const t = ctx.query.get('t')
    const out = await svc().stop(ctx.params[0]!, { ...(t !== null && t !== '' ? { timeout: Number(t) } : {}), ...(ctx.query.get('signal') ? { signal: ctx.query.get('signal')! } : {}) })
    if (out === 'not-running') { ctx.res.writeHead(304); ctx.res.end() }
  })

  r.add('POST', '/containers/{id}/restart', async (ctx) => {
    const t = ctx.query.get('t')
    await svc().restart(ctx.params[0]!, { ...(t !== null && t !== '' ? { timeout: Number(t) } : {}), ...(ctx.query.get('signal') ? { signal: ctx.query.get('signal')! } : {}) })
  })

  r.add('POST', '/containers/{id}/kill', async (ctx) => {
    await svc().kill(ctx.params[0]!, ctx.query.get('signal') || 'SIGKILL')
  })

  r.add('POST', '/containers/{id}/pause', async (ctx) => { await svc().pause(ctx.params[0]!, true) })
  r.add('POST', '/containers/{id}/unpause', async (ctx) => { await svc().pause(ctx.params[0]!, false) })

  r.add('POST', '/containers/{id}/wait', async (ctx) => {
    const condition = ctx.query.get('condition') ?? 'not-running'
    const rec = svc().resolve(ctx.params[0]!)
    const waiting = svc().wait(rec.id, condition, ctx.signal)
    // Docker sends the headers at once, so clients know the wait is registered.
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' })
    ctx.res.flushHeaders()
    const out = await waiting
    ctx.res.end(JSON.stringify({ StatusCode: out.statusCode, ...(out.error ? { Error: { Message: out.error } } : {}) }))
  })

  r.add('DELETE', '/containers/{id}', async (ctx) => {
    if (boolParam(ctx.query, 'link')) throw notImplemented('ERR_LINKS', 'links are not implemented in this berthd yet')
    await svc().remove(ctx.params[0]!, { force: boolParam(ctx.query, 'force'), volumes: boolParam(ctx.query, 'v') })
  })

  r.add('POST', '/containers/{id}/rename', async (ctx) => {
    const name = ctx.query.get('name')
    if (!name) throw invalid('ERR_INVALID_NAME', 'Neither old nor new names may be empty')
    await svc().rename(ctx.params[0]!, name)
  })

  r.add('POST', '/containers/{id}/update', async (ctx) => {
    const b = (await readJsonBody<Record<string, unknown>>(ctx.req)) ?? {}
    const n = (k: string): number | undefined => {
      const v = b[k]
      if (v === undefined || v === null) return undefined
      if (typeof v !== 'number') throw invalid('ERR_INVALID_JSON', `json: cannot unmarshal ${typeof v} into Go struct field UpdateConfig.${k} of type int64`)
      return v
    }
    const s = (k: string): string | undefined => (typeof b[k] === 'string' && b[k] !== '' ? (b[k] as string) : undefined)
    const rp = b.RestartPolicy as { Name?: string; MaximumRetryCount?: number } | undefined
    if (rp && rp.Name !== undefined && !['', 'no', 'always', 'on-failure', 'unless-stopped'].includes(rp.Name)) throw invalid('ERR_RESTART_POLICY', `invalid restart policy '${rp.Name}'`)
    if (rp && rp.Name !== 'on-failure' && (rp.MaximumRetryCount ?? 0) !== 0) throw invalid('ERR_RESTART_POLICY', `invalid restart policy: maximum retry count can only be used with 'on-failure'`)
    const u: UpdateRequest = {}
    const set = <K extends keyof UpdateRequest>(k: K, v: UpdateRequest[K] | undefined) => { if (v !== undefined) u[k] = v }
    set('memory', n('Memory'))
    set('memorySwap', n('MemorySwap'))
    set('memoryReservation', n('MemoryReservation'))
    set('nanoCpus', n('NanoCpus'))
    set('cpuShares', n('CpuShares'))
    set('cpuQuota', n('CpuQuota'))
    set('cpuPeriod', n('CpuPeriod'))
    set('cpusetCpus', s('CpusetCpus'))
    set('cpusetMems', s('CpusetMems'))
    set('pidsLimit', n('PidsLimit'))
    set('blkioWeight', n('BlkioWeight'))
    if (rp && rp.Name !== undefined) u.restartPolicy = { name: rp.Name as NonNullable<UpdateRequest['restartPolicy']>['name'], maximumRetryCount: rp.MaximumRetryCount ?? 0 }
    if ((n('CpuRealtimePeriod') ?? 0) !== 0 || (n('CpuRealtimeRuntime') ?? 0) !== 0) throw invalid('ERR_RT', 'Your kernel does not support CPU real-time scheduler')
    const out = await svc().update(ctx.params[0]!, u)
    return { Warnings: out.warnings.length ? out.warnings : null }
  })

  r.add('POST', '/containers/{id}/resize', async (ctx) => {
    const rec = svc().resolve(ctx.params[0]!)
    if (rec.state.status !== 'running') throw conflict('ERR_NOT_RUNNING', `Container ${rec.id} is not running`)
    await resize(svc().controlPath(rec.id), Number(ctx.query.get('h') ?? 0), Number(ctx.query.get('w') ?? 0))
  })

  r.add('POST', '/containers/prune', async (ctx) => {
    const f = Filters.parse(ctx.query.get('filters'))
    f.validate(['label', 'label!', 'until'])
    const until = f.get('until').map((u) => parseTimestamp(u))
    const deleted: string[] = []
    for (const c of svc().store.all()) {
      if (c.state.status === 'running' || c.state.status === 'paused' || c.state.status === 'restarting') continue
      if (!f.matchLabels('label', c.config.labels)) continue
      if (until.some((u) => Date.parse(c.created) > u)) continue
      await svc().remove(c.id)
      deleted.push(c.id)
    }
    d.engine.events.emit('container', 'prune', '', { reclaimed: '0' })
    return { ContainersDeleted: deleted.length ? deleted : null, SpaceReclaimed: 0 }
  })

  r.add('GET', '/containers/{id}/top', async (ctx) => {
    const c = svc().resolve(ctx.params[0]!)
    const out = await top(`/berth/${c.id}`, c.state.status === 'running' || c.state.status === 'paused', c.id, ctx.query.get('ps_args') ?? '')
    return { Titles: out.titles, Processes: out.processes }
  })

  r.hijack('POST', '/containers/{id}/attach', (ctx) => attach(ctx, d))
}

/** The networks a container is on (names and IDs), or its mode when it is on none of them. */
function networksOf(c: ContainerRecord): string[] {
  const eps = c.network?.endpoints ?? []
  const out = eps.flatMap((e) => [e.networkName, e.networkId, e.networkId.slice(0, 12)])
  for (const k of Object.keys(c.endpointsConfig ?? {})) out.push(k)
  const mode = c.hostConfig.networkMode
  out.push(mode === 'default' ? 'bridge' : mode)
  return out
}

/** Whether a ps port filter (`80`, `80/tcp`, `8080-8090/udp`) takes a port of a protocol. */
function portFilterMatches(spec: string, port: number, proto: string): boolean {
  const [range = '', wanted] = spec.split('/')
  const [lo = NaN, hi = lo] = range.split('-').map(Number)
  return port >= lo && port <= hi && (!wanted || wanted === proto)
}

/** ps's publish filter, against the published host ports. */
function publishes(c: ContainerRecord, spec: string): boolean {
  return (c.network?.ports ?? []).some((p) => portFilterMatches(spec, p.hostPort, p.proto))
}

/** ps's expose filter, against the container's exposed ports. */
function exposes(c: ContainerRecord, spec: string): boolean {
  return Object.keys(c.config.exposedPorts).some((k) => {
    const [port = '', proto = 'tcp'] = k.split('/')
    return portFilterMatches(spec, Number(port), proto)
  })
}

function matchesAncestor(d: Daemon, c: ContainerRecord, ancestor: string): boolean {
  try {
    const img = d.engine.images.resolve(ancestor)
    return img.record.id === c.imageId
  } catch {
    return false
  }
}

export async function resize(ctlPath: string, h: number, w: number): Promise<void> {
  // conmon's control FIFO: "1 <height> <width>\n" resizes the terminal. Opened non-blocking:
  // a blocking open of a FIFO nobody reads (conmon gone) would hold a thread-pool thread forever
  // and starve every other file operation of the daemon.
  let fh
  try {
    fh = await open(ctlPath, constants.O_WRONLY | constants.O_NONBLOCK)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENXIO' || code === 'ENOENT') return // the monitor is gone: nothing to resize
    throw err
  }
  try {
    await fh.write(`1 ${h} ${w}\n`)
  } finally {
    await fh.close()
  }
}

async function attach(ctx: HijackCtx, d: Daemon): Promise<void> {
  const svc = d.engine.containers
  const rec = svc.resolve(ctx.params[0]!)
  const q = ctx.query
  const tty = rec.config.tty
  const detachKeys = parseDetachKeys(q.get('detachKeys') ?? 'ctrl-p,ctrl-q')
  ctx.upgrade(tty || !versionAtLeast({ version: ctx.version } as Ctx, '1.42') ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream')
  const client = ctx.socket
  const wantOut = boolParam(q, 'stdout')
  const wantErr = boolParam(q, 'stderr')
  if (boolParam(q, 'logs')) {
    if (rec.hostConfig.logConfig.type !== 'none') {
      for await (const b of readLogFrames(rec.logPath, { stdout: wantOut, stderr: wantErr, follow: false }, { raw: tty, timestamps: false })) {
        if (!client.write(b)) await new Promise<void>((resolve) => client.once('drain', resolve))
      }
    }
  }
  if (!boolParam(q, 'stream')) { client.end(); return }
  d.engine.events.emit('container', 'attach', rec.id, { ...rec.config.labels, image: rec.imageRef, name: rec.name })
  const joined = joinAttach({ client, head: ctx.head, tty, stdin: boolParam(q, 'stdin'), stdout: wantOut, stderr: wantErr, detachKeys, closeStdinOnEnd: rec.config.stdinOnce })
  // Before start, the monitor's socket does not exist yet: connect when it does.
  const unhook = svc.addAttachHook(rec.id, { connect: joined.connect })
  void joined.finished.then(unhook)
  if (rec.state.status === 'running' || rec.state.status === 'paused') {
    unhook()
    try {
      await joined.connect(svc.attachSocketPath(rec.id))
    } catch {
      joined.finish()
      return
    }
  }
  // When the container stops, the stream ends once the monitor closes its socket.
  void svc.wait(rec.id, 'next-exit').then(() => setTimeout(joined.finish, 50))
}
