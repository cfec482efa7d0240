/**
 * `service create` and `service update` flags → the ServiceSpec wire JSON the docker CLI 28
 * sends (cli/command/service/opts.go): the same fields, defaults (swarmkit's when an
 * update-*, rollback-* or restart-* flag is given) and error messages. Pure, apart from the
 * resolver that turns network, secret and config names into IDs.
 */
import { shellSplit } from '../../compose/loader/normalize.js'
import { ramInBytes } from '../../lib/units.js'
import type { FlagValues } from '../flags.js'
import { kvMap, listFlag, parseGoDuration, type Json } from './swarm-util.js'

/** A flag value that does not parse: pflag's `invalid argument "v" for "--flag" flag: why`. */
export class FlagValueError extends Error {
  constructor(readonly flag: string, readonly value: string, readonly why: string) {
    super(`invalid argument "${value}" for "${flag}" flag: ${why}`)
  }
}

/** Looks names up on the daemon (or in a test). */
export interface SpecResolver {
  networkId(nameOrId: string): Promise<string>
  /** name → ID; a missing name is absent from the map. */
  secretIds(names: string[]): Promise<Map<string, string>>
  configIds(names: string[]): Promise<Map<string, string>>
}

const SHORTS: Record<string, string> = { env: '-e, --env', label: '-l, --label', publish: '-p, --publish', workdir: '-w, --workdir', user: '-u, --user' }
const display = (name: string) => SHORTS[name] ?? `--${name}`

export const UPDATE_DEFAULTS = { Parallelism: 1, FailureAction: 'pause', Monitor: 5e9, MaxFailureRatio: 0, Order: 'stop-first' }
export const RESTART_DEFAULTS = { Condition: 'any', Delay: 5e9, MaxAttempts: 0 }

const has = (f: FlagValues, k: string) => f[k] !== undefined

export function duration(f: FlagValues, k: string): number | undefined {
  const v = f[k] as string | undefined
  if (v === undefined) return undefined
  try { return parseGoDuration(v) } catch (err) { throw new FlagValueError(display(k), v, (err as Error).message) }
}

/** opts.PositiveDurationOpt: durations that may not be negative. */
function positiveDuration(f: FlagValues, k: string): number | undefined {
  const d = duration(f, k)
  if (d !== undefined && d < 0) throw new FlagValueError(display(k), f[k] as string, `duration cannot be negative`)
  return d
}

export function uint(f: FlagValues, k: string): number | undefined {
  const v = f[k] as string | undefined
  if (v === undefined) return undefined
  const s = v.trim()
  let n: number
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) n = parseInt(s.slice(2), 16)
  else if (/^0[oO]?[0-7]+$/.test(s) && s !== '0') n = parseInt(s.replace(/^0[oO]?/, ''), 8)
  else if (/^\d+$/.test(s)) n = Number(s)
  else throw new FlagValueError(display(k), v, `strconv.ParseUint: parsing ${JSON.stringify(v)}: invalid syntax`)
  return n
}

function float(f: FlagValues, k: string): number | undefined {
  const v = f[k] as string | undefined
  if (v === undefined) return undefined
  const n = Number(v)
  if (v.trim() === '' || !Number.isFinite(n)) throw new FlagValueError(display(k), v, `strconv.ParseFloat: parsing ${JSON.stringify(v)}: invalid syntax`)
  return n
}

/** opts.NanoCPUs: a decimal number of CPUs, in billionths. */
export function nanoCpus(f: FlagValues, k: string): number | undefined {
  const v = f[k] as string | undefined
  if (v === undefined) return undefined
  if (!/^\s*[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?\s*$/i.test(v) && !/^\s*\d+\/\d+\s*$/.test(v)) throw new FlagValueError(display(k), v, `failed to parse ${v} as a rational number`)
  const n = v.includes('/') ? Number(v.split('/')[0]) / Number(v.split('/')[1]) : Number(v)
  const nano = n * 1e9
  if (Math.abs(nano - Math.round(nano)) > 1e-6) throw new FlagValueError(display(k), v, 'value is too precise')
  return Math.round(nano)
}

export function memBytes(f: FlagValues, k: string): number | undefined {
  const v = f[k] as string | undefined
  if (v === undefined) return undefined
  try { return ramInBytes(v) } catch (err) { throw new FlagValueError(display(k), v, (err as Error).message) }
}

/** opts.ReadKVEnvStrings for -e: `KEY` alone takes the value from the environment when it is set. */
export function envList(list: string[], env: Record<string, string | undefined>): string[] {
  const out: string[] = []
  for (const e of list) {
    const eq = e.indexOf('=')
    if (eq === 0) throw new FlagValueError('-e, --env', e, `invalid environment variable: ${e}`)
    const v = eq < 0 && env[e] !== undefined ? `${e}=${env[e]}` : e
    const k = eq < 0 ? e : e.slice(0, eq)
    // makeEnv: a later value of a key replaces an earlier one
    for (let i = out.length - 1; i >= 0; i--) if (out[i] !== v && out[i]!.startsWith(`${k}=`)) out.splice(i, 1)
    out.push(v)
  }
  return out
}

/** CSV fields (encoding/csv, one record). */
export function csvFields(s: string): string[] {
  const out: string[] = []
  let cur = ''
  let q = false
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!
    if (q) {
      if (c === '"' && s[i + 1] === '"') { cur += '"'; i++ } else if (c === '"') q = false
      else cur += c
    } else if (c === '"' && cur === '') q = true
    else if (c === ',') { out.push(cur); cur = '' } else cur += c
  }
  out.push(cur)
  return out
}

/** swarmopts.PortOpt: `8080:80/tcp`, `80`, `8000-8001:80-81`, or `published=8080,target=80,protocol=udp,mode=host`. */
export function parsePorts(values: string[]): Json[] {
  const out: Json[] = []
  for (const value of values) {
    const bad = (why: string) => new FlagValueError('-p, --publish', value, why)
    if (/^[a-z_-]+=/i.test(value) || value.includes(',')) {
      const p: Json = { Protocol: 'tcp', PublishMode: 'ingress' }
      let target = false
      for (const field of csvFields(value)) {
        const eq = field.indexOf('=')
        if (eq < 0) throw bad(`invalid field ${field}`)
        const k = field.slice(0, eq).toLowerCase()
        const v = field.slice(eq + 1)
        switch (k) {
          case 'protocol':
            if (!['tcp', 'udp', 'sctp'].includes(v)) throw bad(`invalid protocol value '${v}'`)
            p.Protocol = v
            break
          case 'mode':
            if (v !== 'ingress' && v !== 'host') throw bad(`invalid publish mode value (${v}): must be either 'ingress' or 'host'`)
            p.PublishMode = v
            break
          case 'target': {
            const n = Number(v)
            if (!/^\d+$/.test(v) || n > 65535) throw bad(`invalid target port (${v}): value must be an integer: invalid syntax`)
            p.TargetPort = n
            target = true
            break
          }
          case 'published': {
            const n = Number(v)
            if (!/^\d+$/.test(v) || n > 65535) throw bad(`invalid published port (${v}): value must be an integer: invalid syntax`)
            p.PublishedPort = n
            break
          }
          default:
            throw bad(`invalid field key ${k}`)
        }
      }
      if (!target) throw bad('missing mandatory field "target"')
      out.push({ Protocol: p.Protocol, TargetPort: p.TargetPort, ...(p.PublishedPort ? { PublishedPort: p.PublishedPort } : {}), PublishMode: p.PublishMode })
      continue
    }
    const m = /^(?:(?:(.*):)?([\d-]*):)?(\d+(?:-\d+)?)(?:\/(tcp|udp|sctp))?$/i.exec(value)
    if (!m) throw bad(`invalid containerPort: ${value.split(':').pop()!.split('/')[0]}`)
    if (m[1]) throw bad('hostip is not supported')
    const proto = (m[4] ?? 'tcp').toLowerCase()
    const range = (s: string) => { const [a, b = a] = s.split('-'); return [Number(a), Number(b)] as const }
    const [t0, t1] = range(m[3]!)
    const pub = m[2] ? range(m[2]) : undefined
    if (pub && pub[1] - pub[0] !== t1 - t0 && pub[0] !== pub[1]) throw bad(`invalid ranges specified for container and host Ports: ${m[3]} and ${m[2]}`)
    for (let t = t0; t <= t1; t++) {
      const published = pub && pub[0] ? (pub[0] === pub[1] ? pub[0] : pub[0] + (t - t0)) : undefined
      out.push({ Protocol: proto, TargetPort: t, ...(published ? { PublishedPort: published } : {}), PublishMode: 'ingress' })
    }
  }
  return out
}

/** opts.MountOpt: `type=bind,source=/a,target=/b,readonly` ... */
export function parseMount(value: string): Json {
  const bad = (why: string) => new FlagValueError('--mount', value, why)
  const m: Json = {}
  let type = 'volume'
  const volumeOptions = (): Json => (m.VolumeOptions ??= {})
  const bool = (k: string, v: string | undefined): boolean => {
    if (v === undefined) return true
    const b = { '1': true, t: true, T: true, true: true, TRUE: true, True: true, '0': false, f: false, F: false, false: false, FALSE: false, False: false }[v]
    if (b === undefined) throw bad(`invalid value for ${k}: ${v}`)
    return b
  }
  for (const field of csvFields(value)) {
    const eq = field.indexOf('=')
    const k = (eq < 0 ? field : field.slice(0, eq)).toLowerCase()
    const v = eq < 0 ? undefined : field.slice(eq + 1)
    if (v === undefined && !['readonly', 'ro', 'volume-nocopy', 'bind-nonrecursive', 'bind-recursive'].includes(k)) throw bad(`invalid field '${field}' must be a key=value pair`)
    switch (k) {
      case 'type': type = v!.toLowerCase(); break
      case 'source': case 'src': m.Source = v; break
      case 'target': case 'dst': case 'destination': m.Target = v; break
      case 'readonly': case 'ro': m.ReadOnly = bool(k, v); break
      case 'consistency': m.Consistency = v; break
      case 'bind-propagation': (m.BindOptions ??= {}).Propagation = v; break
      case 'bind-nonrecursive': (m.BindOptions ??= {}).NonRecursive = bool(k, v); break
      case 'volume-nocopy': volumeOptions().NoCopy = bool(k, v); break
      case 'volume-subpath': volumeOptions().Subpath = v; break
      case 'volume-label': { const o = volumeOptions(); const [lk = '', lv = ''] = splitOnce(v!); (o.Labels ??= {})[lk] = lv; break }
      case 'volume-driver': { const o = volumeOptions(); (o.DriverConfig ??= {}).Name = v; break }
      case 'volume-opt': { const o = volumeOptions(); const [ok = '', ov = ''] = splitOnce(v!); const dc = (o.DriverConfig ??= {}); (dc.Options ??= {})[ok] = ov; break }
      case 'tmpfs-size': { try { (m.TmpfsOptions ??= {}).SizeBytes = ramInBytes(v!) } catch { throw bad(`invalid value for ${k}: ${v}`) } break }
      case 'tmpfs-mode': { const n = parseInt(v!, 8); if (Number.isNaN(n)) throw bad(`invalid value for ${k}: ${v}`); (m.TmpfsOptions ??= {}).Mode = n; break }
      default: throw bad(`unexpected key '${k}' in '${field}'`)
    }
  }
  if (!['bind', 'volume', 'tmpfs', 'npipe', 'cluster', 'image'].includes(type)) throw bad(`invalid mount type: ${type}`) // docker: `mount type %q not supported`
  if (!m.Target) throw bad('target is required')
  if (m.BindOptions && type !== 'bind') throw bad(`cannot mix 'bind-*' options with mount type '${type}'`)
  if (m.VolumeOptions && type !== 'volume') throw bad(`cannot mix 'volume-*' options with mount type '${type}'`)
  if (m.TmpfsOptions && type !== 'tmpfs') throw bad(`cannot mix 'tmpfs-*' options with mount type '${type}'`)
  return { Type: type, ...m }
}

function splitOnce(s: string): [string, string] {
  const i = s.indexOf('=')
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + 1)]
}

/** opts.NetworkOpt: `name` or `name=net,alias=a,driver-opt=k=v`. */
export function parseNetwork(value: string): { Target: string; Aliases?: string[]; DriverOpts?: Record<string, string> } {
  if (!value.includes('=')) return { Target: value }
  const n: { Target: string; Aliases?: string[]; DriverOpts?: Record<string, string> } = { Target: '' }
  for (const field of csvFields(value)) {
    const [k, v] = splitOnce(field)
    switch (k.toLowerCase()) {
      case 'name': n.Target = v; break
      case 'alias': (n.Aliases ??= []).push(v); break
      case 'driver-opt': { const [ok, ov] = splitOnce(v); (n.DriverOpts ??= {})[ok] = ov; break }
      default: throw new FlagValueError('--network', value, `invalid field key ${k}`)
    }
  }
  if (!n.Target) throw new FlagValueError('--network', value, 'network name/id is not specified')
  return n
}

export interface FileRef { source: string; target: string; uid: string; gid: string; mode: number }

/** opts.SecretOpt / ConfigOpt: `name` or `source=a,target=b,uid=0,gid=0,mode=0400`. */
export function parseFileRef(value: string, flag: string, kind: 'secret' | 'config'): FileRef {
  const r: FileRef = { source: '', target: '', uid: '0', gid: '0', mode: 0o444 }
  if (!value.includes('=')) {
    r.source = value
    r.target = value
    return r
  }
  for (const field of csvFields(value)) {
    const eq = field.indexOf('=')
    if (eq < 0) throw new FlagValueError(flag, value, `invalid field '${field}' must be a key=value pair`)
    const k = field.slice(0, eq).toLowerCase()
    const v = field.slice(eq + 1)
    switch (k) {
      case 'source': case 'src': r.source = v; break
      case 'target': r.target = v; break
      case 'uid': r.uid = v; break
      case 'gid': r.gid = v; break
      case 'mode': { const n = parseInt(v, 8); if (!/^[0-7]+$/.test(v)) throw new FlagValueError(flag, value, `invalid mode specified: strconv.ParseUint: parsing ${JSON.stringify(v)}: invalid syntax`); r.mode = n; break }
      default: throw new FlagValueError(flag, value, `invalid field in ${kind} request: ${k}`)
    }
  }
  if (!r.source) throw new FlagValueError(flag, value, `source is required`)
  if (!r.target) r.target = r.source
  return r
}

/** ParseSecrets / ParseConfigs: the references with IDs, Docker's errors for a missing or duplicate one. */
export async function resolveFileRefs(refs: FileRef[], kind: 'secret' | 'config', lookup: (names: string[]) => Promise<Map<string, string>>): Promise<Json[]> {
  const targets = new Set<string>()
  for (const r of refs) {
    if (targets.has(r.target)) throw new Error(`duplicate ${kind} target for ${r.source} not allowed`)
    targets.add(r.target)
  }
  const ids = await lookup([...new Set(refs.map((r) => r.source))])
  return refs.map((r) => {
    const id = ids.get(r.source)
    if (!id) throw new Error(`${kind} not found: ${r.source}`)
    const file = { Name: r.target, UID: r.uid, GID: r.gid, Mode: r.mode }
    return kind === 'secret' ? { File: file, SecretID: id, SecretName: r.source } : { File: file, ConfigID: id, ConfigName: r.source }
  })
}

function updateConfig(f: FlagValues, prefix: 'update' | 'rollback', base: Json | undefined): Json | undefined {
  const keys = ['parallelism', 'delay', 'monitor', 'failure-action', 'max-failure-ratio', 'order'].map((k) => `${prefix}-${k}`)
  if (!keys.some((k) => has(f, k))) return base
  const c: Json = { ...(base ?? UPDATE_DEFAULTS) }
  if (has(f, `${prefix}-parallelism`)) c.Parallelism = uint(f, `${prefix}-parallelism`)
  if (has(f, `${prefix}-delay`)) c.Delay = duration(f, `${prefix}-delay`)
  if (has(f, `${prefix}-monitor`)) c.Monitor = duration(f, `${prefix}-monitor`)
  if (has(f, `${prefix}-failure-action`)) c.FailureAction = f[`${prefix}-failure-action`]
  if (has(f, `${prefix}-max-failure-ratio`)) c.MaxFailureRatio = float(f, `${prefix}-max-failure-ratio`)
  if (has(f, `${prefix}-order`)) c.Order = f[`${prefix}-order`]
  // swarm.UpdateConfig's field order; the omitempty ones left out when zero
  const ordered: Json = {}
  for (const k of ['Parallelism', 'Delay', 'FailureAction', 'Monitor', 'MaxFailureRatio', 'Order']) if (c[k] !== undefined && (c[k] || k === 'Parallelism' || k === 'MaxFailureRatio')) ordered[k] = c[k]
  return ordered
}

function restartPolicy(f: FlagValues, base: Json | undefined): Json | undefined {
  if (!['restart-condition', 'restart-delay', 'restart-max-attempts', 'restart-window'].some((k) => has(f, k))) return base
  const r: Json = { ...(base ?? RESTART_DEFAULTS) }
  if (has(f, 'restart-delay')) r.Delay = duration(f, 'restart-delay')
  if (has(f, 'restart-condition')) r.Condition = f['restart-condition']
  if (has(f, 'restart-max-attempts')) r.MaxAttempts = uint(f, 'restart-max-attempts')
  if (has(f, 'restart-window')) r.Window = duration(f, 'restart-window')
  return r
}

function healthConfig(f: FlagValues, base: Json | undefined): Json | undefined {
  const interval = positiveDuration(f, 'health-interval')
  const timeout = positiveDuration(f, 'health-timeout')
  const startPeriod = positiveDuration(f, 'health-start-period')
  const startInterval = positiveDuration(f, 'health-start-interval')
  const cmd = f['health-cmd'] as string | undefined
  const retries = f['health-retries'] as number | undefined
  const any = !!cmd || interval !== undefined || timeout !== undefined || startPeriod !== undefined || startInterval !== undefined || !!retries
  if (f['no-healthcheck']) {
    if (any) throw new Error('--no-healthcheck conflicts with --health-* options')
    return { Test: ['NONE'] }
  }
  if (!any) return base
  const h: Json = { ...(base && base.Test?.[0] !== 'NONE' ? base : {}) }
  if (cmd !== undefined) h.Test = cmd ? ['CMD-SHELL', cmd] : undefined
  if (interval !== undefined) h.Interval = interval
  if (timeout !== undefined) h.Timeout = timeout
  if (startPeriod !== undefined) h.StartPeriod = startPeriod
  if (startInterval !== undefined) h.StartInterval = startInterval
  if (retries !== undefined) h.Retries = retries
  for (const k of Object.keys(h)) if (!h[k]) delete h[k]
  return h
}

function placementPrefs(list: string[], flag: string): Json[] {
  return list.map((v) => {
    const [strategy, arg] = splitOnce(v)
    if (!v.includes('=') || !strategy) throw new FlagValueError(flag, v, 'placement preference must be of the format "<strategy>=<arg>"')
    if (strategy !== 'spread') throw new FlagValueError(flag, v, `unsupported placement preference ${strategy} (only spread is supported)`)
    return { Spread: { SpreadDescriptor: arg } }
  })
}

function entrypoint(f: FlagValues): string[] | undefined {
  const v = f.entrypoint as string | undefined
  if (v === undefined) return undefined
  const parts = shellSplit(v)
  return parts.length ? parts : undefined
}

function resources(f: FlagValues, base: Json | undefined): Json {
  const r: Json = { Limits: { ...(base?.Limits ?? {}) }, Reservations: { ...(base?.Reservations ?? {}) } }
  const set = (o: Json, k: string, v: number | undefined) => { if (v !== undefined) { if (v) o[k] = v; else delete o[k] } }
  set(r.Limits, 'NanoCPUs', nanoCpus(f, 'limit-cpu'))
  set(r.Limits, 'MemoryBytes', memBytes(f, 'limit-memory'))
  set(r.Limits, 'Pids', f['limit-pids'] as number | undefined)
  set(r.Reservations, 'NanoCPUs', nanoCpus(f, 'reserve-cpu'))
  set(r.Reservations, 'MemoryBytes', memBytes(f, 'reserve-memory'))
  return r
}

function serviceMode(f: FlagValues): Json {
  const replicas = uint(f, 'replicas')
  const maxReplicas = uint(f, 'replicas-max-per-node') ?? 0
  const concurrent = uint(f, 'max-concurrent')
  const mode = (f.mode as string | undefined) ?? 'replicated'
  switch (mode) {
    case 'global':
      if (replicas !== undefined) throw new Error('replicas can only be used with replicated or replicated-job mode')
      if (maxReplicas > 0) throw new Error('replicas-max-per-node can only be used with replicated or replicated-job mode')
      if (concurrent !== undefined) throw new Error('max-concurrent can only be used with replicated-job mode')
      return { Global: {} }
    case 'replicated':
      if (concurrent !== undefined) throw new Error('max-concurrent can only be used with replicated-job mode')
      return { Replicated: replicas !== undefined ? { Replicas: replicas } : {} }
    case 'replicated-job': {
      const c = concurrent ?? replicas
      return { ReplicatedJob: { ...(c !== undefined ? { MaxConcurrent: c } : {}), ...(replicas !== undefined ? { TotalCompletions: replicas } : {}) } }
    }
    case 'global-job':
      if (maxReplicas > 0) throw new Error('replicas-max-per-node can only be used with replicated or replicated-job mode')
      if (concurrent !== undefined) throw new Error('max-concurrent can only be used with replicated-job mode')
      if (replicas !== undefined) throw new Error('replicas can only be used with replicated or replicated-job mode')
      return { GlobalJob: {} }
    default:
      throw new Error(`Unknown mode: ${mode}, only replicated and global supported`)
  }
}

/** opts.EffectiveCapAddCapDrop: CAP_ prefixes, ALL, and drop winning over add. */
function capabilities(add: string[], drop: string[]): { add: string[]; drop: string[] } {
  const norm = (c: string) => { const u = c.toUpperCase(); return u === 'ALL' || u.startsWith('CAP_') ? u : `CAP_${u}` }
  const a = [...new Set(add.map(norm))]
  const d = [...new Set(drop.map(norm))]
  if (a.includes('ALL')) return { add: ['ALL'], drop: d.filter((x) => x !== 'ALL') }
  return { add: a.filter((x) => !d.includes(x)), drop: d.includes('ALL') ? ['ALL'] : d }
}

/** `service create IMAGE [COMMAND] [ARG...]` with its flags → the ServiceSpec docker sends. */
export async function buildServiceSpec(f: FlagValues, image: string, args: string[], resolve: SpecResolver, env: Record<string, string | undefined> = process.env): Promise<Json> {
  const envs = envList([...(await readEnvFiles(listFlag(f['env-file']))), ...listFlag(f.env)], env)
  const health = healthConfig(f, undefined)
  const mode = serviceMode(f)
  const update = updateConfig(f, 'update', undefined)
  const rollback = updateConfig(f, 'rollback', undefined)
  if ((mode.ReplicatedJob || mode.GlobalJob) && (update || rollback)) throw new Error('update and rollback configuration is not supported for jobs')
  const networks: Json[] = []
  for (const n of listFlag(f.network).map(parseNetwork)) networks.push({ ...n, Target: await resolve.networkId(n.Target) })
  networks.sort((a, b) => (a.Target < b.Target ? -1 : a.Target > b.Target ? 1 : 0))
  const caps = capabilities(listFlag(f['cap-add']), listFlag(f['cap-drop']))
  const cs: Json = {
    Image: image,
    ...(Object.keys(kvMap(f['container-label'])).length ? { Labels: kvMap(f['container-label']) } : {}),
    ...(entrypoint(f) ? { Command: entrypoint(f) } : {}),
    ...(args.length ? { Args: args } : {}),
    ...(f.hostname ? { Hostname: f.hostname } : {}),
    ...(envs.length ? { Env: envs } : {}),
    ...(f.workdir ? { Dir: f.workdir } : {}),
    ...(f.user ? { User: f.user } : {}),
    ...(listFlag(f.group).length ? { Groups: listFlag(f.group) } : {}),
    Init: !!f.init,
    ...(f['stop-signal'] ? { StopSignal: f['stop-signal'] } : {}),
    ...(f.tty ? { TTY: true } : {}),
    ...(f['read-only'] ? { ReadOnly: true } : {}),
    ...(listFlag(f.mount).length ? { Mounts: listFlag(f.mount).map(parseMount) } : {}),
    ...(has(f, 'stop-grace-period') ? { StopGracePeriod: duration(f, 'stop-grace-period') } : {}),
    ...(health ? { Healthcheck: health } : {}),
    ...(listFlag(f.host).length ? { Hosts: listFlag(f.host).filter((h) => h.includes(':')).map((h) => { const i = h.indexOf(':'); return `${h.slice(i + 1)} ${h.slice(0, i)}` }) } : {}),
    DNSConfig: {
      ...(listFlag(f.dns).length ? { Nameservers: listFlag(f.dns) } : {}),
      ...(listFlag(f['dns-search']).length ? { Search: listFlag(f['dns-search']) } : {}),
      ...(listFlag(f['dns-option']).length ? { Options: listFlag(f['dns-option']) } : {}),
    },
    ...(f.isolation ? { Isolation: f.isolation } : {}),
    ...(listFlag(f.sysctl).length ? { Sysctls: kvMap(f.sysctl) } : {}),
    ...(caps.add.length ? { CapabilityAdd: caps.add } : {}),
    ...(caps.drop.length ? { CapabilityDrop: caps.drop } : {}),
    ...(listFlag(f.ulimit).length ? { Ulimits: listFlag(f.ulimit).map(parseUlimit) } : {}),
    ...(f['oom-score-adj'] ? { OomScoreAdj: f['oom-score-adj'] } : {}),
  }
  const secrets = listFlag(f.secret).map((s) => parseFileRef(s, '--secret', 'secret'))
  if (secrets.length) cs.Secrets = await resolveFileRefs(secrets, 'secret', (n) => resolve.secretIds(n))
  const configs = listFlag(f.config).map((s) => parseFileRef(s, '--config', 'config'))
  if (configs.length) cs.Configs = await resolveFileRefs(configs, 'config', (n) => resolve.configIds(n))
  const restart = restartPolicy(f, undefined)
  const placement: Json = {
    ...(listFlag(f.constraint).length ? { Constraints: listFlag(f.constraint) } : {}),
    ...(listFlag(f['placement-pref']).length ? { Preferences: placementPrefs(listFlag(f['placement-pref']), '--placement-pref') } : {}),
    ...(uint(f, 'replicas-max-per-node') ? { MaxReplicas: uint(f, 'replicas-max-per-node') } : {}),
  }
  const ports = parsePorts(listFlag(f.publish))
  const endpointMode = ((f['endpoint-mode'] as string | undefined) ?? 'vip').toLowerCase()
  const spec: Json = {
    ...(f.name ? { Name: f.name } : {}),
    Labels: kvMap(f.label),
    TaskTemplate: {
      ContainerSpec: cs,
      Resources: resources(f, undefined),
      ...(restart ? { RestartPolicy: restart } : {}),
      Placement: placement,
      ...(networks.length ? { Networks: networks } : {}),
      ...(f['log-driver'] ? { LogDriver: { Name: f['log-driver'], Options: kvMap(f['log-opt']) } } : {}),
      ForceUpdate: 0,
    },
    Mode: mode,
    ...(update ? { UpdateConfig: update } : {}),
    ...(rollback ? { RollbackConfig: rollback } : {}),
    EndpointSpec: { Mode: endpointMode, ...(ports.length ? { Ports: ports } : {}) },
  }
  return spec
}

function parseUlimit(u: string): Json {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(u)
  if (!m) throw new FlagValueError('--ulimit', u, `invalid ulimit argument: ${u}`)
  return { Name: m[1], Soft: Number(m[2]), Hard: Number(m[3] ?? m[2]) }
}

async function readEnvFiles(files: string[]): Promise<string[]> {
  if (!files.length) return []
  const { readFile } = await import('node:fs/promises')
  const out: string[] = []
  for (const file of files) {
    let text: string
    try { text = await readFile(file, 'utf8') } catch (err) { throw new Error(`open ${file}: no such file or directory`, { cause: err }) }
    for (const raw of text.split(/\r?\n/)) {
      const line = raw.replace(/^\s+/, '')
      if (!line || line.startsWith('#')) continue
      out.push(line)
    }
  }
  return out
}

// ---- service update ----

const removeKeys = (m: Record<string, string> | undefined, keys: string[]) => {
  const out = { ...(m ?? {}) }
  for (const k of keys) delete out[k.split('=')[0]!]
  return out
}

/** updateEnvironment: -add replaces a key's value, -rm removes by key. */
function updateEnv(cur: string[] | undefined, add: string[], rm: string[], env: Record<string, string | undefined>): string[] {
  const map = new Map<string, string>()
  for (const e of cur ?? []) map.set(e.split('=')[0]!, e)
  for (const e of envList(add, env)) map.set(e.split('=')[0]!, e)
  for (const k of rm) map.delete(k.split('=')[0]!)
  return [...map.values()]
}

/**
 * `service update` flags applied to a service's current spec (docker's updateService): only
 * what a flag names changes; -add/-rm forms edit lists and maps. Returns the new spec.
 */
export async function applyServiceUpdate(current: Json, f: FlagValues, resolve: SpecResolver, env: Record<string, string | undefined> = process.env): Promise<Json> {
  const spec: Json = structuredClone(current)
  const task: Json = (spec.TaskTemplate ??= {})
  const cs: Json = (task.ContainerSpec ??= {})
  if (has(f, 'label-add') || has(f, 'label-rm')) spec.Labels = { ...removeKeys(spec.Labels, listFlag(f['label-rm'])), ...kvMap(f['label-add']) }
  if (has(f, 'container-label-add') || has(f, 'container-label-rm')) cs.Labels = { ...removeKeys(cs.Labels, listFlag(f['container-label-rm'])), ...kvMap(f['container-label-add']) }
  if (has(f, 'image')) cs.Image = f.image
  if (has(f, 'args')) cs.Args = shellSplit(f.args as string)
  if (has(f, 'entrypoint')) { const e = entrypoint(f); if (e) cs.Command = e; else delete cs.Command }
  if (has(f, 'env-add') || has(f, 'env-rm')) cs.Env = updateEnv(cs.Env, listFlag(f['env-add']), listFlag(f['env-rm']), env)
  for (const [flag, key] of [['workdir', 'Dir'], ['user', 'User'], ['hostname', 'Hostname'], ['stop-signal', 'StopSignal']] as const) if (has(f, flag)) cs[key] = f[flag]
  if (has(f, 'init')) cs.Init = !!f.init
  if (has(f, 'tty')) cs.TTY = !!f.tty
  if (has(f, 'read-only')) cs.ReadOnly = !!f['read-only']
  if (has(f, 'stop-grace-period')) cs.StopGracePeriod = duration(f, 'stop-grace-period')
  const health = healthConfig(f, cs.Healthcheck)
  if (health) cs.Healthcheck = health
  if (has(f, 'mount-add') || has(f, 'mount-rm')) {
    const adds = listFlag(f['mount-add']).map(parseMount)
    const rm = new Set(listFlag(f['mount-rm']))
    const addTargets = new Set(adds.map((m) => m.Target))
    cs.Mounts = [...((cs.Mounts as Json[] | undefined) ?? []).filter((m) => !rm.has(m.Target) && !addTargets.has(m.Target)), ...adds]
  }
  if (has(f, 'secret-add') || has(f, 'secret-rm')) {
    const rm = new Set(listFlag(f['secret-rm']))
    const kept = ((cs.Secrets as Json[] | undefined) ?? []).filter((s) => !rm.has(s.SecretName) && !rm.has(s.SecretID))
    const adds = await resolveFileRefs(listFlag(f['secret-add']).map((s) => parseFileRef(s, '--secret-add', 'secret')), 'secret', (n) => resolve.secretIds(n))
    cs.Secrets = [...kept.filter((s) => !adds.some((a) => a.File.Name === s.File?.Name)), ...adds]
  }
  if (has(f, 'config-add') || has(f, 'config-rm')) {
    const rm = new Set(listFlag(f['config-rm']))
    const kept = ((cs.Configs as Json[] | undefined) ?? []).filter((s) => !rm.has(s.ConfigName) && !rm.has(s.ConfigID))
    const adds = await resolveFileRefs(listFlag(f['config-add']).map((s) => parseFileRef(s, '--config-add', 'config')), 'config', (n) => resolve.configIds(n))
    cs.Configs = [...kept.filter((s) => !adds.some((a) => a.File.Name === s.File?.Name)), ...adds]
  }
  if (['limit-cpu', 'limit-memory', 'limit-pids', 'reserve-cpu', 'reserve-memory'].some((k) => has(f, k))) task.Resources = resources(f, task.Resources)
  const restart = restartPolicy(f, task.RestartPolicy)
  if (restart) task.RestartPolicy = restart
  if (has(f, 'constraint-add') || has(f, 'constraint-rm') || has(f, 'placement-pref-add') || has(f, 'placement-pref-rm') || has(f, 'replicas-max-per-node')) {
    const p: Json = (task.Placement ??= {})
    if (has(f, 'constraint-add') || has(f, 'constraint-rm')) {
      const rm = new Set(listFlag(f['constraint-rm']))
      const list = ((p.Constraints as string[] | undefined) ?? []).filter((c) => !rm.has(c))
      for (const c of listFlag(f['constraint-add'])) if (!list.includes(c)) list.push(c)
      p.Constraints = list
    }
    if (has(f, 'placement-pref-add') || has(f, 'placement-pref-rm')) {
      const rm = placementPrefs(listFlag(f['placement-pref-rm']), '--placement-pref-rm').map((x) => x.Spread.SpreadDescriptor)
      const list = ((p.Preferences as Json[] | undefined) ?? []).filter((x) => !rm.includes(x.Spread?.SpreadDescriptor))
      p.Preferences = [...list, ...placementPrefs(listFlag(f['placement-pref-add']), '--placement-pref-add')]
    }
    if (has(f, 'replicas-max-per-node')) p.MaxReplicas = uint(f, 'replicas-max-per-node')
  }
  if (has(f, 'network-add') || has(f, 'network-rm')) {
    const current = ((task.Networks ?? spec.Networks) as Json[] | undefined) ?? []
    const rmIds = new Set<string>()
    for (const n of listFlag(f['network-rm'])) rmIds.add(await resolve.networkId(n).catch(() => n))
    const list = current.filter((n) => !rmIds.has(n.Target))
    for (const raw of listFlag(f['network-add'])) {
      const n = parseNetwork(raw)
      const id = await resolve.networkId(n.Target)
      if (list.some((x) => x.Target === id)) throw new Error(`service is already attached to network ${n.Target}`)
      list.push({ ...n, Target: id })
    }
    list.sort((a, b) => (a.Target < b.Target ? -1 : a.Target > b.Target ? 1 : 0))
    task.Networks = list
    delete spec.Networks
  }
  if (has(f, 'log-driver')) task.LogDriver = { Name: f['log-driver'], Options: kvMap(f['log-opt']) }
  if (has(f, 'force')) task.ForceUpdate = Number(task.ForceUpdate ?? 0) + (f.force ? 1 : 0)
  const update = updateConfig(f, 'update', spec.UpdateConfig)
  if (update) spec.UpdateConfig = update
  const rollback = updateConfig(f, 'rollback', spec.RollbackConfig)
  if (rollback) spec.RollbackConfig = rollback
  if (has(f, 'replicas')) {
    const mode = spec.Mode ?? {}
    if (mode.Replicated) mode.Replicated.Replicas = uint(f, 'replicas')
    else if (mode.ReplicatedJob) mode.ReplicatedJob.TotalCompletions = uint(f, 'replicas')
    else throw new Error('replicas can only be used with replicated or replicated-job mode')
  }
  if (has(f, 'endpoint-mode') || has(f, 'publish-add') || has(f, 'publish-rm')) {
    const ep: Json = (spec.EndpointSpec ??= {})
    if (has(f, 'endpoint-mode')) ep.Mode = String(f['endpoint-mode']).toLowerCase()
    if (has(f, 'publish-add') || has(f, 'publish-rm')) {
      const adds = parsePorts(listFlag(f['publish-add']))
      const rm = listFlag(f['publish-rm']).map((r) => {
        if (r.includes('=') || r.includes(':')) return parsePorts([r])[0]!
        const [port = '', proto = 'tcp'] = r.split('/')
        return { TargetPort: Number(port), Protocol: proto }
      })
      const kept = ((ep.Ports as Json[] | undefined) ?? []).filter((p) => !rm.some((x) => x.TargetPort === p.TargetPort && (x.Protocol ?? 'tcp') === (p.Protocol ?? 'tcp') && (x.PublishedPort === undefined || x.PublishedPort === p.PublishedPort)))
      const out = [...kept]
      for (const a of adds) if (!out.some((p) => p.PublishedPort && p.PublishedPort === a.PublishedPort && p.Protocol === a.Protocol && p.PublishMode === a.PublishMode)) out.push(a)
      out.sort((a, b) => (a.PublishedPort ?? 0) - (b.PublishedPort ?? 0) || a.TargetPort - b.TargetPort)
      ep.Ports = out
    }
  }
  return spec
}
