import type { ContainerRecord, ContainerStatus } from './types.js'

/** ps filter values (parsed and checked by the caller); a key left out does not filter. */
export interface ContainerFilterValues {
  ancestor?: readonly string[]
  before?: readonly string[]
  since?: readonly string[]
  expose?: readonly string[]
  publish?: readonly string[]
  exited?: readonly number[]
  health?: readonly string[]
  id?: readonly string[]
  label?: readonly string[]
  name?: readonly string[]
  network?: readonly string[]
  status?: readonly ContainerStatus[]
  volume?: readonly string[]
}

export interface ListDeps {
  /** Every container record. */
  all(): ContainerRecord[]
  /** A container by reference (NotFound otherwise): before/since. */
  resolve(ref: string): ContainerRecord
  /** The image ID a reference names, or undefined when there is no such image: ancestor. */
  imageIdOf(ref: string): string | undefined
}

export interface ListOptions {
  all: boolean
  /** > 0: at most that many (and stopped ones count, as with all). */
  limit: number
  filters: ContainerFilterValues
}

const isUp = (c: ContainerRecord) => c.state.status === 'running' || c.state.status === 'paused' || c.state.status === 'restarting'

/** `docker ps`: newest first, running ones only unless all, a limit or a status/exited filter. */
export function listContainers(deps: ListDeps, opts: ListOptions): ContainerRecord[] {
  const f = opts.filters
  const limit = opts.limit
  // ISO-8601 UTC times of equal length sort as strings, no Date parsing needed.
  let list = deps.all().sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : a.id < b.id ? 1 : -1))
  const before = (f.before ?? []).map((x) => deps.resolve(x))
  const since = (f.since ?? []).map((x) => deps.resolve(x))
  const ancestors = f.ancestor?.map((a) => deps.imageIdOf(a))
  const names = f.name?.map((x) => new RegExp(x.replace(/^\//, '')))
  list = list.filter((c) => {
    if (!opts.all && limit <= 0 && !f.status && !f.exited && !isUp(c)) return false
    if (f.status && !f.status.includes(c.state.status)) return false
    if (f.exited && (c.state.status !== 'exited' || !f.exited.includes(c.state.exitCode))) return false
    if (f.id && !f.id.some((x) => c.id.startsWith(x))) return false
    if (names && !names.some((re) => re.test(c.name))) return false
    if (!labelsMatch(f.label ?? [], c.config.labels)) return false
    if (ancestors && !ancestors.some((id) => id !== undefined && id === c.imageId)) return false
    if (before.some((b) => Date.parse(c.created) >= Date.parse(b.created))) return false
    if (since.some((s) => Date.parse(c.created) <= Date.parse(s.created))) return false
    if (f.network && !f.network.some((n) => networksOf(c).includes(n))) return false
    if (f.publish && !f.publish.some((p) => publishes(c, p))) return false
    if (f.expose && !f.expose.some((p) => exposes(c, p))) return false
    if (f.health && !f.health.includes(healthOf(c))) return false
    if (f.volume && !f.volume.some((v) => c.mountPoints?.some((m) => m.name === v || m.destination === v || m.source === v))) return false
    return true
  })
  return limit > 0 ? list.slice(0, limit) : list
}

/** `k` / `k=v` against labels: all must match. */
export function labelsMatch(want: readonly string[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {}
  return want.every((w) => {
    const eq = w.indexOf('=')
    if (eq === -1) return Object.hasOwn(l, w)
    const k = w.slice(0, eq)
    return Object.hasOwn(l, k) && l[k] === w.slice(eq + 1)
  })
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

/** The health a ps filter sees: none without a healthcheck (`NONE` turns the image's off). */
export function healthOf(c: ContainerRecord): string {
  const has = !!c.config.healthcheck?.test?.length && c.config.healthcheck.test[0] !== 'NONE'
  return has ? c.state.health?.status ?? 'starting' : 'none'
}
