import type { ContainerInspect, ContainerSummary } from '../client/types.js'
import { containerName, imageOf, L, serviceHash } from './convert.js'
import { replicasOf, type ProjectModel, type ServiceConfig } from './model.js'
import { nameOf, numberOf, serviceOf, type Observed } from './observe.js'

export type Action =
  | { kind: 'create-network'; key: string; name: string; cause: string }
  | { kind: 'create-volume'; key: string; name: string; cause: string }
  | { kind: 'pull'; service: string; image: string; cause: string }
  | { kind: 'build'; service: string; image: string; cause: string }
  | { kind: 'create'; service: string; number: number; name: string; cause: string }
  | { kind: 'recreate'; service: string; number: number; name: string; id: string; cause: string }
  | { kind: 'start'; service: string; number: number; name: string; id: string; cause: string }
  | { kind: 'keep'; service: string; number: number; name: string; id: string; cause: string }
  | { kind: 'remove'; service: string; name: string; id: string; cause: string }

/** What `up` will do and why: data first, so tests compare plans and `--dry-run` prints them. */
export class Plan {
  constructor(readonly project: string, readonly actions: Action[]) {}

  /** Whether executing the plan changes anything on the engine. */
  get changes(): boolean {
    return this.actions.some((a) => a.kind !== 'keep')
  }

  forService(service: string): Action[] {
    return this.actions.filter((a) => 'service' in a && a.service === service && a.kind !== 'pull' && a.kind !== 'build')
  }

  toString(): string {
    return this.actions.map(describe).join('\n')
  }
}

export function describe(a: Action): string {
  switch (a.kind) {
    case 'create-network': return `network ${a.name}: create, ${a.cause}`
    case 'create-volume': return `volume ${a.name}: create, ${a.cause}`
    case 'pull': return `image ${a.image}: pull, ${a.cause} (service ${a.service})`
    case 'build': return `image ${a.image}: build, ${a.cause} (service ${a.service})`
    case 'keep': return `${a.service}-${a.number}: unchanged, ${a.cause}`
    case 'remove': return `${a.name}: remove, ${a.cause}`
    default: return `${a.service}-${a.number}: ${a.kind}, ${a.cause}`
  }
}

export interface UpPlanOptions {
  services?: string[]
  forceRecreate?: boolean
  noRecreate?: boolean
  alwaysRecreateDeps?: boolean
  removeOrphans?: boolean
  scale?: Record<string, number>
  build?: boolean
  noBuild?: boolean
  pull?: 'always' | 'missing' | 'never' | 'build'
  noStart?: boolean
  /** Image reference → local image ID (absent: not present on the engine). */
  images: Map<string, string | undefined>
  /** Container ID → inspect (for the causes of a recreation). */
  inspects?: Map<string, ContainerInspect>
}

/** Services to act on: the named ones and, transitively, what they depend on. */
export function withDependencies(p: ProjectModel, names: string[] | undefined): string[] {
  if (!names?.length) return Object.keys(p.services)
  const out = new Set<string>()
  const add = (n: string) => {
    if (out.has(n)) return
    const s = p.services[n]
    if (!s) return
    out.add(n)
    for (const d of Object.keys(s.depends_on)) add(d)
    if (s.network_mode?.startsWith('service:')) add(s.network_mode.slice(8))
  }
  for (const n of names) add(n)
  return Object.keys(p.services).filter((n) => out.has(n))
}

/** Compute `up`'s plan from the model and what the engine holds. Pure. */
export function planUp(p: ProjectModel, observed: Observed, o: UpPlanOptions): Plan {
  const actions: Action[] = []
  const targets = withDependencies(p, o.services)
  const usedNets = new Set(targets.flatMap((n) => Object.keys(p.services[n]!.networks ?? {})))
  for (const [key, n] of Object.entries(p.networks)) {
    if (n.external || !usedNets.has(key)) continue
    if (!observed.networks.some((x) => x.Name === n.name)) actions.push({ kind: 'create-network', key, name: n.name, cause: 'not found' })
  }
  const usedVols = new Set(targets.flatMap((n) => p.services[n]!.volumes.filter((m) => m.type === 'volume' && m.source).map((m) => m.source!)))
  for (const [key, v] of Object.entries(p.volumes)) {
    if (v.external || !usedVols.has(key)) continue
    if (!observed.volumes.some((x) => x.Name === v.name)) actions.push({ kind: 'create-volume', key, name: v.name, cause: 'not found' })
  }
  const seenImages = new Set<string>()
  for (const name of targets) {
    const s = p.services[name]!
    const image = imageOf(p, s)
    if (seenImages.has(image)) continue
    seenImages.add(image)
    const present = o.images.get(image) !== undefined
    const policy = o.pull ?? s.pull_policy
    if (s.build && !o.noBuild && (o.build || !present || policy === 'build')) {
      actions.push({ kind: 'build', service: name, image, cause: o.build ? '--build' : !present ? 'image not found' : 'pull_policy build' })
    } else if (policy === 'always' || ((!present) && policy !== 'never' && !s.build)) {
      actions.push({ kind: 'pull', service: name, image, cause: policy === 'always' ? 'pull policy always' : 'image not found' })
    }
  }
  const recreated = new Set<string>()
  for (const name of targets) {
    const s = p.services[name]!
    const want = o.scale?.[name] ?? replicasOf(s)
    const mine = observed.containers.filter((c) => serviceOf(c) === name)
    const hash = serviceHash(s)
    const image = imageOf(p, s)
    const imageId = o.images.get(image)
    const rebuilding = actions.some((a) => (a.kind === 'build' || a.kind === 'pull') && a.image === image)
    const explicit = !o.services?.length || o.services.includes(name)
    for (let n = 1; n <= want; n++) {
      const c = mine.find((x) => numberOf(x) === n)
      const cname = containerName(p, s, n)
      if (!c) { actions.push({ kind: 'create', service: name, number: n, name: cname, cause: 'not found' }); continue }
      const cause = recreateCause(p, s, c, hash, imageId, rebuilding, recreated, o, explicit)
      if (cause) {
        actions.push({ kind: 'recreate', service: name, number: n, name: cname, id: c.Id, cause })
        recreated.add(name)
      } else if (c.State !== 'running' && c.State !== 'restarting' && !o.noStart) actions.push({ kind: 'start', service: name, number: n, name: cname, id: c.Id, cause: `container is ${c.State}` })
      else actions.push({ kind: 'keep', service: name, number: n, name: cname, id: c.Id, cause: c.State })
    }
    for (const c of mine.filter((x) => numberOf(x) > want || numberOf(x) < 1).sort((a, b) => numberOf(b) - numberOf(a))) {
      actions.push({ kind: 'remove', service: name, name: nameOf(c), id: c.Id, cause: `scale ${want}` })
    }
  }
  if (o.removeOrphans) {
    const known = new Set([...Object.keys(p.services), ...Object.keys(p.disabled)])
    for (const c of observed.containers) if (!known.has(serviceOf(c))) actions.push({ kind: 'remove', service: serviceOf(c), name: nameOf(c), id: c.Id, cause: 'orphan container (service not in the project)' })
  }
  return new Plan(p.name, actions)
}

function recreateCause(p: ProjectModel, s: ServiceConfig, c: ContainerSummary, hash: string, imageId: string | undefined, rebuilding: boolean, recreated: Set<string>, o: UpPlanOptions, explicit: boolean): string | undefined {
  if (o.noRecreate) return undefined
  if (o.forceRecreate && (explicit || o.alwaysRecreateDeps)) return '--force-recreate'
  if (o.alwaysRecreateDeps && !explicit) return '--always-recreate-deps'
  if (c.Labels[L.hash] !== hash) {
    const inspect = o.inspects?.get(c.Id)
    const what = inspect ? changedKeys(p, s, inspect) : []
    return `config changed${what.length ? `: ${what.join(', ')}` : ''}`
  }
  if (rebuilding) return undefined // decided after the pull/build, by image ID
  if (imageId && c.ImageID && c.ImageID !== imageId) return 'image changed'
  const shared = s.network_mode?.startsWith('service:') ? s.network_mode.slice(8) : undefined
  if (shared && recreated.has(shared)) return `network_mode service:${shared} recreated`
  return undefined
}

/** Which attributes differ between a container and its service (environment.FOO, command ...). */
export function changedKeys(p: ProjectModel, s: ServiceConfig, c: ContainerInspect): string[] {
  const out: string[] = []
  const have = new Map((c.Config.Env ?? []).map((e) => { const i = e.indexOf('='); return [e.slice(0, i), e.slice(i + 1)] as const }))
  const want = new Map(Object.entries(s.environment).filter(([, v]) => v !== null) as Array<[string, string]>)
  for (const k of new Set([...want.keys()])) if (have.get(k) !== want.get(k)) out.push(`environment.${k}`)
  const imageEnv = new Set([...have.keys()].filter((k) => !want.has(k)))
  // Variables the image sets stay in Config.Env; only a service variable removed is reported.
  void imageEnv
  const ownLabels = Object.entries(c.Config.Labels ?? {}).filter(([k]) => !k.startsWith('com.docker.compose.'))
  for (const [k, v] of Object.entries(s.labels)) if (c.Config.Labels?.[k] !== v) out.push(`labels.${k}`)
  for (const [k] of ownLabels) if (!(k in s.labels) && !k.startsWith('org.opencontainers.')) { /* may come from the image */ }
  if (s.command !== undefined && JSON.stringify(s.command ?? []) !== JSON.stringify(c.Config.Cmd ?? [])) out.push('command')
  if (s.entrypoint !== undefined && JSON.stringify(s.entrypoint ?? []) !== JSON.stringify(c.Config.Entrypoint ?? [])) out.push('entrypoint')
  if (s.image && c.Config.Image !== s.image) out.push('image')
  if ((s.user ?? '') !== (c.Config.User ?? '') && s.user !== undefined) out.push('user')
  if (s.working_dir !== undefined && s.working_dir !== c.Config.WorkingDir) out.push('working_dir')
  const wantPorts = s.ports.map((x) => `${x.target}/${x.protocol}`).sort().join(',')
  const havePorts = Object.keys(c.HostConfig.PortBindings ?? {}).sort().join(',')
  if (wantPorts !== havePorts) out.push('ports')
  void p
  return out
}
