import type { ContainerBackend, ContainerListFilters, ContainerUpdate, ContainerView, HostConfig } from '../backend.js'
import { Filters } from '../../lib/filters.js'
import { defined, parsePruneFilters } from '../filters.js'
import { invalid, notFound, notImplemented } from '../../lib/errors.js'
import { boolParam, readJsonBody, versionAtLeast } from '../http.js'
import type { Router } from '../router.js'
import { readUpgradeBody } from './exec.js'
import type { Duplex } from 'node:stream'
import { fromWireCreate, toWireInspect, toWireSummary } from '../wire-containers.js'

const PS_FILTERS = ['ancestor', 'before', 'expose', 'exited', 'health', 'id', 'isolation', 'is-task', 'label', 'name', 'network', 'publish', 'since', 'status', 'volume']
const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'] as const
const HEALTH = ['starting', 'healthy', 'unhealthy', 'none'] as const

/** ps's `filters`, checked with Docker's messages. */
export function parsePsFilters(raw: string | null): ContainerListFilters {
  const f = Filters.parse(raw).validate(PS_FILTERS)
  const status = f.opt('status')
  for (const s of status ?? []) if (!(STATUSES as readonly string[]).includes(s)) throw invalid('ERR_INVALID_FILTER', `invalid filter 'status=${s}'`)
  const health = f.opt('health')
  for (const h of health ?? []) if (!(HEALTH as readonly string[]).includes(h)) throw invalid('ERR_INVALID_FILTER', `Unrecognised filter value for health: ${h}`)
  const exited = f.opt('exited')?.map((v) => {
    if (!/^[+-]?\d+$/.test(v)) throw invalid('ERR_INVALID_FILTER', `strconv.Atoi: parsing ${JSON.stringify(v)}: invalid syntax`)
    return Number(v)
  })
  return defined({
    ancestor: f.opt('ancestor'), before: f.opt('before'), since: f.opt('since'),
    expose: f.opt('expose'), publish: f.opt('publish'), exited,
    health: health as ContainerListFilters['health'], id: f.opt('id'), label: f.opt('label'),
    name: f.opt('name'), network: f.opt('network'), status: status as ContainerListFilters['status'], volume: f.opt('volume'),
  })
}

const withSize = (v: ContainerView) => (v.size ? { ...toWireSummary(v.record), SizeRw: v.size.sizeRw, SizeRootFs: v.size.sizeRootFs } : toWireSummary(v.record))

const stopOpts = (q: URLSearchParams) => {
  const t = q.get('t')
  return { ...(t !== null && t !== '' ? { timeout: Number(t) } : {}), ...(q.get('signal') ? { signal: q.get('signal')! } : {}) }
}

/** The container lifecycle, list, prune, top, resize and attach. */
export function containerRoutes(r: Router, b: ContainerBackend): void {
  r.add('GET', '/containers/json', async (ctx) => {
    const filters = parsePsFilters(ctx.query.get('filters'))
    const list = await b.list({ all: boolParam(ctx.query, 'all'), limit: Number(ctx.query.get('limit') ?? -1), size: boolParam(ctx.query, 'size'), filters })
    return list.map(withSize)
  })

  r.add('POST', '/containers/create', async (ctx) => {
    const body = (await readJsonBody<Record<string, unknown>>(ctx.req)) ?? {}
    const { config, hostConfig, endpointsConfig } = fromWireCreate(body)
    const name = ctx.query.get('name') ?? ''
    const platform = ctx.query.get('platform')
    const out = await b.create({ ...(name ? { name } : {}), ...(platform ? { platform } : {}), config, hostConfig, ...(endpointsConfig ? { endpointsConfig } : {}) })
    ctx.res.writeHead(201, { 'Content-Type': 'application/json' })
    ctx.res.end(JSON.stringify({ Id: out.id, Warnings: out.warnings }))
  })

  r.add('GET', '/containers/{id}/json', async (ctx) => {
    const { container, execIds } = await b.inspect(ctx.params[0]!, { size: boolParam(ctx.query, 'size') })
    const out = toWireInspect(container.record, ctx.version, execIds)
    return container.size ? { ...out, SizeRw: container.size.sizeRw, SizeRootFs: container.size.sizeRootFs } : out
  })

  r.add('POST', '/containers/{id}/start', async (ctx) => {
    if (ctx.query.get('checkpoint')) throw notImplemented('ERR_CHECKPOINT', 'checkpoints are not supported by berthd')
    const done = await b.start(ctx.params[0]!, { signal: ctx.signal })
    if (done === 'already-running') { ctx.res.writeHead(304); ctx.res.end() }
  })

  r.add('POST', '/containers/{id}/stop', async (ctx) => {
    const out = await b.stop(ctx.params[0]!, stopOpts(ctx.query))
    if (out === 'not-running') { ctx.res.writeHead(304); ctx.res.end() }
  })

  r.add('POST', '/containers/{id}/restart', async (ctx) => { await b.restart(ctx.params[0]!, stopOpts(ctx.query)) })
  r.add('POST', '/containers/{id}/kill', async (ctx) => { await b.kill(ctx.params[0]!, ctx.query.get('signal') || 'SIGKILL') })
  r.add('POST', '/containers/{id}/pause', async (ctx) => { await b.pause(ctx.params[0]!) })
  r.add('POST', '/containers/{id}/unpause', async (ctx) => { await b.unpause(ctx.params[0]!) })

  r.add('POST', '/containers/{id}/wait', async (ctx) => {
    const { done } = await b.wait(ctx.params[0]!, { condition: ctx.query.get('condition') ?? 'not-running', signal: ctx.signal })
    // Docker sends the headers at once, so clients know the wait is registered.
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' })
    ctx.res.flushHeaders()
    const out = await done
    ctx.res.end(JSON.stringify({ StatusCode: out.statusCode, ...(out.error ? { Error: { Message: out.error } } : {}) }))
  })

  r.add('DELETE', '/containers/{id}', async (ctx) => {
    if (boolParam(ctx.query, 'link')) { await b.removeLink(ctx.params[0]!); return }
    await b.remove(ctx.params[0]!, { force: boolParam(ctx.query, 'force'), volumes: boolParam(ctx.query, 'v') })
  })

  // A link's name is `<container>/<alias>` (`docker rm --link /web/db`).
  r.add('DELETE', '/containers/{name*}', async (ctx) => {
    const name = ctx.params[0]!
    if (!boolParam(ctx.query, 'link')) throw notFound('ERR_CONTAINER_NOT_FOUND', `No such container: ${name}`)
    await b.removeLink(name)
  })

  r.add('POST', '/containers/{id}/rename', async (ctx) => {
    const name = ctx.query.get('name')
    if (!name) throw invalid('ERR_INVALID_NAME', 'Neither old nor new names may be empty')
    await b.rename(ctx.params[0]!, name)
  })

  r.add('POST', '/containers/{id}/update', async (ctx) => {
    const u = fromWireUpdate((await readJsonBody<Record<string, unknown>>(ctx.req)) ?? {})
    const out = await b.update(ctx.params[0]!, u)
    return { Warnings: out.warnings.length ? out.warnings : null }
  })

  // dockerd answers 200 with an empty body.
  r.add('POST', '/containers/{id}/resize', async (ctx) => {
    await b.resize(ctx.params[0]!, { height: Number(ctx.query.get('h') ?? 0), width: Number(ctx.query.get('w') ?? 0) })
    ctx.res.writeHead(200, { 'Content-Length': '0' })
    ctx.res.end()
  })

  r.add('POST', '/containers/prune', async (ctx) => {
    const out = await b.prune(parsePruneFilters(ctx.query.get('filters')))
    return { ContainersDeleted: out.deleted.length ? out.deleted : null, SpaceReclaimed: out.spaceReclaimed }
  })

  r.add('GET', '/containers/{id}/top', async (ctx) => {
    const out = await b.top(ctx.params[0]!, ctx.query.get('ps_args') ?? '')
    return { Titles: out.titles, Processes: out.processes }
  })

  const attachQuery = (q: URLSearchParams, stdin: boolean) => ({
    stdin, stdout: boolParam(q, 'stdout'), stderr: boolParam(q, 'stderr'),
    logs: boolParam(q, 'logs'), stream: boolParam(q, 'stream'), detachKeys: q.get('detachKeys') ?? 'ctrl-p,ctrl-q',
  })

  r.hijack('POST', '/containers/{id}/attach', async (ctx) => {
    // The options are in the query; a body some clients send too (dockerode: the options as
    // JSON) is the request's, not the container's input.
    const { rest } = await readUpgradeBody(ctx, { parse: false })
    const session = await b.attach(ctx.params[0]!, attachQuery(ctx.query, boolParam(ctx.query, 'stdin')))
    const multiplexed = !session.tty && versionAtLeast(ctx, '1.42')
    ctx.upgrade(multiplexed ? 'application/vnd.docker.multiplexed-stream' : 'application/vnd.docker.raw-stream')
    await session.run(ctx.socket, rest)
  })

  // Without `Upgrade: tcp` dockerd still serves the attach: a 200 answer labelled a raw stream
  // whose body is the output (framed unless the container has a TTY). Input needs the upgrade.
  r.add('POST', '/containers/{id}/attach', async (ctx) => {
    await readJsonBody<unknown>(ctx.req).catch(() => undefined)
    const session = await b.attach(ctx.params[0]!, attachQuery(ctx.query, false))
    ctx.res.writeHead(200, { 'Content-Type': 'application/vnd.docker.raw-stream' })
    ctx.res.flushHeaders()
    const { res } = ctx
    const done = new Promise<void>((resolve) => { res.once('finish', resolve); res.once('close', resolve) })
    await session.run(res as unknown as Duplex, Buffer.alloc(0))
    // The stream ends when the container's does (or the client goes): not when joined.
    if (!res.writableEnded) await done
  })
}

/** POST /containers/{id}/update's body. */
export function fromWireUpdate(b: Record<string, unknown>): ContainerUpdate {
  const n = (k: string): number | undefined => {
    const v = b[k]
    if (v === undefined || v === null) return undefined
    if (typeof v !== 'number') throw invalid('ERR_INVALID_JSON', `json: cannot unmarshal ${typeof v} into Go struct field UpdateConfig.${k} of type int64`)
    return v
  }
  const s = (k: string): string | undefined => (typeof b[k] === 'string' && b[k] !== '' ? (b[k] as string) : undefined)
  const rp = b.RestartPolicy as { Name?: string; MaximumRetryCount?: number } | undefined
  // The policy is passed through as asked: the engine's validateRestartPolicy is the one check.
  if ((n('CpuRealtimePeriod') ?? 0) !== 0 || (n('CpuRealtimeRuntime') ?? 0) !== 0) throw invalid('ERR_RT', 'Your kernel does not support CPU real-time scheduler')
  return defined({
    memory: n('Memory'), memorySwap: n('MemorySwap'), memoryReservation: n('MemoryReservation'),
    nanoCpus: n('NanoCpus'), cpuShares: n('CpuShares'), cpuQuota: n('CpuQuota'), cpuPeriod: n('CpuPeriod'),
    cpusetCpus: s('CpusetCpus'), cpusetMems: s('CpusetMems'), pidsLimit: n('PidsLimit'), blkioWeight: n('BlkioWeight'),
    restartPolicy: rp && rp.Name !== undefined ? { name: rp.Name as HostConfig['restartPolicy']['name'], maximumRetryCount: rp.MaximumRetryCount ?? 0 } : undefined,
  })
}
