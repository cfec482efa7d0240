/**
 * `stack deploy`: compose files → swarm objects, as the docker CLI 28's stack loader and
 * cli/compose/convert do it. The files are read with Berth's compose loader pieces (YAML,
 * interpolation from the process environment only — docker stack reads no .env —, schema
 * validation, merging, normalisation); the `deploy` section, which the compose model keeps only
 * in part, is read from the tree here. Pure, apart from reading files.
 */
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { interpolateTree } from '../../compose/loader/interpolate.js'
import { mergeTrees } from '../../compose/loader/merge.js'
import { absolutizePaths, canonicalize, normalizeProject, parseBytes, parseDuration } from '../../compose/loader/normalize.js'
import { validateFile } from '../../compose/loader/validate.js'
import { parseComposeYaml, withoutMarkers } from '../../compose/loader/yaml.js'
import type { ProjectModel, ServiceConfig } from '../../compose/model.js'
import type { Json } from './swarm-util.js'

export const LABEL_NAMESPACE = 'com.docker.stack.namespace'
export const LABEL_IMAGE = 'com.docker.stack.image'

type Dict = Record<string, unknown>
const isDict = (v: unknown): v is Dict => !!v && typeof v === 'object' && !Array.isArray(v)

const UNSUPPORTED = ['build', 'cgroupns_mode', 'cgroup_parent', 'devices', 'domainname', 'external_links', 'ipc', 'links', 'mac_address', 'network_mode', 'pid', 'privileged', 'restart', 'security_opt', 'shm_size', 'userns_mode']
const DEPRECATED: Record<string, string> = {
  container_name: 'Setting the container name is not supported.',
  expose: 'Exposing ports is unnecessary - services on the same network can access each other\'s containers on any port.',
}
const FORBIDDEN: Record<string, string> = {
  extends: 'Support for `extends` is not implemented yet.',
  volume_driver: 'Instead of setting the volume driver on the service, define a volume using the top-level `volumes` option and specify the driver there.',
  volumes_from: 'To share a volume between services, define it using the top-level `volumes` option and reference it from each service that shares it using the service-level `volumes` option.',
  cpu_quota: 'Set resource limits using deploy.resources',
  cpu_shares: 'Set resource reservations using deploy.resources',
  cpuset: 'Set resource reservations using deploy.resources',
  mem_limit: 'Set resource limits using deploy.resources',
  memswap_limit: 'Set resource limits using deploy.resources',
}

export interface StackFiles {
  /** The merged, interpolated tree. */
  model: ProjectModel
  /** Raw `deploy:` of each service, secrets'/configs' `external` and `labels`, networks' raw. */
  deploy: Record<string, Dict>
  rawServices: Record<string, Dict>
  external: { secrets: Set<string>; configs: Set<string> }
  objectLabels: { secrets: Record<string, Record<string, string>>; configs: Record<string, Record<string, string>> }
  /** Messages docker prints on stderr while loading. */
  warnings: string[]
}

export class StackError extends Error {}

/** Load the -c files of `stack deploy` / `stack config`. */
export async function loadStackFiles(files: string[], namespace: string, o: { env?: Record<string, string | undefined>; cwd?: string; readStdin?: () => string; interpolate?: boolean } = {}): Promise<StackFiles> {
  if (!files.length) throw new StackError('Specify a Compose file (with --compose-file)')
  const cwd = o.cwd ?? process.cwd()
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(o.env ?? process.env)) if (v !== undefined) env[k] = v
  const lookup = (k: string) => env[k]
  let tree: Dict = {}
  const dicts: Dict[] = []
  for (const f of files) {
    const path = f === '-' ? '-' : resolve(cwd, f)
    let text: string
    try {
      text = path === '-' ? (o.readStdin ?? (() => readFileSync(0, 'utf8')))() : readFileSync(path, 'utf8')
    } catch (err) {
      const e = err as NodeJS.ErrnoException
      throw new StackError(`open ${path}: ${e.code === 'ENOENT' ? 'no such file or directory' : e.message}`)
    }
    const parsed = parseComposeYaml(text, path === '-' ? '(stdin)' : path)
    const data = (o.interpolate === false ? parsed.data : interpolateTree(parsed.data, lookup)) as Dict
    await validateFile(parsed, withoutMarkers(data))
    dicts.push(data)
    tree = mergeTrees(tree, canonicalize(data))
  }
  const warnings: string[] = []
  const forbidden: string[] = []
  const unsupported = new Set<string>()
  const deprecated = new Set<string>()
  for (const d of dicts) {
    for (const s of Object.values((d.services ?? {}) as Dict)) {
      if (!isDict(s)) continue
      for (const k of Object.keys(FORBIDDEN)) if (k in s && !forbidden.includes(k)) forbidden.push(k)
      for (const k of UNSUPPORTED) if (k in s) unsupported.add(k)
      for (const k of Object.keys(DEPRECATED)) if (k in s) deprecated.add(k)
    }
  }
  if (forbidden.length) throw new StackError(`Compose file contains unsupported options:\n\n${forbidden.sort().map((k) => `${k}: ${FORBIDDEN[k]}`).join('\n\n')}\n`)
  if (unsupported.size) warnings.push(`Ignoring unsupported options: ${[...unsupported].sort().join(', ')}\n\n`)
  if (deprecated.size) warnings.push(`Ignoring deprecated options:\n\n${[...deprecated].sort().map((k) => `${k}: ${DEPRECATED[k]}`).join('\n\n')}\n\n`)
  const workingDir = files[0] === '-' ? cwd : dirname(resolve(cwd, files[0]!))
  tree = absolutizePaths(tree, workingDir)
  // What the compose model does not keep (or refuses outside swarm mode) is taken off the tree.
  const deploy: Record<string, Dict> = {}
  const rawServices: Record<string, Dict> = {}
  const services: Dict = {}
  for (const [name, s] of Object.entries((tree.services ?? {}) as Dict)) {
    const svc = { ...((s ?? {}) as Dict) }
    rawServices[name] = { ...svc }
    if (isDict(svc.deploy)) deploy[name] = svc.deploy
    for (const k of ['deploy', ...UNSUPPORTED.filter((k) => k !== 'restart' && k !== 'build'), 'container_name', 'expose']) delete svc[k]
    services[name] = svc
  }
  const external = { secrets: new Set<string>(), configs: new Set<string>() }
  const objectLabels = { secrets: {} as Record<string, Record<string, string>>, configs: {} as Record<string, Record<string, string>> }
  const objects = (kind: 'secrets' | 'configs') => {
    const out: Dict = {}
    for (const [k, v] of Object.entries((tree[kind] ?? {}) as Dict)) {
      const d = { ...((v ?? {}) as Dict) }
      if (d.external === true || isDict(d.external)) {
        external[kind].add(k)
        if (isDict(d.external) && d.external.name && !d.name) d.name = d.external.name
        if (!d.name) d.name = k
        delete d.external
        if (d.file === undefined && d.environment === undefined && d.content === undefined) d.content = ''
      }
      if (d.labels) objectLabels[kind][k] = Object.fromEntries(Object.entries(Array.isArray(d.labels) ? Object.fromEntries((d.labels as string[]).map((l) => [l.split('=')[0], l.split('=').slice(1).join('=')])) : d.labels as Dict).map(([a, b]) => [a, String(b ?? '')]))
      for (const x of ['labels', 'driver', 'template_driver']) delete d[x]
      out[k] = d
    }
    return out
  }
  const cleaned: Dict = { ...tree, services, secrets: objects('secrets'), configs: objects('configs') }
  delete cleaned.version
  const model = normalizeProject(cleaned, { name: namespace, workingDir, configFiles: files, environment: env, lookup, profiles: [] })
  for (const [name, svc] of Object.entries(model.services)) {
    if (!svc.image) throw new StackError(`invalid image reference for service ${name}: no image specified`)
  }
  return { model, deploy, rawServices, external, objectLabels, warnings }
}

const scope = (ns: string, name: string) => `${ns}_${name}`
const withStackLabel = (ns: string, labels: Record<string, string> | undefined): Record<string, string> => ({ ...(labels ?? {}), [LABEL_NAMESPACE]: ns })

/** network.CreateRequest as the docker CLI marshals it (every field of CreateOptions, then Name). */
function networkBody(name: string, driver: string, o: { ipam?: Json | null; internal?: boolean; attachable?: boolean; options?: Record<string, string> | null; labels: Record<string, string> }): Json {
  return { Driver: driver, Scope: '', IPAM: o.ipam ?? null, Internal: !!o.internal, Attachable: !!o.attachable, Ingress: false, ConfigOnly: false, ConfigFrom: null, Options: o.options ?? null, Labels: o.labels, Name: name }
}

/** convert.Networks: the networks to create (name → create body) and the external ones to check. */
export function stackNetworks(ns: string, s: StackFiles): { create: Map<string, Json>; external: string[] } {
  const used = new Set<string>()
  for (const svc of Object.values(s.model.services)) {
    const nets = Object.keys(svc.networks ?? {})
    if (!nets.length) used.add('default')
    for (const n of nets) used.add(n)
  }
  const create = new Map<string, Json>()
  const external: string[] = []
  for (const key of [...used].sort()) {
    const n = s.model.networks[key]
    if (!n) {
      if (key === 'default') create.set(scope(ns, key), networkBody(scope(ns, key), 'overlay', { labels: withStackLabel(ns, undefined) }))
      continue
    }
    if (n.external) { external.push(n.name); continue }
    const ipam = n.ipam && (n.ipam.driver || n.ipam.config?.length)
      ? { Driver: n.ipam.driver ?? '', Options: n.ipam.options ?? null, Config: (n.ipam.config ?? []).map((c) => ({ ...(c.subnet ? { Subnet: c.subnet } : {}), ...(c.ip_range ? { IPRange: c.ip_range } : {}), ...(c.gateway ? { Gateway: c.gateway } : {}) })) }
      : null
    create.set(n.name, networkBody(n.name, n.driver || 'overlay', { ipam, internal: !!n.internal, attachable: !!n.attachable, options: n.driver_opts ?? null, labels: withStackLabel(ns, n.labels) }))
  }
  return { create, external }
}

/** convert.Secrets / convert.Configs: the specs of the stack's own (not external) objects. */
export function stackObjects(ns: string, s: StackFiles, kind: 'secrets' | 'configs', readFile: (path: string) => Buffer = (p) => readFileSync(p)): Json[] {
  const out: Json[] = []
  for (const [key, o] of Object.entries(s.model[kind])) {
    if (s.external[kind].has(key)) continue
    let data: Buffer
    if (o.file !== undefined) {
      try { data = readFile(o.file) } catch (err) { throw new StackError(`open ${o.file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`) }
    } else if (o.environment !== undefined) data = Buffer.from(s.model.environment[o.environment] ?? '')
    else data = Buffer.from(o.content ?? '')
    out.push({ Name: o.name, Labels: withStackLabel(ns, s.objectLabels[kind][key]), Data: data.toString('base64') })
  }
  return out
}

const ns2 = (v: number | undefined) => (v === undefined ? undefined : v)

function restartPolicy(svc: ServiceConfig, d: Dict | undefined): Json | undefined {
  const rp = d?.restart_policy as Dict | undefined
  if (rp) {
    return {
      ...(rp.condition ? { Condition: rp.condition } : {}),
      ...(rp.delay !== undefined ? { Delay: parseDuration(rp.delay, 'deploy.restart_policy.delay') } : {}),
      ...(rp.max_attempts !== undefined ? { MaxAttempts: Number(rp.max_attempts) } : {}),
      ...(rp.window !== undefined ? { Window: parseDuration(rp.window, 'deploy.restart_policy.window') } : {}),
    }
  }
  const r = svc.restart
  if (!r) return undefined
  if (r === 'no') return { Condition: 'none' }
  if (r === 'always' || r === 'unless-stopped') return { Condition: 'any' }
  const m = /^on-failure(?::(\d+))?$/.exec(r)
  if (m) return { Condition: 'on-failure', ...(m[1] ? { MaxAttempts: Number(m[1]) } : {}) }
  throw new StackError(`unknown restart policy: ${r}`)
}

function updateConfig(u: unknown, where: string): Json | undefined {
  if (!isDict(u)) return undefined
  const parallel = u.parallelism === undefined ? 1 : Number(u.parallelism)
  return {
    Parallelism: parallel,
    ...(u.delay !== undefined ? { Delay: parseDuration(u.delay, `${where}.delay`) } : {}),
    ...(u.failure_action ? { FailureAction: u.failure_action } : {}),
    ...(u.monitor !== undefined ? { Monitor: parseDuration(u.monitor, `${where}.monitor`) } : {}),
    MaxFailureRatio: u.max_failure_ratio === undefined ? 0 : Number(u.max_failure_ratio),
    ...(u.order ? { Order: u.order } : {}),
  }
}

function resources(d: Dict | undefined): Json {
  const r = d?.resources as Dict | undefined
  const out: Json = {}
  const cpu = (v: unknown, w: string) => {
    const n = Number(v)
    if (!Number.isFinite(n)) throw new StackError(`${w}: invalid cpus value ${String(v)}`)
    return Math.round(n * 1e9)
  }
  if (isDict(r?.limits)) {
    const l = r.limits
    out.Limits = {
      ...(l.cpus !== undefined ? { NanoCPUs: cpu(l.cpus, 'deploy.resources.limits.cpus') } : {}),
      ...(l.memory !== undefined ? { MemoryBytes: parseBytes(l.memory, 'deploy.resources.limits.memory') } : {}),
      ...(l.pids !== undefined ? { Pids: Number(l.pids) } : {}),
    }
  }
  if (isDict(r?.reservations)) {
    const l = r.reservations
    out.Reservations = {
      ...(l.cpus !== undefined ? { NanoCPUs: cpu(l.cpus, 'deploy.resources.reservations.cpus') } : {}),
      ...(l.memory !== undefined ? { MemoryBytes: parseBytes(l.memory, 'deploy.resources.reservations.memory') } : {}),
    }
  }
  return out
}

function mode(d: Dict | undefined): Json {
  const m = (d?.mode as string | undefined) ?? 'replicated'
  const replicas = d?.replicas === undefined ? 1 : Number(d.replicas)
  switch (m) {
    case 'global':
      if (d?.replicas !== undefined) throw new StackError('replicas can only be used with replicated or replicated-job mode')
      return { Global: {} }
    case 'replicated': case '':
      return { Replicated: { Replicas: replicas } }
    case 'replicated-job':
      return { ReplicatedJob: { MaxConcurrent: replicas, TotalCompletions: replicas } }
    case 'global-job':
      return { GlobalJob: {} }
    default:
      throw new StackError(`unknown mode: ${m}`)
  }
}

function fileRefs(ns: string, s: StackFiles, svc: ServiceConfig, raw: Dict, kind: 'secrets' | 'configs'): Array<{ name: string; file: Json }> {
  const list = Array.isArray(raw[kind]) ? (raw[kind] as unknown[]) : []
  return list.map((r) => {
    const d: Dict = typeof r === 'string' ? { source: r } : (r as Dict)
    const source = String(d.source)
    const obj = s.model[kind][source]
    if (!obj) throw new StackError(`undefined ${kind === 'secrets' ? 'secret' : 'config'} "${source}"`)
    const name = s.external[kind].has(source) ? obj.name : obj.name || scope(ns, source)
    return {
      name,
      file: { Name: d.target ? String(d.target) : source, UID: d.uid !== undefined ? String(d.uid) : '0', GID: d.gid !== undefined ? String(d.gid) : '0', Mode: d.mode !== undefined ? octalMode(d.mode) : 0o444 },
    }
  }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  void svc
}

/**
 * A file mode as docker's YAML reads it: `0400` is octal there (YAML 1.1), while this loader's
 * YAML 1.2 reads 400; a number whose digits are all octal ones is taken as written in octal.
 */
export function octalMode(v: unknown): number {
  const s = String(v).replace(/^0o/i, '')
  if (/^[0-7]+$/.test(s)) return parseInt(s, 8)
  return Number(v)
}

export interface StackService {
  /** Scoped name (`NS_web`). */
  name: string
  spec: Json
  /** Secret and config references whose IDs the daemon must fill in. */
  secrets: Array<{ name: string; file: Json }>
  configs: Array<{ name: string; file: Json }>
}

/** convert.Service for each service (sorted by name); secret/config IDs left to resolve. */
export function stackServices(ns: string, s: StackFiles): StackService[] {
  const out: StackService[] = []
  for (const key of Object.keys(s.model.services).sort()) {
    const svc = s.model.services[key]!
    const raw = s.rawServices[key] ?? {}
    const d = s.deploy[key]
    const name = scope(ns, key)
    const netKeys = Object.keys(svc.networks ?? {})
    const networks = (netKeys.length ? netKeys : ['default']).map((n) => {
      const cfg = s.model.networks[n]
      const target = cfg?.external ? cfg.name : cfg?.name ?? scope(ns, n)
      const aliases = [key, ...((svc.networks?.[n]?.aliases) ?? [])]
      return { Target: target, Aliases: aliases }
    }).sort((a, b) => (a.Target < b.Target ? -1 : a.Target > b.Target ? 1 : 0))
    const mounts = svc.volumes.map((v) => {
      const m: Json = { Type: v.type, Target: v.target }
      if (v.read_only) m.ReadOnly = true
      if (v.type === 'volume') {
        if (v.source) {
          const vol = s.model.volumes[v.source]
          m.Source = vol ? (vol.external ? vol.name : vol.name || scope(ns, v.source)) : v.source
          const opts: Json = {}
          if (v.volume?.nocopy) opts.NoCopy = true
          if (vol) {
            opts.Labels = withStackLabel(ns, vol.labels)
            if (vol.driver || vol.driver_opts) opts.DriverConfig = { ...(vol.driver ? { Name: vol.driver } : {}), ...(vol.driver_opts ? { Options: vol.driver_opts } : {}) }
          }
          if (Object.keys(opts).length) m.VolumeOptions = opts
        }
      } else if (v.type === 'bind') {
        m.Source = v.source
        if (v.bind?.propagation) m.BindOptions = { Propagation: v.bind.propagation }
      } else if (v.type === 'tmpfs') {
        if (v.tmpfs?.size) m.TmpfsOptions = { SizeBytes: v.tmpfs.size }
      }
      return m
    })
    const ports = [...svc.ports].map((p) => ({
      Protocol: p.protocol,
      TargetPort: p.target,
      ...(p.published ? { PublishedPort: Number(String(p.published).split('-')[0]) } : {}),
      PublishMode: p.mode,
    })).sort((a, b) => (a.PublishedPort ?? 0) - (b.PublishedPort ?? 0))
    const env = Object.entries(svc.environment).map(([k, v]) => (v === null ? k : `${k}=${v}`)).sort()
    const hc = svc.healthcheck
    const health = hc ? (hc.disable ? { Test: ['NONE'] } : {
      ...(hc.test ? { Test: hc.test } : {}),
      ...(hc.timeout ? { Timeout: hc.timeout } : {}),
      ...(hc.interval ? { Interval: hc.interval } : {}),
      ...(hc.retries ? { Retries: hc.retries } : {}),
      ...(hc.start_period ? { StartPeriod: hc.start_period } : {}),
      ...(hc.start_interval ? { StartInterval: hc.start_interval } : {}),
    }) : undefined
    const placement = (d?.placement ?? {}) as Dict
    const labels = withStackLabel(ns, isDict(d?.labels) ? Object.fromEntries(Object.entries(d.labels).map(([k, v]) => [k, String(v ?? '')])) : Array.isArray(d?.labels) ? Object.fromEntries((d.labels as string[]).map((l) => [l.split('=')[0]!, l.split('=').slice(1).join('=')])) : undefined)
    labels[LABEL_IMAGE] = svc.image!
    const caps = { add: (svc.cap_add ?? []).map((c) => (c.toUpperCase().startsWith('CAP_') || c.toUpperCase() === 'ALL' ? c.toUpperCase() : `CAP_${c.toUpperCase()}`)), drop: (svc.cap_drop ?? []).map((c) => (c.toUpperCase().startsWith('CAP_') || c.toUpperCase() === 'ALL' ? c.toUpperCase() : `CAP_${c.toUpperCase()}`)) }
    const cs: Json = {
      Image: svc.image,
      ...(svc.entrypoint ? { Command: svc.entrypoint } : {}),
      ...(svc.command ? { Args: svc.command } : {}),
      ...(svc.hostname ? { Hostname: svc.hostname } : {}),
      ...(svc.extra_hosts?.length ? { Hosts: svc.extra_hosts.map((h) => { const i = h.search(/[=:]/); return `${h.slice(i + 1)} ${h.slice(0, i)}` }) } : {}),
      ...(svc.dns || svc.dns_search || svc.dns_opt ? { DNSConfig: { ...(svc.dns ? { Nameservers: svc.dns } : {}), ...(svc.dns_search ? { Search: svc.dns_search } : {}), ...(svc.dns_opt ? { Options: svc.dns_opt } : {}) } } : {}),
      ...(health ? { Healthcheck: health } : {}),
      ...(env.length ? { Env: env } : {}),
      Labels: withStackLabel(ns, svc.labels),
      ...(svc.working_dir ? { Dir: svc.working_dir } : {}),
      ...(svc.user ? { User: svc.user } : {}),
      ...(mounts.length ? { Mounts: mounts } : {}),
      ...(svc.stop_grace_period !== undefined ? { StopGracePeriod: svc.stop_grace_period } : {}),
      ...(svc.stop_signal ? { StopSignal: svc.stop_signal } : {}),
      ...(svc.tty ? { TTY: true } : {}),
      ...(svc.stdin_open ? { OpenStdin: true } : {}),
      ...(svc.read_only ? { ReadOnly: true } : {}),
      Privileges: { CredentialSpec: null, SELinuxContext: null, NoNewPrivileges: false },
      ...(svc.init !== undefined ? { Init: svc.init } : {}),
      ...(svc.sysctls && Object.keys(svc.sysctls).length ? { Sysctls: svc.sysctls } : {}),
      ...(caps.add.length ? { CapabilityAdd: caps.add } : {}),
      ...(caps.drop.length ? { CapabilityDrop: caps.drop } : {}),
      ...(svc.ulimits ? { Ulimits: Object.entries(svc.ulimits).map(([n, u]) => ({ Name: n, Soft: u.soft, Hard: u.hard })).sort((a, b) => (a.Name < b.Name ? -1 : 1)) } : {}),
      ...(svc.oom_score_adj ? { OomScoreAdj: svc.oom_score_adj } : {}),
    }
    const restart = restartPolicy(svc, d)
    const spec: Json = {
      Name: name,
      Labels: labels,
      TaskTemplate: {
        ContainerSpec: cs,
        ...(svc.logging?.driver ? { LogDriver: { Name: svc.logging.driver, Options: svc.logging.options ?? {} } } : {}),
        Resources: resources(d),
        ...(restart ? { RestartPolicy: restart } : {}),
        Placement: {
          ...(Array.isArray(placement.constraints) && placement.constraints.length ? { Constraints: placement.constraints } : {}),
          ...(Array.isArray(placement.preferences) && placement.preferences.length ? { Preferences: (placement.preferences as Dict[]).map((p) => ({ Spread: { SpreadDescriptor: String(p.spread) } })) } : {}),
          ...(placement.max_replicas_per_node ? { MaxReplicas: Number(placement.max_replicas_per_node) } : {}),
        },
        Networks: networks,
        ForceUpdate: 0,
      },
      EndpointSpec: { ...(d?.endpoint_mode ? { Mode: String(d.endpoint_mode).toLowerCase() } : {}), ...(ports.length ? { Ports: ports } : {}) },
      Mode: mode(d),
      ...(updateConfig(d?.update_config, 'deploy.update_config') ? { UpdateConfig: updateConfig(d?.update_config, 'deploy.update_config') } : {}),
      ...(updateConfig(d?.rollback_config, 'deploy.rollback_config') ? { RollbackConfig: updateConfig(d?.rollback_config, 'deploy.rollback_config') } : {}),
    }
    out.push({ name, spec, secrets: fileRefs(ns, s, svc, raw, 'secrets'), configs: fileRefs(ns, s, svc, raw, 'configs') })
  }
  void ns2
  return out
}
