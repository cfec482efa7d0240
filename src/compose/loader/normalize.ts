import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { isAbsolute, resolve } from 'node:path'
import { invalid, isNotFoundErrno } from '../../lib/errors.js'
import type {
  BuildConfig, DependsOnConfig, FileObjectConfig, FileReference, HealthcheckConfig, NetworkConfig, PortConfig, ProjectModel, ServiceConfig,
  ServiceNetworkConfig, VolumeConfig, VolumeMountConfig,
} from '../model.js'
import { parseDotenv, type Lookup } from './interpolate.js'
import { Override, Reset } from './yaml.js'

type Dict = Record<string, unknown>
const isDict = (v: unknown): v is Dict => !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Reset) && !(v instanceof Override)

/** Attributes a list or a mapping may spell (`KEY=value` / `KEY: value`). */
const MAP_OR_LIST = ['environment', 'labels', 'annotations', 'sysctls']

/**
 * Put a file's tree into the shape merging needs: list-or-map attributes as maps, `networks`
 * and `depends_on` as maps, `build` as a mapping. Markers (`!reset`) are kept.
 */
export function canonicalize(tree: Dict): Dict {
  const services = tree.services
  if (!isDict(services)) return tree
  const out: Dict = {}
  for (const [name, s] of Object.entries(services)) {
    if (!isDict(s)) { out[name] = s; continue }
    const c: Dict = { ...s }
    for (const k of MAP_OR_LIST) if (Array.isArray(c[k])) c[k] = listToMap(c[k] as unknown[])
    if (typeof c.build === 'string') c.build = { context: c.build }
    if (isDict(c.build)) {
      const b = { ...c.build }
      for (const k of ['args', 'labels']) if (Array.isArray(b[k])) b[k] = listToMap(b[k] as unknown[])
      c.build = b
    }
    if (Array.isArray(c.networks)) c.networks = Object.fromEntries((c.networks as string[]).map((n) => [n, null]))
    if (Array.isArray(c.depends_on)) c.depends_on = Object.fromEntries((c.depends_on as string[]).map((n) => [n, { condition: 'service_started', required: true }]))
    if (isDict(c.extra_hosts)) c.extra_hosts = Object.entries(c.extra_hosts).flatMap(([h, ip]) => (Array.isArray(ip) ? ip : [ip]).map((x) => `${h}=${String(x)}`))
    out[name] = c
  }
  return { ...tree, services: out }
}

function listToMap(list: unknown[]): Dict {
  const out: Dict = {}
  for (const item of list) {
    const s = String(item)
    const eq = s.indexOf('=')
    if (eq < 0) out[s] = null
    else out[s.slice(0, eq)] = s.slice(eq + 1)
  }
  return out
}

/** Service attributes Berth maps to the Engine API; any other one is an error naming it. */
const SUPPORTED_SERVICE_KEYS = new Set([
  'image', 'build', 'command', 'entrypoint', 'environment', 'env_file', 'ports', 'expose', 'volumes', 'tmpfs', 'networks', 'network_mode',
  'depends_on', 'healthcheck', 'restart', 'deploy', 'scale', 'labels', 'container_name', 'hostname', 'domainname', 'user', 'working_dir',
  'stop_signal', 'stop_grace_period', 'init', 'privileged', 'cap_add', 'cap_drop', 'security_opt', 'ulimits', 'sysctls', 'logging',
  'extra_hosts', 'dns', 'dns_search', 'dns_opt', 'devices', 'read_only', 'shm_size', 'mem_limit', 'mem_reservation', 'memswap_limit',
  'cpus', 'cpu_shares', 'cpuset', 'pids_limit', 'oom_score_adj', 'links', 'external_links', 'secrets', 'configs', 'pull_policy', 'attach',
  'tty', 'stdin_open', 'platform', 'annotations', 'profiles', 'extends', 'ipc', 'pid', 'uts', 'group_add', 'runtime', 'mac_address',
  'cgroup_parent', 'develop',
])
const SUPPORTED_BUILD_KEYS = new Set(['context', 'dockerfile', 'dockerfile_inline', 'args', 'target', 'labels', 'cache_from', 'network', 'extra_hosts', 'shm_size', 'no_cache', 'pull', 'tags', 'platforms'])
const SUPPORTED_DEPLOY_KEYS = new Set(['replicas', 'resources', 'restart_policy', 'labels', 'mode'])

export interface NormalizeOptions {
  name: string
  workingDir: string
  configFiles: string[]
  environment: Record<string, string>
  lookup: Lookup
  profiles: string[]
  /** Services named on the command line: enabled whatever their profiles. */
  selected?: string[]
}

/** The merged tree → the typed model: long syntax everywhere, absolute paths, numbers. */
export function normalizeProject(tree: Dict, o: NormalizeOptions): ProjectModel {
  const extensions: Dict = {}
  for (const [k, v] of Object.entries(tree)) if (k.startsWith('x-')) extensions[k] = v
  const services: Record<string, ServiceConfig> = {}
  const disabled: Record<string, ServiceConfig> = {}
  for (const [name, raw] of Object.entries((tree.services as Dict | undefined) ?? {})) {
    const svc = normalizeService(name, (raw ?? {}) as Dict, o)
    const on = !svc.profiles?.length || svc.profiles.some((p) => o.profiles.includes(p) || p === '*') || o.profiles.includes('*') || o.selected?.includes(name)
    if (on) services[name] = svc
    else disabled[name] = svc
  }
  const networks: Record<string, NetworkConfig> = {}
  for (const [key, raw] of Object.entries((tree.networks as Dict | undefined) ?? {})) networks[key] = normalizeNetwork(o.name, key, (raw ?? {}) as Dict)
  const usesDefault = Object.values(services).some((s) => s.networks && 'default' in s.networks)
  if (usesDefault && !networks.default) networks.default = { name: `${o.name}_default` }
  const volumes: Record<string, VolumeConfig> = {}
  for (const [key, raw] of Object.entries((tree.volumes as Dict | undefined) ?? {})) volumes[key] = normalizeVolume(o.name, key, (raw ?? {}) as Dict)
  const secrets = fileObjects(o, 'secrets', tree.secrets as Dict | undefined)
  const configs = fileObjects(o, 'configs', tree.configs as Dict | undefined)
  const project: ProjectModel = { name: o.name, workingDir: o.workingDir, configFiles: o.configFiles, environment: o.environment, services, disabled, networks, volumes, secrets, configs, extensions }
  checkReferences(project)
  return project
}

function fileObjects(o: NormalizeOptions, kind: 'secrets' | 'configs', raw: Dict | undefined): Record<string, FileObjectConfig> {
  const out: Record<string, FileObjectConfig> = {}
  for (const [key, v] of Object.entries(raw ?? {})) {
    const d = (v ?? {}) as Dict
    for (const k of Object.keys(d)) if (!['file', 'environment', 'content', 'name', 'external', 'labels'].includes(k) && !k.startsWith('x-')) throw unsupported(`${kind}.${key}.${k}`)
    if (d.external) throw unsupported(`${kind}.${key}.external`, 'external secrets and configs need swarm mode')
    out[key] = {
      name: String(d.name ?? `${o.name}_${key}`),
      ...(d.file !== undefined ? { file: absPath(o.workingDir, String(d.file)) } : {}),
      ...(d.environment !== undefined ? { environment: String(d.environment) } : {}),
      ...(d.content !== undefined ? { content: String(d.content) } : {}),
    }
  }
  return out
}

function unsupported(path: string, why = 'not supported by berth compose yet') {
  return invalid('ERR_COMPOSE_UNSUPPORTED', `${path}: ${why}`)
}

function normalizeNetwork(project: string, key: string, d: Dict): NetworkConfig {
  for (const k of Object.keys(d)) if (!['driver', 'driver_opts', 'ipam', 'internal', 'external', 'name', 'labels', 'attachable', 'enable_ipv6'].includes(k) && !k.startsWith('x-')) throw unsupported(`networks.${key}.${k}`)
  const external = d.external === true || isDict(d.external)
  const name = String(d.name ?? (isDict(d.external) ? d.external.name : undefined) ?? (external ? key : `${project}_${key}`))
  const ipam = d.ipam as NetworkConfig['ipam'] | undefined
  return {
    name, ...(external ? { external: true } : {}),
    ...(d.driver !== undefined ? { driver: String(d.driver) } : {}),
    ...(d.driver_opts ? { driver_opts: stringMap(d.driver_opts) } : {}),
    ...(ipam ? { ipam } : {}),
    ...(d.internal !== undefined ? { internal: !!d.internal } : {}),
    ...(d.attachable !== undefined ? { attachable: !!d.attachable } : {}),
    ...(d.enable_ipv6 !== undefined ? { enable_ipv6: !!d.enable_ipv6 } : {}),
    ...(d.labels ? { labels: stringMap(Array.isArray(d.labels) ? listToMap(d.labels) : d.labels) } : {}),
  }
}

function normalizeVolume(project: string, key: string, d: Dict): VolumeConfig {
  for (const k of Object.keys(d)) if (!['driver', 'driver_opts', 'external', 'name', 'labels'].includes(k) && !k.startsWith('x-')) throw unsupported(`volumes.${key}.${k}`)
  const external = d.external === true || isDict(d.external)
  const name = String(d.name ?? (isDict(d.external) ? d.external.name : undefined) ?? (external ? key : `${project}_${key}`))
  return {
    name, ...(external ? { external: true } : {}),
    ...(d.driver !== undefined ? { driver: String(d.driver) } : {}),
    ...(d.driver_opts ? { driver_opts: stringMap(d.driver_opts) } : {}),
    ...(d.labels ? { labels: stringMap(Array.isArray(d.labels) ? listToMap(d.labels) : d.labels) } : {}),
  }
}

function stringMap(v: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries((v ?? {}) as Dict).map(([k, x]) => [k, x === null ? '' : String(x)]))
}

export function absPath(base: string, p: string): string {
  if (p === '~' || p.startsWith('~/')) return resolve(homedir(), p.slice(2))
  return isAbsolute(p) ? p : resolve(base, p)
}

const isLocalPath = (p: string) => p.startsWith('.') || p.startsWith('/') || p.startsWith('~') || p === '..'

/**
 * Rewrite the relative paths of a tree's services (build contexts, env files, bind sources,
 * secret/config files) against `base`: included projects and services extended from another
 * file keep pointing where their own file meant.
 */
export function absolutizePaths(tree: Dict, base: string): Dict {
  const out: Dict = { ...tree }
  if (isDict(tree.services)) {
    const services: Dict = {}
    for (const [name, s] of Object.entries(tree.services)) {
      if (!isDict(s)) { services[name] = s; continue }
      const c: Dict = { ...s }
      if (isDict(c.build) && typeof c.build.context === 'string' && !/^[a-z]+:\/\//.test(c.build.context)) c.build = { ...c.build, context: absPath(base, c.build.context) }
      else if (isDict(c.build) && c.build.context === undefined) c.build = { ...c.build, context: base }
      if (typeof c.env_file === 'string') c.env_file = [c.env_file]
      if (Array.isArray(c.env_file)) c.env_file = c.env_file.map((e) => (typeof e === 'string' ? absPath(base, e) : isDict(e) ? { ...e, path: absPath(base, String(e.path)) } : e))
      if (Array.isArray(c.volumes)) {
        c.volumes = c.volumes.map((v) => {
          if (typeof v === 'string') {
            const parts = v.split(':')
            if (parts.length >= 2 && isLocalPath(parts[0]!)) return [absPath(base, parts[0]!), ...parts.slice(1)].join(':')
            return v
          }
          if (isDict(v) && v.type === 'bind' && typeof v.source === 'string') return { ...v, source: absPath(base, v.source) }
          return v
        })
      }
      services[name] = c
    }
    out.services = services
  }
  for (const kind of ['secrets', 'configs']) {
    if (!isDict(tree[kind])) continue
    out[kind] = Object.fromEntries(Object.entries(tree[kind] as Dict).map(([k, v]) => [k, isDict(v) && typeof v.file === 'string' ? { ...v, file: absPath(base, v.file) } : v]))
  }
  return out
}

/** Go's time.ParseDuration (compose durations) → nanoseconds. */
export function parseDuration(v: unknown, where: string): number {
  if (typeof v === 'number') return v * 1e9
  const s = String(v).trim()
  if (s === '0') return 0
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy
  let total = 0
  let m: RegExpExecArray | null
  let at = 0
  const unit: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 }
  while ((m = re.exec(s))) { total += Number(m[1]) * unit[m[2]!]!; at = re.lastIndex }
  if (at !== s.length || s.length === 0) throw invalid('ERR_COMPOSE_DURATION', `${where}: invalid duration "${s}"`)
  return Math.round(total)
}

/** docker's RAMInBytes (`512m`, `1g`, `100kb`, plain bytes) → bytes. */
export function parseBytes(v: unknown, where: string): number {
  if (typeof v === 'number') return v
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?$/i.exec(String(v).trim())
  if (!m) throw invalid('ERR_COMPOSE_SIZE', `${where}: invalid size "${String(v)}"`)
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }[m[2]!.toLowerCase() as 'k']
  return Math.round(Number(m[1]) * mult)
}

/** Split a command string as a POSIX shell would (quotes, backslashes), for `command: echo "a b"`. */
export function shellSplit(s: string): string[] {
  const out: string[] = []
  let cur = ''
  let has = false
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!
    if (c === "'") { const j = s.indexOf("'", i + 1); if (j < 0) throw invalid('ERR_COMPOSE_COMMAND', `unterminated quote in "${s}"`); cur += s.slice(i + 1, j); i = j; has = true }
    else if (c === '"') {
      i++
      while (i < s.length && s[i] !== '"') { if (s[i] === '\\' && i + 1 < s.length && '"\\$`'.includes(s[i + 1]!)) i++; cur += s[i]; i++ }
      if (i >= s.length) throw invalid('ERR_COMPOSE_COMMAND', `unterminated quote in "${s}"`)
      has = true
    } else if (c === '\\' && i + 1 < s.length) { cur += s[++i]; has = true }
    else if (/\s/.test(c)) { if (has) { out.push(cur); cur = ''; has = false } }
    else { cur += c; has = true }
  }
  if (has) out.push(cur)
  return out
}

function normalizeService(name: string, d: Dict, o: NormalizeOptions): ServiceConfig {
  const at = (k: string) => `services.${name}.${k}`
  for (const k of Object.keys(d)) if (!SUPPORTED_SERVICE_KEYS.has(k) && !k.startsWith('x-')) throw unsupported(at(k))
  const svc: ServiceConfig = { name, environment: {}, ports: [], volumes: [], depends_on: {}, labels: {} }
  const str = (k: string) => (d[k] === undefined || d[k] === null ? undefined : String(d[k]))
  const list = (k: string) => (d[k] === undefined ? undefined : (Array.isArray(d[k]) ? d[k] as unknown[] : [d[k]]).map(String))
  if (Array.isArray(d.profiles)) svc.profiles = d.profiles.map(String)
  if (d.image !== undefined) svc.image = String(d.image)
  if (d.build !== undefined) svc.build = normalizeBuild(name, d.build as Dict, o)
  if (!svc.image && !svc.build) throw invalid('ERR_COMPOSE_NO_IMAGE', `service "${name}" has neither an image nor a build context specified: invalid compose project`)
  for (const k of ['command', 'entrypoint'] as const) {
    const v = d[k]
    if (v === null) svc[k] = null
    else if (typeof v === 'string') svc[k] = shellSplit(v)
    else if (Array.isArray(v)) svc[k] = v.map(String)
  }
  // env_file first, environment over it; a bare KEY takes the variable from the environment.
  const envFiles = d.env_file === undefined ? [] : Array.isArray(d.env_file) ? d.env_file : [d.env_file]
  for (const e of envFiles) {
    const path = absPath(o.workingDir, typeof e === 'string' ? e : String((e as Dict).path))
    const required = typeof e === 'string' ? true : (e as Dict).required !== false
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (err) {
      if (isNotFoundErrno(err) && !required) continue
      if (isNotFoundErrno(err)) throw invalid('ERR_COMPOSE_ENV_FILE', `env file ${path} not found: stat ${path}: no such file or directory (${at('env_file')})`)
      throw err
    }
    Object.assign(svc.environment, parseDotenv(text, path, o.lookup))
  }
  for (const [k, v] of Object.entries((d.environment ?? {}) as Dict)) {
    if (v === null) { const fromEnv = o.lookup(k); if (fromEnv !== undefined) svc.environment[k] = fromEnv; else svc.environment[k] = null }
    else svc.environment[k] = typeof v === 'boolean' || typeof v === 'number' ? String(v) : String(v)
  }
  if (Array.isArray(d.ports)) d.ports.forEach((p, i) => svc.ports.push(...normalizePort(p, `${at('ports')}[${i}]`)))
  if (d.expose !== undefined) svc.expose = list('expose')
  if (Array.isArray(d.volumes)) d.volumes.forEach((v, i) => svc.volumes.push(normalizeMount(v, `${at('volumes')}[${i}]`, o.workingDir)))
  if (d.tmpfs !== undefined) svc.tmpfs = list('tmpfs')
  if (d.network_mode !== undefined) svc.network_mode = String(d.network_mode)
  if (isDict(d.networks)) {
    svc.networks = {}
    for (const [net, cfg] of Object.entries(d.networks)) {
      if (!isDict(cfg)) { svc.networks[net] = null; continue }
      for (const k of Object.keys(cfg)) if (!['aliases', 'ipv4_address', 'ipv6_address', 'priority', 'mac_address', 'link_local_ips', 'driver_opts', 'gw_priority'].includes(k)) throw unsupported(`${at('networks')}.${net}.${k}`)
      const n: ServiceNetworkConfig = {}
      if (Array.isArray(cfg.aliases)) n.aliases = cfg.aliases.map(String)
      if (cfg.ipv4_address) n.ipv4_address = String(cfg.ipv4_address)
      if (cfg.ipv6_address) n.ipv6_address = String(cfg.ipv6_address)
      if (cfg.priority !== undefined) n.priority = Number(cfg.priority)
      if (cfg.mac_address) n.mac_address = String(cfg.mac_address)
      if (Array.isArray(cfg.link_local_ips)) n.link_local_ips = cfg.link_local_ips.map(String)
      if (cfg.driver_opts) n.driver_opts = stringMap(cfg.driver_opts)
      svc.networks[net] = n
    }
  } else if (svc.network_mode === undefined) svc.networks = { default: null }
  if (svc.network_mode !== undefined && d.networks !== undefined) throw invalid('ERR_COMPOSE_NETWORK_MODE', `service ${name} declares mutually exclusive \`network_mode\` and \`networks\``)
  for (const [dep, cfg] of Object.entries((d.depends_on ?? {}) as Dict)) {
    const c = (cfg ?? {}) as Dict
    svc.depends_on[dep] = {
      condition: (c.condition as DependsOnConfig['condition']) ?? 'service_started',
      restart: c.restart === true,
      required: c.required !== false,
    }
  }
  if (isDict(d.healthcheck)) svc.healthcheck = normalizeHealthcheck(d.healthcheck, at('healthcheck'))
  if (d.restart !== undefined) svc.restart = String(d.restart)
  if (isDict(d.deploy)) {
    const dep = d.deploy
    for (const k of Object.keys(dep)) if (!SUPPORTED_DEPLOY_KEYS.has(k)) throw unsupported(`${at('deploy')}.${k}`)
    if (dep.mode !== undefined && dep.mode !== 'replicated') throw unsupported(`${at('deploy')}.mode`, `mode ${String(dep.mode)} needs swarm mode`)
    const out: NonNullable<ServiceConfig['deploy']> = {}
    if (dep.replicas !== undefined) out.replicas = Number(dep.replicas)
    const res = dep.resources as Dict | undefined
    if (res) {
      out.resources = {}
      for (const [kind, r] of Object.entries(res)) {
        if (kind !== 'limits' && kind !== 'reservations') throw unsupported(`${at('deploy')}.resources.${kind}`)
        const rr = (r ?? {}) as Dict
        for (const k of Object.keys(rr)) if (!['cpus', 'memory', ...(kind === 'limits' ? ['pids'] : [])].includes(k)) throw unsupported(`${at('deploy')}.resources.${kind}.${k}`)
        out.resources[kind] = {
          ...(rr.cpus !== undefined ? { cpus: Number(rr.cpus) } : {}),
          ...(rr.memory !== undefined ? { memory: parseBytes(rr.memory, `${at('deploy')}.resources.${kind}.memory`) } : {}),
          ...(rr.pids !== undefined ? { pids: Number(rr.pids) } : {}),
        }
      }
    }
    const rp = dep.restart_policy as Dict | undefined
    if (rp) {
      for (const k of Object.keys(rp)) if (!['condition', 'max_attempts', 'delay', 'window'].includes(k)) throw unsupported(`${at('deploy')}.restart_policy.${k}`)
      out.restart_policy = {
        ...(rp.condition ? { condition: rp.condition as 'any' } : {}),
        ...(rp.max_attempts !== undefined ? { max_attempts: Number(rp.max_attempts) } : {}),
      }
      if (rp.delay !== undefined || rp.window !== undefined) throw unsupported(`${at('deploy')}.restart_policy.${rp.delay !== undefined ? 'delay' : 'window'}`)
    }
    if (dep.labels) out.labels = stringMap(Array.isArray(dep.labels) ? listToMap(dep.labels) : dep.labels)
    svc.deploy = out
  }
  if (d.scale !== undefined) svc.scale = Number(d.scale)
  svc.labels = stringMap(d.labels)
  for (const k of ['container_name', 'hostname', 'domainname', 'user', 'working_dir', 'stop_signal', 'platform', 'ipc', 'pid', 'uts', 'runtime', 'mac_address', 'cgroup_parent', 'cpuset'] as const) {
    const v = str(k)
    if (v !== undefined) (svc as unknown as Dict)[k] = v
  }
  if (d.stop_grace_period !== undefined) svc.stop_grace_period = parseDuration(d.stop_grace_period, at('stop_grace_period'))
  for (const k of ['init', 'privileged', 'read_only', 'attach', 'tty', 'stdin_open'] as const) if (d[k] !== undefined) (svc as unknown as Dict)[k] = d[k] === true || d[k] === 'true'
  for (const k of ['cap_add', 'cap_drop', 'security_opt', 'dns', 'dns_search', 'dns_opt', 'devices', 'links', 'external_links', 'group_add'] as const) {
    const v = list(k)
    if (v) (svc as unknown as Dict)[k] = v
  }
  if (isDict(d.ulimits)) {
    svc.ulimits = {}
    for (const [k, v] of Object.entries(d.ulimits)) svc.ulimits[k] = isDict(v) ? { soft: Number(v.soft), hard: Number(v.hard) } : { soft: Number(v), hard: Number(v) }
  }
  if (d.sysctls) svc.sysctls = stringMap(d.sysctls)
  if (isDict(d.logging)) svc.logging = { ...(d.logging.driver ? { driver: String(d.logging.driver) } : {}), ...(d.logging.options ? { options: stringMap(d.logging.options) } : {}) }
  if (Array.isArray(d.extra_hosts)) svc.extra_hosts = d.extra_hosts.map((h) => String(h).replace('=', ':'))
  for (const k of ['shm_size', 'mem_limit', 'mem_reservation', 'memswap_limit'] as const) if (d[k] !== undefined) svc[k] = parseBytes(d[k], at(k))
  if (d.cpus !== undefined) svc.cpus = Number(d.cpus)
  for (const k of ['cpu_shares', 'pids_limit', 'oom_score_adj'] as const) if (d[k] !== undefined) svc[k] = Number(d[k])
  for (const k of ['secrets', 'configs'] as const) {
    if (!Array.isArray(d[k])) continue
    svc[k] = (d[k] as unknown[]).map((r): FileReference => {
      if (typeof r === 'string') return { source: r, target: k === 'secrets' ? `/run/secrets/${r}` : `/${r}` }
      const rr = r as Dict
      const target = rr.target ? String(rr.target) : String(rr.source)
      return {
        source: String(rr.source),
        target: k === 'secrets' && !target.startsWith('/') ? `/run/secrets/${target}` : target.startsWith('/') ? target : `/${target}`,
        ...(rr.uid !== undefined ? { uid: String(rr.uid) } : {}), ...(rr.gid !== undefined ? { gid: String(rr.gid) } : {}),
        ...(rr.mode !== undefined ? { mode: typeof rr.mode === 'string' ? parseInt(rr.mode, 8) : Number(rr.mode) } : {}),
      }
    })
  }
  if (d.pull_policy !== undefined) svc.pull_policy = String(d.pull_policy) as ServiceConfig['pull_policy']
  if (d.annotations) svc.annotations = stringMap(d.annotations)
  if (isDict(d.develop)) {
    const watch = Array.isArray(d.develop.watch) ? d.develop.watch as Dict[] : []
    svc.develop = {
      watch: watch.map((w) => ({
        path: absPath(o.workingDir, String(w.path)), action: String(w.action) as 'sync',
        ...(w.target !== undefined ? { target: String(w.target) } : {}), ...(Array.isArray(w.ignore) ? { ignore: w.ignore.map(String) } : {}),
      })),
    }
  }
  const ext: Dict = {}
  for (const [k, v] of Object.entries(d)) if (k.startsWith('x-')) ext[k] = v
  if (Object.keys(ext).length) svc.extensions = ext
  return svc
}

function normalizeBuild(name: string, b: Dict, o: NormalizeOptions): BuildConfig {
  for (const k of Object.keys(b)) if (!SUPPORTED_BUILD_KEYS.has(k) && !k.startsWith('x-')) throw unsupported(`services.${name}.build.${k}`)
  const out: BuildConfig = { context: absPath(o.workingDir, String(b.context ?? '.')) }
  if (b.dockerfile_inline !== undefined) out.dockerfile_inline = String(b.dockerfile_inline)
  else out.dockerfile = String(b.dockerfile ?? 'Dockerfile')
  if (b.args) {
    out.args = {}
    for (const [k, v] of Object.entries(b.args as Dict)) out.args[k] = v === null ? o.lookup(k) ?? null : String(v)
  }
  if (b.target !== undefined) out.target = String(b.target)
  if (b.labels) out.labels = stringMap(b.labels)
  if (Array.isArray(b.cache_from)) out.cache_from = b.cache_from.map(String)
  if (b.network !== undefined) out.network = String(b.network)
  if (b.extra_hosts !== undefined) out.extra_hosts = (Array.isArray(b.extra_hosts) ? b.extra_hosts.map(String) : Object.entries(b.extra_hosts as Dict).map(([h, ip]) => `${h}=${String(ip)}`)).map((h) => h.replace('=', ':'))
  if (b.shm_size !== undefined) out.shm_size = parseBytes(b.shm_size, `services.${name}.build.shm_size`)
  if (b.no_cache !== undefined) out.no_cache = !!b.no_cache
  if (b.pull !== undefined) out.pull = !!b.pull
  if (Array.isArray(b.tags)) out.tags = b.tags.map(String)
  if (Array.isArray(b.platforms)) out.platforms = b.platforms.map(String)
  return out
}

function normalizeHealthcheck(h: Dict, where: string): HealthcheckConfig {
  const out: HealthcheckConfig = {}
  if (h.disable === true) return { disable: true }
  if (h.test !== undefined) {
    if (typeof h.test === 'string') out.test = ['CMD-SHELL', h.test]
    else out.test = (h.test as unknown[]).map(String)
    if (out.test[0] === 'NONE') return { disable: true }
  }
  for (const k of ['interval', 'timeout', 'start_period', 'start_interval'] as const) if (h[k] !== undefined) out[k] = parseDuration(h[k], `${where}.${k}`)
  if (h.retries !== undefined) out.retries = Number(h.retries)
  return out
}

/** `[ip:][host[-range]:]container[-range][/proto]` or the long syntax → one entry per port. */
export function normalizePort(p: unknown, where: string): PortConfig[] {
  if (isDict(p)) {
    const out: PortConfig = { mode: (p.mode as 'host') ?? 'ingress', target: Number(p.target), protocol: (p.protocol as 'tcp') ?? 'tcp' }
    if (p.host_ip) out.host_ip = String(p.host_ip)
    if (p.published !== undefined && p.published !== null && p.published !== '') out.published = String(p.published)
    if (p.name) out.name = String(p.name)
    if (p.app_protocol) out.app_protocol = String(p.app_protocol)
    if (!Number.isInteger(out.target) || out.target < 1 || out.target > 65535) throw invalid('ERR_COMPOSE_PORT', `${where}: invalid containerPort: ${String(p.target)}`)
    return [out]
  }
  let s = String(p)
  let protocol: PortConfig['protocol'] = 'tcp'
  const slash = s.lastIndexOf('/')
  if (slash >= 0) { protocol = s.slice(slash + 1) as 'tcp'; s = s.slice(0, slash) }
  if (!['tcp', 'udp', 'sctp'].includes(protocol)) throw invalid('ERR_COMPOSE_PORT', `${where}: invalid proto: ${protocol}`)
  let hostIp: string | undefined
  const v6 = /^\[([^\]]+)\]:(.*)$/.exec(s)
  if (v6) { hostIp = v6[1]; s = v6[2]! }
  const parts = s.split(':')
  if (parts.length > 3) throw invalid('ERR_COMPOSE_PORT', `${where}: invalid port "${String(p)}"`)
  if (parts.length === 3) { hostIp = parts[0] || undefined; parts.shift() }
  const [hostPart, ctrPart] = parts.length === 2 ? [parts[0]!, parts[1]!] : [undefined, parts[0]!]
  const range = (r: string): [number, number] => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(r)
    if (!m) throw invalid('ERR_COMPOSE_PORT', `${where}: invalid port "${String(p)}"`)
    const a = Number(m[1]); const b = Number(m[2] ?? m[1])
    if (a < 1 || b > 65535 || b < a) throw invalid('ERR_COMPOSE_PORT', `${where}: invalid port range "${r}"`)
    return [a, b]
  }
  const [c0, c1] = range(ctrPart)
  const out: PortConfig[] = []
  if (hostPart === undefined || hostPart === '') {
    for (let c = c0; c <= c1; c++) out.push({ mode: 'ingress', target: c, protocol, ...(hostIp ? { host_ip: hostIp } : {}) })
    return out
  }
  const [h0, h1] = range(hostPart)
  if (h1 - h0 === c1 - c0) {
    for (let i = 0; i <= c1 - c0; i++) out.push({ mode: 'ingress', target: c0 + i, published: String(h0 + i), protocol, ...(hostIp ? { host_ip: hostIp } : {}) })
  } else if (c0 === c1) {
    out.push({ mode: 'ingress', target: c0, published: `${h0}-${h1}`, protocol, ...(hostIp ? { host_ip: hostIp } : {}) })
  } else throw invalid('ERR_COMPOSE_PORT', `${where}: invalid ranges specified for container and host Ports: ${ctrPart} and ${hostPart}`)
  return out
}

/** A short (`src:dst[:mode]`) or long volume entry → the long form. */
export function normalizeMount(v: unknown, where: string, base: string): VolumeMountConfig {
  if (isDict(v)) {
    const type = String(v.type ?? 'volume') as VolumeMountConfig['type']
    if (!['volume', 'bind', 'tmpfs'].includes(type)) throw unsupported(`${where}.type`, `volume type ${type} is not supported by berth compose yet`)
    const out: VolumeMountConfig = { type, target: String(v.target) }
    if (v.source !== undefined && v.source !== null && v.source !== '') out.source = type === 'bind' ? absPath(base, String(v.source)) : String(v.source)
    if (v.read_only !== undefined) out.read_only = !!v.read_only
    if (isDict(v.bind)) out.bind = { ...(v.bind.propagation ? { propagation: String(v.bind.propagation) } : {}), create_host_path: v.bind.create_host_path !== false, ...(v.bind.selinux ? { selinux: v.bind.selinux as 'z' } : {}) }
    else if (type === 'bind') out.bind = { create_host_path: true }
    if (isDict(v.volume)) out.volume = { ...(v.volume.nocopy !== undefined ? { nocopy: !!v.volume.nocopy } : {}), ...(v.volume.subpath ? { subpath: String(v.volume.subpath) } : {}) }
    if (isDict(v.tmpfs)) out.tmpfs = { ...(v.tmpfs.size !== undefined ? { size: parseBytes(v.tmpfs.size, `${where}.tmpfs.size`) } : {}), ...(v.tmpfs.mode !== undefined ? { mode: Number(v.tmpfs.mode) } : {}) }
    if (v.consistency) out.consistency = String(v.consistency)
    return out
  }
  const s = String(v)
  const parts = s.split(':')
  if (parts.length === 1) return { type: 'volume', target: parts[0]! }
  if (parts.length > 3) throw invalid('ERR_COMPOSE_VOLUME', `${where}: invalid spec: ${s}: too many colons`)
  const [src, target, mode = ''] = parts as [string, string, string?]
  const opts = mode.split(',').filter(Boolean)
  for (const o of opts) if (!['ro', 'rw', 'z', 'Z', 'nocopy', 'shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate', 'consistent', 'cached', 'delegated'].includes(o)) throw invalid('ERR_COMPOSE_VOLUME', `${where}: invalid mode: ${o}`)
  const ro = opts.includes('ro')
  if (isLocalPath(src)) {
    const prop = opts.find((o) => /^r?(shared|slave|private)$/.test(o))
    const sel = opts.find((o) => o === 'z' || o === 'Z') as 'z' | undefined
    return { type: 'bind', source: absPath(base, src), target, ...(ro ? { read_only: true } : {}), bind: { create_host_path: true, ...(prop ? { propagation: prop } : {}), ...(sel ? { selinux: sel } : {}) } }
  }
  return { type: 'volume', source: src, target, ...(ro ? { read_only: true } : {}), ...(opts.includes('nocopy') ? { volume: { nocopy: true } } : {}) }
}

/** depends_on, networks, volumes, secrets and configs must name things that exist. */
function checkReferences(p: ProjectModel): void {
  for (const s of Object.values(p.services)) {
    for (const [dep, cfg] of Object.entries(s.depends_on)) {
      if (p.services[dep]) continue
      if (p.disabled[dep] && !cfg.required) { delete s.depends_on[dep]; continue }
      if (p.disabled[dep]) throw invalid('ERR_COMPOSE_DEPENDS_ON', `service "${s.name}" depends on undefined service "${dep}": invalid compose project (it is disabled by its profiles)`)
      if (!cfg.required) { delete s.depends_on[dep]; continue }
      throw invalid('ERR_COMPOSE_DEPENDS_ON', `service "${s.name}" depends on undefined service "${dep}": invalid compose project`)
    }
    for (const n of Object.keys(s.networks ?? {})) if (!p.networks[n]) throw invalid('ERR_COMPOSE_NETWORK', `service "${s.name}" refers to undefined network ${n}: invalid compose project`)
    for (const m of s.volumes) if (m.type === 'volume' && m.source && !p.volumes[m.source]) throw invalid('ERR_COMPOSE_VOLUME', `service "${s.name}" refers to undefined volume ${m.source}: invalid compose project`)
    for (const r of s.secrets ?? []) if (!p.secrets[r.source]) throw invalid('ERR_COMPOSE_SECRET', `service "${s.name}" refers to undefined secret ${r.source}: invalid compose project`)
    for (const r of s.configs ?? []) if (!p.configs[r.source]) throw invalid('ERR_COMPOSE_CONFIG', `service "${s.name}" refers to undefined config ${r.source}: invalid compose project`)
    const nm = s.network_mode
    if (nm?.startsWith('service:') && !p.services[nm.slice(8)]) throw invalid('ERR_COMPOSE_NETWORK_MODE', `service "${s.name}" depends on undefined service "${nm.slice(8)}": invalid compose project (network_mode)`)
  }
  // A cycle in depends_on is an error naming it.
  const state = new Map<string, 1 | 2>()
  const visit = (n: string, trail: string[]) => {
    if (state.get(n) === 2) return
    if (state.get(n) === 1) throw invalid('ERR_COMPOSE_CYCLE', `dependency cycle detected: ${[...trail.slice(trail.indexOf(n)), n].join(' -> ')}`)
    state.set(n, 1)
    const s = p.services[n]!
    const deps = [...Object.keys(s.depends_on), ...(s.network_mode?.startsWith('service:') ? [s.network_mode.slice(8)] : [])]
    for (const d of deps) if (p.services[d]) visit(d, [...trail, n])
    state.set(n, 2)
  }
  for (const n of Object.keys(p.services)) visit(n, [])
}
