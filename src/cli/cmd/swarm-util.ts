/**
 * Pieces the swarm command families share (swarm, node, service, secret, config, stack), as the
 * docker CLI 28 has them: Go durations, formatter.PrettyPrint, the task table of `service ps`,
 * `node ps` and `stack ps`, ID resolution, and the convergence progress of `service create`.
 */
import { ApiError, type EngineClient } from '../../client/client.js'
import { goTimeString } from '../../lib/gofmt/values.js'
import { humanDuration } from '../../lib/units.js'
import { CliExit, type CliContext } from '../context.js'
import { renderTable } from '../format.js'
import { GROUPS } from '../specs/swarm.js'
import { familiarString, parseNormalizedNamed } from '../../distribution/reference.js'

export type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

const UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 }

/** Go's time.ParseDuration, in nanoseconds; throws Go's message. */
export function parseGoDuration(s: string): number {
  const orig = s
  let neg = false
  if (s.startsWith('-') || s.startsWith('+')) { neg = s[0] === '-'; s = s.slice(1) }
  if (s === '0') return 0
  if (s === '') throw new Error(`time: invalid duration ${JSON.stringify(orig)}`)
  let total = 0
  while (s) {
    const m = /^(\d*)(?:\.(\d*))?/.exec(s)!
    if (!m[0] || m[0] === '.' || (m[1] === '' && (m[2] ?? '') === '')) throw new Error(`time: invalid duration ${JSON.stringify(orig)}`)
    s = s.slice(m[0].length)
    const u = /^[^\d.]+/.exec(s)?.[0]
    if (!u) throw new Error(`time: missing unit in duration ${JSON.stringify(orig)}`)
    if (UNITS[u] === undefined) throw new Error(`time: unknown unit ${JSON.stringify(u)} in duration ${JSON.stringify(orig)}`)
    s = s.slice(u.length)
    total += Number(`${m[1] || '0'}.${m[2] || '0'}`) * UNITS[u]!
  }
  return Math.round(neg ? -total : total)
}

/** Go's Duration.String: `1m30s`, `5s`, `100ms`, `0s`. */
export function goDurationString(ns: number): string {
  if (ns === 0) return '0s'
  const neg = ns < 0
  let u = Math.abs(Math.round(ns))
  const sign = neg ? '-' : ''
  const frac = (v: number, digits: number) => {
    const whole = Math.floor(v / 10 ** digits)
    const f = String(v % 10 ** digits).padStart(digits, '0').replace(/0+$/, '')
    return f ? `${whole}.${f}` : String(whole)
  }
  if (u < 1e3) return `${sign}${u}ns`
  if (u < 1e6) return `${sign}${frac(u, 3)}µs`
  if (u < 1e9) return `${sign}${frac(u, 6)}ms`
  const h = Math.floor(u / 3600e9); u -= h * 3600e9
  const m = Math.floor(u / 60e9); u -= m * 60e9
  let out = sign
  if (h) out += `${h}h`
  if (h || m) out += `${m}m`
  return `${out}${frac(u, 9)}s`
}

/** A flag value that failed to parse, as the docker CLI 28 prints it (exit status 125). */
export function flagError(ctx: CliContext, flag: string, value: string, why: string): CliExit {
  return usageError(ctx, `invalid argument "${value}" for "${flag}" flag: ${why}`)
}

/** docker 28's flag error: the message, the usage line, and where to get help (exit status 125). */
export function usageError(ctx: CliContext, message: string): CliExit {
  const [, group, sub] = ctx.commandPath.split(' ')
  const spec = GROUPS.find((g) => g.name === group)?.subcommands?.find((c) => c.name === sub)
  return new CliExit(125, `${message}\n\nUsage:  ${ctx.commandPath}${spec?.usage ? ` ${spec.usage}` : ''}\n\nRun '${ctx.commandPath} --help' for more information`)
}

export function durationFlag(ctx: CliContext, name: string, display = `--${name}`): number | undefined {
  const v = ctx.flags[name] as string | undefined
  if (v === undefined) return undefined
  try {
    return parseGoDuration(v)
  } catch (err) {
    throw flagError(ctx, display, v, (err as Error).message)
  }
}

/** formatter.PrettyPrint: the first letter upper case, the rest lower case. */
export function prettyPrint(v: unknown): string {
  if (v === null || v === undefined) return 'None'
  const s = v instanceof Date ? goTimeString(v) : String(v)
  if (s.length === 0) return s
  if (s.length === 1) return s.toLowerCase()
  return s[0]!.toUpperCase() + s.slice(1).toLowerCase()
}

/** A wire timestamp printed as Go prints a time.Time, then PrettyPrint'ed (`2026-12-02 14:53:30.5 +0000 utc`). */
export function prettyTime(ts: string | undefined): string {
  if (!ts) return prettyPrint(goTimeString(new Date(0)))
  return prettyPrint(goTimeString(new Date(ts)))
}

/** units.HumanDuration since a wire timestamp. */
export function since(ts: string | undefined): string {
  const t = ts ? Date.parse(ts) : 0
  return humanDuration(Math.max(0, Date.now() - (Number.isFinite(t) ? t : 0)))
}

/** stringid.TruncateID. */
export const trunc = (id: string | undefined): string => (id ?? '').slice(0, 12)

/** `k=v` strings as a map (opts.ConvertKVStringsToMap). */
export function kvMap(list: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  for (const s of (list as string[] | undefined) ?? []) {
    const i = s.indexOf('=')
    out[i < 0 ? s : s.slice(0, i)] = i < 0 ? '' : s.slice(i + 1)
  }
  return out
}

export const listFlag = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : [])

/** The image as `service ls` and `service ps` show it: familiar, the digest dropped when a tag is there. */
export function displayImage(image: string): string {
  try {
    const ref = parseNormalizedNamed(image)
    if (ref.tag !== undefined) return familiarString({ name: ref.name, domain: ref.domain, path: ref.path, tag: ref.tag })
  } catch {
    // not a reference: shown as is
  }
  return image
}

/** Resolves node and service IDs to names, as docker's idresolver (with --no-resolve, IDs stay). */
export class IdResolver {
  #cache = new Map<string, string>()
  constructor(private client: EngineClient, private noResolve = false) {}
  async node(id: string): Promise<string> {
    if (this.noResolve || !id) return id
    const key = `n:${id}`
    if (!this.#cache.has(key)) {
      try {
        const n = await this.client.json<Json>('GET', `/nodes/${encodeURIComponent(id)}`)
        this.#cache.set(key, (n.Spec?.Name as string) || (n.Description?.Hostname as string) || id)
      } catch (err) {
        if (!(err instanceof ApiError)) throw err
        this.#cache.set(key, id)
      }
    }
    return this.#cache.get(key)!
  }
  async service(id: string): Promise<string> {
    if (this.noResolve || !id) return id
    const key = `s:${id}`
    if (!this.#cache.has(key)) {
      try {
        const s = await this.client.json<Json>('GET', `/services/${encodeURIComponent(id)}`)
        this.#cache.set(key, (s.Spec?.Name as string) || id)
      } catch (err) {
        if (!(err instanceof ApiError)) throw err
        this.#cache.set(key, id)
      }
    }
    return this.#cache.get(key)!
  }
}

/** Natural string order (sortorder.NaturalLess): digit runs compare as numbers. */
export function naturalLess(a: string, b: string): number {
  const re = /(\d+|\D+)/g
  const pa = a.match(re) ?? []
  const pb = b.match(re) ?? []
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!
    const y = pb[i]!
    if (x === y) continue
    const dx = /^\d/.test(x)
    const dy = /^\d/.test(y)
    if (dx && dy) {
      const nx = BigInt(x)
      const ny = BigInt(y)
      if (nx !== ny) return nx < ny ? -1 : 1
      return x.length - y.length
    }
    return x < y ? -1 : 1
  }
  return pa.length - pb.length
}

export interface TaskRow {
  ID: string
  Name: string
  Image: string
  Node: string
  DesiredState: string
  CurrentState: string
  Error: string
  Ports: string
}

/**
 * The rows of docker's task.Print: names `service.slot` (or `service.nodeID` for global tasks),
 * sorted by name then newest first, older tasks of a slot indented ` \_ ` in table formats.
 */
export function taskRows(tasks: Json[], names: { service: (id: string) => string; node: (id: string) => string }, o: { trunc: boolean; table: boolean }): TaskRow[] {
  const named = tasks.map((t) => ({ t, name: t.Slot ? `${names.service(t.ServiceID)}.${t.Slot}` : `${names.service(t.ServiceID)}.${t.NodeID}` }))
  named.sort((a, b) => {
    if (a.name !== b.name) return naturalLess(a.name, b.name)
    return Date.parse(b.t.CreatedAt ?? '') - Date.parse(a.t.CreatedAt ?? '')
  })
  // names are kept per task ID, as docker's map: a task listed twice takes its last name
  let prev = ''
  const shownById = new Map<string, string>()
  for (const { t, name } of named) {
    shownById.set(t.ID, name === prev && o.table ? ` \\_ ${name}` : name)
    prev = name
  }
  return named.map(({ t }) => {
    const shown = shownById.get(t.ID)!
    const image = (t.Spec?.ContainerSpec?.Image as string | undefined) ?? ''
    let err = (t.Status?.Err as string | undefined) ?? ''
    if (o.trunc) err = ellipsisBytes(err, 30)
    const ports = ((t.Status?.PortStatus?.Ports as Json[] | undefined) ?? []).map((p) => `*:${p.PublishedPort}->${p.TargetPort}/${p.Protocol}`).join(',')
    return {
      ID: o.trunc ? trunc(t.ID) : t.ID,
      Name: shown,
      Image: o.trunc ? displayImage(image) : image,
      Node: names.node(t.NodeID ?? ''),
      DesiredState: prettyPrint(t.DesiredState ?? ''),
      CurrentState: `${prettyPrint(t.Status?.State ?? '')} ${since(t.Status?.Timestamp).toLowerCase()} ago`,
      Error: err ? `"${err}"` : '',
      Ports: ports,
    }
  })
}

function ellipsisBytes(s: string, max: number): string {
  const chars = [...s]
  if (chars.length <= max) return s
  return `${chars.slice(0, max - 1).join('')}…`
}

export const TASK_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.Image}}\t{{.Node}}\t{{.DesiredState}}\t{{.CurrentState}}\t{{.Error}}\t{{.Ports}}'
export const TASK_HEADERS = { ID: 'ID', Name: 'NAME', Image: 'IMAGE', Node: 'NODE', DesiredState: 'DESIRED STATE', CurrentState: 'CURRENT STATE', Error: 'ERROR', Ports: 'PORTS' }
const TASK_RAW = 'id: {{.ID}}\\nname: {{.Name}}\\nimage: {{.Image}}\\nnode: {{.Node}}\\ndesired_state: {{.DesiredState}}\\ncurrent_state: {{.CurrentState}}\\nerror: {{.Error}}\\nports: {{.Ports}}\\n'

/** task.Print: resolve names, then the table (or --format, -q) of the tasks. */
export async function printTasks(ctx: CliContext, tasks: Json[], o: { noTrunc?: boolean; noResolve?: boolean; quiet?: boolean; format?: string | undefined }): Promise<void> {
  const resolver = new IdResolver(ctx.client(), !!o.noResolve)
  const svc = new Map<string, string>()
  const nodes = new Map<string, string>()
  for (const t of tasks) {
    if (!svc.has(t.ServiceID)) svc.set(t.ServiceID, await resolver.service(t.ServiceID))
    if (!nodes.has(t.NodeID ?? '')) nodes.set(t.NodeID ?? '', await resolver.node(t.NodeID ?? ''))
  }
  let format = o.format
  if (!format) {
    const { readConfigFile } = await import('../config-file.js')
    const configured = (await readConfigFile(ctx.configDir)).tasksFormat as string | undefined
    format = configured && !o.quiet ? configured : 'table'
  }
  const quiet = !!o.quiet
  const noTrunc = quiet || !!o.noTrunc
  const resolved = format === 'table' ? (quiet ? '{{.ID}}' : TASK_TABLE) : format === 'raw' ? (quiet ? 'id: {{.ID}}' : TASK_RAW) : format
  const rows = taskRows(tasks, { service: (id) => svc.get(id) ?? id, node: (id) => nodes.get(id) ?? id }, { trunc: !noTrunc, table: resolved.startsWith('table') })
  await renderTable(ctx, { format: resolved, defaultFormat: TASK_TABLE, headers: TASK_HEADERS, rows })
}

/** Look a node up as docker's node.Reference does: `self` is this node. */
export async function nodeReference(client: EngineClient, ref: string): Promise<string> {
  if (ref !== 'self') return ref
  const info = await client.json<Json>('GET', '/info')
  const id = info.Swarm?.NodeID as string | undefined
  if (!id) throw new CliExit(1, 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.')
  return id
}

// ---- convergence progress (`service create` and `update` without -d) ----

const STATES: Record<string, number> = { new: 1, allocated: 2, pending: 3, assigned: 4, accepted: 5, preparing: 6, ready: 7, starting: 8, running: 9, complete: 10, shutdown: 11, failed: 12, rejected: 13 }
const terminal = (s: string) => (STATES[s] ?? 0) > STATES.running!
const LONGEST_STATE = 9 // "preparing", "allocated" (the non-terminal states and "complete")

function truncError(msg: string): string {
  msg = msg.replace(/\n/g, ' ')
  return msg.length > 75 ? `${msg.slice(0, 74)}…` : msg
}

export interface ProgressSink {
  /** A progress line with an ID (`overall progress: 1 out of 1 tasks`). */
  line(id: string, action: string): void
  /** A line with a progress bar, which the non-terminal display leaves out. */
  bar(id: string, action: string): void
}

/**
 * One step of docker's replicated/global progress updaters over the up-to-date tasks: writes
 * what changed and says whether the service has converged. State kept in `st`.
 */
export function progressStep(st: { initialized?: boolean; done?: boolean; slotMap?: Map<number, number> }, service: Json, tasks: Json[], activeNodes: Set<string>, rollback: boolean, out: ProgressSink): boolean {
  const overall = (n: number, d: number) => out.line('overall progress', rollback ? `rolling back update: ${n} out of ${d} tasks` : `${n} out of ${d} tasks`)
  const taskLine = (id: string, t: Json) => {
    if (t.Status?.Err) { out.line(id, truncError(t.Status.Err)); return }
    if (!terminal(t.DesiredState) && !terminal(t.Status?.State)) out.bar(id, String(t.Status?.State ?? '').padEnd(LONGEST_STATE))
  }
  const better = (existing: Json | undefined, t: Json) => {
    if (!existing) return true
    if ((STATES[existing.DesiredState] ?? 0) < (STATES[t.DesiredState] ?? 0)) return false
    if ((STATES[existing.DesiredState] ?? 0) === (STATES[t.DesiredState] ?? 0) && (STATES[existing.Status?.State] ?? 0) <= (STATES[t.Status?.State] ?? 0)) return false
    return true
  }
  const valid = (t: Json) => !!STATES[t.DesiredState] && !!STATES[t.Status?.State]
  const mode = service.Spec?.Mode ?? {}
  if (mode.Replicated) {
    const replicas = Number(mode.Replicated.Replicas ?? 0)
    if (!st.initialized) {
      st.slotMap = new Map()
      overall(0, replicas)
      if (replicas <= 20) for (let i = 1; i <= replicas; i++) out.line(`${i}/${replicas}`, ' ')
      st.initialized = true
    }
    const bySlot = new Map<number, Json>()
    for (const t of tasks) {
      if (!valid(t)) continue
      if (!better(bySlot.get(t.Slot), t)) continue
      if (t.NodeID && !activeNodes.has(t.NodeID)) continue
      bySlot.set(t.Slot, t)
    }
    if (st.done) for (const t of bySlot.values()) if (t.Status?.State !== 'running') { st.done = false; break }
    let running = 0
    for (const t of bySlot.values()) {
      let mapped = st.slotMap!.get(t.Slot)
      if (!mapped) { mapped = st.slotMap!.size + 1; st.slotMap!.set(t.Slot, mapped) }
      if (!terminal(t.DesiredState) && t.Status?.State === 'running') running++
      if (!st.done && replicas <= 20 && mapped <= replicas) taskLine(`${mapped}/${replicas}`, t)
    }
    if (!st.done) {
      overall(running, replicas)
      if (running === replicas) st.done = true
    }
    return running === replicas
  }
  // global
  const byNode = new Map<string, Json>()
  for (const t of tasks) {
    if (!valid(t)) continue
    if (!better(byNode.get(t.NodeID), t)) continue
    byNode.set(t.NodeID, t)
  }
  const count = byNode.size
  if (!st.initialized) {
    if (count === 0) { out.line('overall progress', 'waiting for new tasks'); return false }
    overall(0, count)
    st.initialized = true
  }
  if (st.done) for (const t of byNode.values()) if (t.Status?.State !== 'running') { st.done = false; break }
  let running = 0
  for (const t of byNode.values()) {
    if (!activeNodes.has(t.NodeID)) continue
    if (!terminal(t.DesiredState) && t.Status?.State === 'running') running++
    if (!st.done && count <= 20) taskLine(trunc(t.NodeID), t)
  }
  if (!st.done) {
    overall(running, count)
    if (running === count) st.done = true
  }
  return running === count
}

/**
 * WaitOnService: poll the service and its up-to-date tasks every 200 ms until it converged and
 * stayed so for the update monitor period (5 s by default), printing docker's progress lines as
 * its non-terminal display does (lines with a progress bar are left out). -q prints nothing.
 */
export async function waitOnService(ctx: CliContext, serviceId: string, quiet: boolean, opts: { pollMs?: number; signal?: AbortSignal } = {}): Promise<void> {
  const client = ctx.client()
  const write = (id: string, action: string) => { if (!quiet) ctx.out.write(`${id ? `${id}: ` : ''}${action}\n`) }
  const sink: ProgressSink = { line: write, bar: () => {} }
  const st: { initialized?: boolean; done?: boolean; slotMap?: Map<number, number> } = {}
  let converged = false
  let convergedAt = 0
  let rollback = false
  let message: [string, string] | undefined
  let interrupted = false
  const onSig = () => { interrupted = true }
  process.once('SIGINT', onSig)
  try {
    for (;;) {
      const service = await client.json<Json>('GET', `/services/${encodeURIComponent(serviceId)}`)
      const mon = Number(service.Spec?.UpdateConfig?.Monitor ?? 0)
      const monitorMs = mon ? mon / 1e6 : 5000
      const us = service.UpdateStatus
      if (us) {
        switch (us.State) {
          case 'updating': rollback = false; break
          case 'completed': if (!converged) return; break
          case 'paused': throw new CliExit(1, `service update paused: ${us.Message ?? ''}`)
          case 'rollback_started':
            if (!rollback && us.Message) write('rollback', us.Message)
            rollback = true
            break
          case 'rollback_paused': throw new CliExit(1, `service rollback paused: ${us.Message ?? ''}`)
          case 'rollback_completed':
            if (!converged) message = ['rollback', us.Message ?? '']
            rollback = true
            break
        }
      }
      if (converged && Date.now() - convergedAt >= monitorMs) {
        write('verify', `Service ${serviceId} converged`)
        if (message && !quiet) ctx.out.write(`${message[0]}: ${message[1]}\n`)
        return
      }
      const tasks = await client.json<Json[]>('GET', '/tasks', { query: { filters: JSON.stringify({ service: [service.ID], '_up-to-date': ['true'] }) } })
      const nodes = await client.json<Json[]>('GET', '/nodes')
      const active = new Set(nodes.filter((n) => n.Status?.State !== 'down').map((n) => n.ID as string))
      if (!service.Spec?.Mode?.Replicated && !service.Spec?.Mode?.Global) {
        // jobs: done when every task completed
        if (tasks.length && tasks.every((t) => t.Status?.State === 'complete')) { write('', 'job complete'); return }
      } else {
        converged = progressStep(st, service, tasks, active, rollback, sink)
      }
      if (converged) {
        if (!convergedAt) convergedAt = Date.now()
        const wait = monitorMs - (Date.now() - convergedAt)
        if (wait >= 0) write('verify', `Waiting ${Math.floor(wait / 1000) + 1} seconds to verify that tasks are stable...`)
      } else {
        if (convergedAt) write('verify', 'Detected task failure')
        convergedAt = 0
      }
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 200))
      if (interrupted || opts.signal?.aborted) {
        if (!converged && !quiet) ctx.out.write(`Operation continuing in background.\nUse \`docker service ps ${serviceId}\` to check progress.\n`)
        return
      }
    }
  } finally {
    process.off('SIGINT', onSig)
  }
}

/** imageWithTagString: the familiar name with a default tag (`nginx` → `nginx:latest`). */
export function imageWithTag(image: string): string {
  try {
    const r = parseNormalizedNamed(image)
    return familiarString(r.tag === undefined && r.digest === undefined ? { ...r, tag: 'latest' } : r)
  } catch {
    return ''
  }
}

/**
 * What the docker client library does to a spec's image before create/update: tag it, and with
 * QueryRegistry ask the daemon's distribution endpoint for the digest and platforms (image
 * becomes `name:tag@digest`, Placement.Platforms set) or return docker's warning.
 */
export async function resolveSpecImage(client: EngineClient, task: Json, queryRegistry: boolean, headers: Record<string, string> = {}): Promise<string[]> {
  const cs = task.ContainerSpec
  if (!cs) return []
  const tagged = imageWithTag(cs.Image ?? '')
  if (tagged) cs.Image = tagged
  if (!queryRegistry) return []
  try {
    const d = await client.json<Json>('GET', `/distribution/${cs.Image}/json`, { headers })
    const r = parseNormalizedNamed(cs.Image)
    if (r.digest === undefined && d.Descriptor?.digest) cs.Image = familiarString({ ...r, digest: d.Descriptor.digest })
    else if (r.digest !== undefined) cs.Image = ''
    const platforms = ((d.Platforms as Json[] | undefined) ?? []).map((p) => ({ Architecture: String(p.architecture ?? '').toLowerCase() === 'arm' ? '' : (p.architecture ?? ''), OS: p.os ?? '' }))
    if (platforms.length) (task.Placement ??= {}).Platforms = platforms
    return []
  } catch (err) {
    if (!(err instanceof ApiError)) throw err
    const img = cs.Image
    return [`image ${img} could not be accessed on a registry to record\nits digest. Each node will access ${img} independently,\npossibly leading to different nodes running different\nversions of the image.\n`]
  }
}

/** Property names whose values are Go maps: encoding/json prints their keys sorted. */
const GO_MAPS = new Set(['Labels', 'Options', 'DriverOpts', 'Sysctls', 'EnginePlugins', 'Annotations'])

/** An API object as docker's inspect prints it (json.Marshal of the Go struct: map keys sorted). */
export function goOrdered(v: unknown, isMap = false): unknown {
  if (Array.isArray(v)) return v.map((x) => goOrdered(x))
  if (!v || typeof v !== 'object') return v
  const entries = Object.entries(v as Json)
  if (isMap) entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return Object.fromEntries(entries.map(([k, x]) => [k, goOrdered(x, !isMap && GO_MAPS.has(k))]))
}

/** inspect of swarm objects: what was found (map keys sorted as Go prints them), then the errors. */
export async function inspectSwarm(ctx: CliContext, path: (ref: string) => string, query: Record<string, string | boolean> = {}, notFound?: (ref: string) => string): Promise<number> {
  const { printInspect } = await import('../format.js')
  const found: unknown[] = []
  const errors: string[] = []
  for (const ref of ctx.args) {
    try {
      found.push(goOrdered(await ctx.client().json('GET', path(ref), { query })))
    } catch (err) {
      if (!(err instanceof ApiError)) throw err
      errors.push(err.status === 404 && notFound ? notFound(ref) : `Error response from daemon: ${err.message}`)
    }
  }
  await printInspect(ctx, found, ctx.flags.format as string | undefined)
  if (errors.length) throw new CliExit(1, errors.join('\n'))
  return 0
}

/** Read a whole stream (stdin) as a Buffer. */
export async function readStream(s: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of s) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string))
  return Buffer.concat(chunks)
}
