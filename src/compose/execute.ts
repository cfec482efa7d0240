import { posix } from 'node:path'
import { ApiError } from '../client/client.js'
import { isNotFound, type Docker } from '../client/sdk.js'
import type { ContainerInspect, ContainerSummary } from '../client/types.js'
import { EngineError, invalid } from '../lib/errors.js'
import { fileTar, packContext } from './build-context.js'
import { containerName, endpointFor, imageOf, L, networkCreateRequest, serviceHash, serviceNetworks, toCreateRequest, volumeCreateRequest } from './convert.js'
import type { ProjectModel, ServiceConfig } from './model.js'
import { nameOf, numberOf, observeProject, serviceOf, type Observed } from './observe.js'
import { planUp, withDependencies, type Action, type Plan, type UpPlanOptions } from './plan.js'
import type { Reporter } from './progress.js'

export interface UpOptions extends Omit<UpPlanOptions, 'images' | 'inspects'> {
  timeout?: number
  wait?: boolean
  waitTimeout?: number
  dryRun?: boolean
  quietPull?: boolean
}

/** Local image IDs of the images the services use (absent when not on the engine). */
export async function observeImages(docker: Docker, p: ProjectModel, services: string[]): Promise<Map<string, string | undefined>> {
  const refs = [...new Set(services.map((n) => imageOf(p, p.services[n]!)))]
  const out = new Map<string, string | undefined>()
  await Promise.all(refs.map(async (r) => {
    try {
      out.set(r, (await docker.images.inspect(r)).Id)
    } catch (err) {
      if (!isNotFound(err)) throw err
      out.set(r, undefined)
    }
  }))
  return out
}

/** Observe, plan. The containers whose hash changed are inspected to name what changed. */
export async function planProjectUp(docker: Docker, p: ProjectModel, o: UpOptions): Promise<{ plan: Plan; observed: Observed; images: Map<string, string | undefined> }> {
  const targets = withDependencies(p, o.services)
  const [observed, images] = await Promise.all([observeProject(docker, p.name), observeImages(docker, p, targets)])
  const inspects = new Map<string, ContainerInspect>()
  await Promise.all(observed.containers.filter((c) => p.services[serviceOf(c)] && c.Labels[L.hash] !== serviceHash(p.services[serviceOf(c)]!)).map(async (c) => {
    inspects.set(c.Id, await docker.containers.inspect(c.Id))
  }))
  return { plan: planUp(p, observed, { ...o, images, inspects }), observed, images }
}

/**
 * Execute `up`'s plan: networks and volumes, then images (pull/build), then every service as its
 * own task, started as soon as the conditions of its dependencies hold, so independent services
 * converge concurrently. A failure stops the dependants and is reported with what was created.
 */
export async function executeUp(docker: Docker, p: ProjectModel, plan: Plan, images: Map<string, string | undefined>, observed: Observed, o: UpOptions, reporter: Reporter): Promise<void> {
  const created: string[] = []
  const r: Reporter = {
    event(kind, name, status, done) { if (status === 'Created') created.push(`${kind.toLowerCase()} ${name}`); reporter.event(kind, name, status, done) },
    close: () => reporter.close(),
  }
  for (const a of plan.actions) {
    if (a.kind === 'create-network') {
      r.event('Network', a.name, 'Creating')
      try {
        await docker.networks.create(networkCreateRequest(p, a.key))
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 409)) throw err
      }
      r.event('Network', a.name, 'Created')
    }
  }
  await Promise.all(plan.actions.filter((a) => a.kind === 'create-volume').map(async (a) => {
    if (a.kind !== 'create-volume') return
    r.event('Volume', a.name, 'Creating')
    await docker.volumes.create(volumeCreateRequest(p, a.key))
    r.event('Volume', a.name, 'Created')
  }))
  for (const key of Object.keys(p.networks)) {
    const n = p.networks[key]!
    if (!n.external) continue
    try { await docker.networks.inspect(n.name) } catch (err) {
      if (isNotFound(err)) throw new EngineError('NotFound', 'ERR_COMPOSE_EXTERNAL', `network ${n.name} declared as external, but could not be found`)
      throw err
    }
  }
  for (const key of Object.keys(p.volumes)) {
    const v = p.volumes[key]!
    if (!v.external) continue
    try { await docker.volumes.inspect(v.name) } catch (err) {
      if (isNotFound(err)) throw new EngineError('NotFound', 'ERR_COMPOSE_EXTERNAL', `external volume "${v.name}" not found`)
      throw err
    }
  }
  await Promise.all(plan.actions.map(async (a) => {
    if (a.kind === 'pull') {
      r.event('Image', a.image, 'Pulling')
      try {
        await docker.images.pull(a.image, { ...(p.services[a.service]!.platform ? { platform: p.services[a.service]!.platform! } : {}) })
      } catch (err) {
        throw new EngineError('NotFound', 'ERR_COMPOSE_PULL', `service ${a.service}: image ${a.image}: ${(err as Error).message}`)
      }
      images.set(a.image, (await docker.images.inspect(a.image)).Id)
      r.event('Image', a.image, 'Pulled')
    } else if (a.kind === 'build') {
      images.set(a.image, await buildService(docker, p, p.services[a.service]!, r))
    }
  }))
  for (const s of Object.values(p.services)) {
    if (!withDependencies(p, o.services).includes(s.name)) continue
    const img = imageOf(p, s)
    if (images.get(img) === undefined && !plan.actions.some((a) => a.kind === 'build' && a.image === img)) {
      throw new EngineError('NotFound', 'ERR_COMPOSE_IMAGE', `service ${s.name}: image ${img}: No such image: ${img}${o.pull === 'never' ? ' (--pull never)' : ''}`)
    }
  }
  const done = new Map<string, Promise<void>>()
  const ids = new Map<string, string[]>()
  for (const c of observed.containers) {
    const list = ids.get(serviceOf(c)) ?? []
    list[numberOf(c) - 1] = c.Id
    ids.set(serviceOf(c), list)
  }
  const targets = withDependencies(p, o.services)
  // Containers this run leaves alone, as observed: a healthy one needs no further look.
  const untouched = new Map(plan.actions.filter((a) => a.kind === 'keep').map((a) => [(a as { id: string }).id, observed.containers.find((c) => c.Id === (a as { id: string }).id)!]))
  const conditions = new Map<string, Promise<void>>()
  const events = new ContainerEvents(docker, p.name)
  await events.ready
  const runService = async (name: string): Promise<void> => {
    const s = p.services[name]!
    const deps = [...Object.entries(s.depends_on)].filter(([d]) => targets.includes(d))
    const shared = [s.network_mode, s.ipc, s.pid].filter((x): x is string => !!x?.startsWith('service:')).map((x) => x.slice(8))
    await Promise.all([...deps.map(([d]) => done.get(d)!), ...shared.map((d) => done.get(d)!)])
    for (const [d, cfg] of deps) {
      // Dependants of one service share one wait for its condition (one poll per container).
      const key = `${d}\0${cfg.condition}`
      if (!conditions.has(key)) conditions.set(key, waitCondition(docker, p, d, cfg.condition, ids, r, untouched, events))
      await conditions.get(key)
    }
    const actions = plan.forService(name)
    const hash = serviceHash(s)
    const imageId = images.get(imageOf(p, s))
    const ctx = (number: number) => ({ containerOf: (svc: string) => ids.get(svc)?.[0] ?? containerName(p, p.services[svc] ?? s, 1), number, hash, ...(imageId ? { imageId } : {}) })
    await Promise.all(actions.map(async (a) => {
      switch (a.kind) {
        case 'keep': {
          // An image rebuilt or pulled in this run may still change the container.
          const c = observed.containers.find((x) => x.Id === a.id)
          if (imageId && c && c.ImageID !== imageId && !o.noRecreate) {
            await recreate(docker, p, s, { ...a, kind: 'recreate', cause: 'image changed' }, ctx(a.number), o, r, ids)
            return
          }
          r.event('Container', a.name, c?.State === 'running' ? 'Running' : c?.State ?? 'Running')
          return
        }
        case 'start':
          r.event('Container', a.name, 'Starting')
          await startOne(docker, name, a.name, a.id)
          r.event('Container', a.name, 'Started')
          return
        case 'create': {
          const id = await createContainer(docker, p, s, ctx(a.number), r)
          ;(ids.get(name) ?? ids.set(name, []).get(name)!)[a.number - 1] = id
          if (!o.noStart) {
            r.event('Container', a.name, 'Starting')
            await startOne(docker, name, a.name, id)
            r.event('Container', a.name, 'Started')
          }
          return
        }
        case 'recreate':
          await recreate(docker, p, s, a, ctx(a.number), o, r, ids)
          return
        case 'remove':
          r.event('Container', a.name, 'Stopping')
          await docker.containers.stop(a.id, { ...(o.timeout !== undefined ? { t: o.timeout } : {}) }).catch(ignoreGone)
          r.event('Container', a.name, 'Stopped')
          r.event('Container', a.name, 'Removing')
          await docker.containers.remove(a.id, { force: true }).catch(ignoreGone)
          r.event('Container', a.name, 'Removed')
      }
    }))
  }
  for (const name of targets) {
    let resolveFn!: () => void
    let rejectFn!: (e: unknown) => void
    done.set(name, new Promise<void>((res, rej) => { resolveFn = res; rejectFn = rej }))
    void Promise.resolve().then(() => runService(name)).then(resolveFn, rejectFn)
  }
  // Orphan removals (service not in the project).
  const orphanRemovals = plan.actions.filter((a): a is Extract<Action, { kind: 'remove' }> => a.kind === 'remove' && !p.services[a.service])
  const results = await Promise.allSettled([...done.values(), ...orphanRemovals.map(async (a) => {
    r.event('Container', a.name, 'Removing')
    await docker.containers.remove(a.id, { force: true }).catch(ignoreGone)
    r.event('Container', a.name, 'Removed')
  })])
  const failed = results.find((x): x is PromiseRejectedResult => x.status === 'rejected')
  if (failed) events.close()
  if (failed) {
    // What this run made stays (a second `up` converges from it, `down` removes it): say what.
    if (created.length) process.stderr.write(`up failed; created so far: ${created.join(', ')}\n`)
    throw failed.reason
  }
  if (!orphanRemovals.length && !o.removeOrphans) {
    const known = new Set([...Object.keys(p.services), ...Object.keys(p.disabled)])
    const orphans = observed.containers.filter((c) => !known.has(serviceOf(c)))
    if (orphans.length) process.stderr.write(`WARN[0000] Found orphan containers ([${orphans.map(nameOf).join(' ')}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.\n`)
  }
  try {
    if (o.wait) await waitAll(docker, p, targets, ids, o.waitTimeout, r, events)
  } finally {
    events.close()
  }
}

/** Start one container; the engine's error (a port already taken...) names the service and container. */
async function startOne(docker: Docker, service: string, name: string, id: string): Promise<void> {
  try {
    await docker.containers.start(id)
  } catch (err) {
    if (err instanceof ApiError) throw new EngineError(err.status === 404 ? 'NotFound' : 'InvalidArgument', 'ERR_COMPOSE_START', `service ${service}: container ${name}: Error response from daemon: ${err.message}`)
    throw err
  }
}

function ignoreGone(err: unknown): void {
  if (!isNotFound(err) && !(err instanceof ApiError && err.status === 304)) throw err
}

async function recreate(docker: Docker, p: ProjectModel, s: ServiceConfig, a: Extract<Action, { kind: 'recreate' }>, ctx: Parameters<typeof toCreateRequest>[2], o: UpOptions, r: Reporter, ids: Map<string, string[]>): Promise<void> {
  r.event('Container', a.name, 'Recreate')
  await docker.containers.stop(a.id, { ...(o.timeout !== undefined ? { t: o.timeout } : {}) }).catch(ignoreGone)
  // The old container keeps its data until the new one exists: renamed aside, removed after.
  const aside = `${a.id.slice(0, 12)}_${a.name}`
  await docker.containers.rename(a.id, aside).catch(ignoreGone)
  let id: string
  try {
    id = await createContainer(docker, p, s, ctx, r, a.id)
  } catch (err) {
    await docker.containers.rename(a.id, a.name).catch(() => {})
    throw err
  }
  await docker.containers.remove(a.id, { force: true, v: false }).catch(ignoreGone)
  ;(ids.get(s.name) ?? ids.set(s.name, []).get(s.name)!)[a.number - 1] = id
  r.event('Container', a.name, 'Recreated')
  if (!o.noStart) {
    r.event('Container', a.name, 'Starting')
    await startOne(docker, s.name, a.name, id)
    r.event('Container', a.name, 'Started')
  }
}

/** Create one container of a service: create with its first network, connect the others, copy secrets. */
export async function createContainer(docker: Docker, p: ProjectModel, s: ServiceConfig, ctx: Parameters<typeof toCreateRequest>[2], r: Reporter, replaces?: string): Promise<string> {
  const { body, name, platform } = toCreateRequest(p, s, ctx)
  if (replaces) body.Labels![L.replace] = replaces
  r.event('Container', name, 'Creating')
  let id: string
  try {
    id = (await docker.containers.create(body, { name, ...(platform ? { platform } : {}) })).Id
  } catch (err) {
    if (err instanceof ApiError) throw new EngineError(err.status === 404 ? 'NotFound' : err.status === 409 ? 'Conflict' : 'InvalidArgument', 'ERR_COMPOSE_CREATE', `service ${s.name}: container ${name}: ${err.message}`)
    throw err
  }
  try {
    if (!s.network_mode) {
      for (const key of serviceNetworks(s).slice(1)) await docker.networks.connect(p.networks[key]!.name, id, endpointFor(p, s, key, name, !ctx.oneoff))
    }
    for (const [kind, refs] of [['secrets', s.secrets ?? []], ['configs', s.configs ?? []]] as const) {
      for (const ref of refs) {
        const obj = p[kind][ref.source]!
        if (obj.file) continue
        const data = obj.content !== undefined ? obj.content : p.environment[obj.environment ?? ''] ?? ''
        const dir = posix.dirname(ref.target)
        await docker.containers.putArchive(id, dir, await fileTar(posix.basename(ref.target), Buffer.from(data), ref.mode ?? 0o444, Number(ref.uid ?? 0), Number(ref.gid ?? 0)))
      }
    }
  } catch (err) {
    await docker.containers.remove(id, { force: true }).catch(() => {})
    throw new EngineError('InvalidArgument', 'ERR_COMPOSE_CREATE', `service ${s.name}: container ${name}: ${(err as Error).message}`)
  }
  r.event('Container', name, 'Created')
  return id
}

export async function buildService(docker: Docker, p: ProjectModel, s: ServiceConfig, r: Reporter, o: { noCache?: boolean; pull?: boolean; onLine?: (l: string) => void } = {}): Promise<string> {
  const b = s.build!
  const image = imageOf(p, s)
  r.event('Service', s.name, 'Building')
  const inline = b.dockerfile_inline !== undefined ? { name: `.berth-compose-Dockerfile-${s.name}`, data: Buffer.from(b.dockerfile_inline) } : undefined
  const ctx = await packContext(s.name, b.context, inline)
  let id: string | undefined
  try {
    id = await docker.images.build(ctx, {
      t: [image, ...(b.tags ?? [])],
      dockerfile: inline ? inline.name : b.dockerfile ?? 'Dockerfile',
      ...(b.args ? { buildargs: Object.fromEntries(Object.entries(b.args).filter(([, v]) => v !== null)) as Record<string, string> } : {}),
      labels: { ...b.labels, [L.project]: p.name, [L.service]: s.name, [L.version]: '2.29.0' },
      ...(b.target ? { target: b.target } : {}),
      ...(b.cache_from ? { cachefrom: b.cache_from } : {}),
      ...(b.network ? { networkmode: b.network } : {}),
      ...(b.extra_hosts ? { extrahosts: b.extra_hosts } : {}),
      ...(b.shm_size ? { shmsize: b.shm_size } : {}),
      ...(b.no_cache || o.noCache ? { nocache: true } : {}),
      ...(b.pull || o.pull ? { pull: true } : {}),
      onProgress: (m) => { if (m.stream && o.onLine) o.onLine(m.stream) },
    })
  } catch (err) {
    throw new EngineError('InvalidArgument', 'ERR_COMPOSE_BUILD', `failed to solve: service ${s.name}: ${(err as Error).message}`)
  }
  const final = id ?? (await docker.images.inspect(image)).Id
  r.event('Service', s.name, 'Built')
  return final
}

async function waitCondition(docker: Docker, p: ProjectModel, dep: string, condition: string, ids: Map<string, string[]>, r: Reporter, untouched: Map<string, ContainerSummary>, events: ContainerEvents): Promise<void> {
  const list = (ids.get(dep) ?? []).filter(Boolean)
  await Promise.all(list.map(async (id) => {
    const name = containerName(p, p.services[dep]!, list.indexOf(id) + 1)
    if (condition === 'service_started') return
    const seen = untouched.get(id)
    if (condition === 'service_healthy' && seen?.State === 'running' && /\(healthy\)/.test(seen.Status)) return
    r.event('Container', name, 'Waiting')
    if (condition === 'service_completed_successfully') {
      const res = await docker.containers.wait(id)
      if (res.StatusCode !== 0) throw new EngineError('InvalidArgument', 'ERR_COMPOSE_DEPENDENCY', `service "${dep}" didn't complete successfully: exit ${res.StatusCode}`)
      r.event('Container', name, 'Exited')
      return
    }
    for (;;) {
      // Listen before looking, so a change between the two is not missed.
      const next = events.next(id)
      const c = await docker.containers.inspect(id)
      const h = c.State.Health?.Status
      if (!c.Config.Healthcheck?.Test && !c.State.Health) throw invalid('ERR_COMPOSE_DEPENDENCY', `dependency failed to start: container ${name} has no healthcheck configured`)
      if (h === 'healthy') { r.event('Container', name, 'Healthy'); return }
      if (h === 'unhealthy') throw new EngineError('Unavailable', 'ERR_COMPOSE_DEPENDENCY', `dependency failed to start: container ${name} is unhealthy`)
      if (!c.State.Running && !c.State.Restarting) throw new EngineError('Unavailable', 'ERR_COMPOSE_DEPENDENCY', `dependency failed to start: container ${name} exited (${c.State.ExitCode})`)
      await next
    }
  }))
}

/** --wait: every container running, and healthy where it has a healthcheck. */
async function waitAll(docker: Docker, p: ProjectModel, services: string[], ids: Map<string, string[]>, timeoutSec: number | undefined, r: Reporter, events: ContainerEvents): Promise<void> {
  const deadline = timeoutSec ? Date.now() + timeoutSec * 1000 : Infinity
  await Promise.all(services.flatMap((svc) => (ids.get(svc) ?? []).filter(Boolean).map(async (id, i) => {
    const name = containerName(p, p.services[svc]!, i + 1)
    r.event('Container', name, 'Waiting')
    for (;;) {
      const next = events.next(id, Math.max(1, Math.min(1000, deadline - Date.now())))
      const c = await docker.containers.inspect(id)
      const h = c.State.Health?.Status
      if (c.State.Running && (!h || h === 'healthy' || h === 'none')) { r.event('Container', name, h === 'healthy' ? 'Healthy' : 'Running'); return }
      if (h === 'unhealthy') throw new EngineError('Unavailable', 'ERR_COMPOSE_WAIT', `container ${name} is unhealthy`)
      if (!c.State.Running && !c.State.Restarting) {
        if (p.services[svc]!.restart === undefined && c.State.ExitCode === 0 && c.State.Status === 'exited') { r.event('Container', name, 'Exited'); return }
        throw new EngineError('Unavailable', 'ERR_COMPOSE_WAIT', `container ${name} exited (${c.State.ExitCode})`)
      }
      if (Date.now() > deadline) throw new EngineError('Unavailable', 'ERR_COMPOSE_WAIT', `timeout waiting for ${name} to be running and healthy`)
      await next
    }
  })))
}

export const sleep = (ms: number) => new Promise<void>((res) => setTimeout(res, ms))

/**
 * The project's container events on one connection: a wait for a health status or an exit
 * wakes on the container's next event (health_status, die, start...) instead of polling the
 * engine, with a slow poll as the fallback should an event be missed.
 */
export class ContainerEvents {
  readonly #waiters = new Map<string, Array<() => void>>()
  readonly #ac = new AbortController()
  readonly ready: Promise<void>

  constructor(docker: Docker, project: string) {
    let markReady!: () => void
    this.ready = new Promise<void>((res) => { markReady = res })
    void (async () => {
      try {
        const stream = docker.system.events({ filters: { label: [`${L.project}=${project}`], type: ['container'] }, signal: this.#ac.signal })
        const first = stream.next()
        markReady()
        for (let it = await first; !it.done; it = await stream.next()) this.#wake(it.value.Actor.ID)
      } catch {
        // No event stream (or it ended): the waits fall back to polling.
      } finally {
        markReady()
      }
    })()
    setTimeout(markReady, 200).unref()
  }

  #wake(id: string): void {
    const w = this.#waiters.get(id)
    if (!w) return
    this.#waiters.delete(id)
    for (const f of w) f()
  }

  /** Resolves at the container's next event, or after `ms`. */
  next(id: string, ms = 1000): Promise<void> {
    return new Promise<void>((res) => {
      const t = setTimeout(res, ms)
      const list = this.#waiters.get(id) ?? []
      list.push(() => { clearTimeout(t); res() })
      this.#waiters.set(id, list)
    })
  }

  close(): void {
    this.#ac.abort()
  }
}

/** The containers of the named services (all when none named), in service then number order. */
export function containersOf(observed: Observed, services: string[] | undefined): ContainerSummary[] {
  return observed.containers.filter((c) => !services?.length || services.includes(serviceOf(c)))
}

export interface DownOptions { volumes?: boolean; removeOrphans?: boolean; rmi?: 'local' | 'all'; timeout?: number; dryRun?: boolean }

/** `down`: stop and remove the containers (dependants first), then the networks, then (with -v) the volumes. */
export async function down(docker: Docker, p: ProjectModel | undefined, project: string, o: DownOptions, r: Reporter): Promise<string[]> {
  const observed = await observeProject(docker, project, { oneoff: true })
  const known = p ? new Set([...Object.keys(p.services), ...Object.keys(p.disabled)]) : undefined
  const lines: string[] = []
  const ctrs = observed.containers.filter((c) => !known || known.has(serviceOf(c)) || o.removeOrphans || c.Labels[L.oneoff] === 'True')
  for (const c of ctrs) lines.push(`${nameOf(c)}: remove, down`)
  const nets = observed.networks.filter((n) => !p || Object.values(p.networks).some((x) => x.name === n.Name && !x.external) || true)
  for (const n of nets) lines.push(`network ${n.Name}: remove, down`)
  const vols = o.volumes ? observed.volumes : []
  for (const v of vols) lines.push(`volume ${v.Name}: remove, down -v`)
  const imgs = o.rmi && p ? [...new Set(Object.values(p.services).filter((s) => o.rmi === 'all' || !s.image).map((s) => imageOf(p, s)))] : []
  for (const i of imgs) lines.push(`image ${i}: remove, --rmi ${o.rmi}`)
  if (o.dryRun) return lines
  // Dependants first: a service is stopped once everything that depends on it is; the rest
  // (and containers of services the model does not know) go concurrently.
  const tasks = new Map<string, Promise<void>>()
  const dependants = (svc: string) => (p ? Object.values(p.services).filter((s) => svc in s.depends_on || s.network_mode === `service:${svc}`).map((s) => s.name) : [])
  const removeService = (svc: string): Promise<void> => {
    const have = tasks.get(svc)
    if (have) return have
    const t = (async () => {
      await Promise.all(dependants(svc).filter((d) => d !== svc).map(removeService))
      await removeAll(ctrs.filter((c) => serviceOf(c) === svc))
    })()
    tasks.set(svc, t)
    return t
  }
  const removeAll = (list: ContainerSummary[]) =>
    Promise.all(list.map(async (c) => {
      const name = nameOf(c)
      if (c.State === 'running' || c.State === 'paused' || c.State === 'restarting') {
        r.event('Container', name, 'Stopping')
        await docker.containers.stop(c.Id, { ...(o.timeout !== undefined ? { t: o.timeout } : {}) }).catch(ignoreGone)
        r.event('Container', name, 'Stopped')
      }
      r.event('Container', name, 'Removing')
      await docker.containers.remove(c.Id, { force: true, v: !!o.volumes }).catch(ignoreGone)
      r.event('Container', name, 'Removed')
    }))
  await Promise.all([...new Set(ctrs.map(serviceOf))].map(removeService))
  for (const n of nets) {
    r.event('Network', n.Name, 'Removing')
    await docker.networks.remove(n.Id).catch(ignoreGone)
    r.event('Network', n.Name, 'Removed')
  }
  for (const v of vols) {
    r.event('Volume', v.Name, 'Removing')
    await docker.volumes.remove(v.Name).catch(ignoreGone)
    r.event('Volume', v.Name, 'Removed')
  }
  for (const i of imgs) {
    r.event('Image', i, 'Removing')
    await docker.images.remove(i).catch(ignoreGone)
    r.event('Image', i, 'Removed')
  }
  return lines
}

/** Services with dependants before their dependencies. */
export function reverseOrder(p: ProjectModel): string[] {
  const out: string[] = []
  const seen = new Set<string>()
  const visit = (n: string) => {
    if (seen.has(n) || !p.services[n]) return
    seen.add(n)
    for (const d of Object.keys(p.services[n]!.depends_on)) visit(d)
    out.push(n)
  }
  for (const n of Object.keys(p.services)) visit(n)
  return out.reverse()
}
