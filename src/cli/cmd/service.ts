/** `berth service create|ls|inspect|ps|logs|update|rollback|scale|rm`, as the docker CLI 28. */
import { ApiError, demuxer, type EngineClient } from '../../client/client.js'
import { bytesSize } from '../../lib/units.js'
import { CliExit, type CliContext } from '../context.js'
import { eachArg, executeTemplate, filtersParam, printInspect, renderTable } from '../format.js'
import { applyServiceUpdate, buildServiceSpec, FlagValueError, type SpecResolver } from './service-opts.js'
import { displayImage, goDurationString, goOrdered, resolveSpecImage, usageError, IdResolver, naturalLess, printTasks, since, trunc, waitOnService, type Json } from './swarm-util.js'

/** Names → IDs through the daemon, as the docker CLI resolves them before create/update. */
export function daemonResolver(client: EngineClient): SpecResolver {
  const byName = async (kind: 'secrets' | 'configs', names: string[]) => {
    const out = new Map<string, string>()
    if (!names.length) return out
    const list = await client.json<Json[]>('GET', `/${kind}`, { query: { filters: JSON.stringify({ name: names }) } })
    for (const o of list) if (names.includes(o.Spec?.Name)) out.set(o.Spec.Name, o.ID)
    return out
  }
  return {
    async networkId(ref) {
      const n = await client.json<Json>('GET', `/networks/${encodeURIComponent(ref)}`, { query: { scope: 'swarm' } })
      return n.Id as string
    },
    secretIds: (names) => byName('secrets', names),
    configIds: (names) => byName('configs', names),
  }
}

/** Errors of flag values and of spec building, in docker's words and exit statuses. */
function specFailure(ctx: CliContext, err: unknown): never {
  if (err instanceof FlagValueError) throw usageError(ctx, err.message)
  if (err instanceof ApiError || err instanceof CliExit) throw err
  throw new CliExit(1, (err as Error).message)
}

async function registryAuth(ctx: CliContext, image: string): Promise<Record<string, string>> {
  const { parseNormalizedNamed } = await import('../../distribution/reference.js')
  const { registryAuthHeader } = await import('./registry.js')
  try {
    return await registryAuthHeader(ctx, parseNormalizedNamed(image).domain)
  } catch {
    return {}
  }
}

export async function create(ctx: CliContext): Promise<void> {
  const f = ctx.flags
  const [image = '', ...args] = ctx.args
  const client = ctx.client()
  let spec: Json
  try {
    spec = await buildServiceSpec(f, image, args, daemonResolver(client))
  } catch (err) {
    specFailure(ctx, err)
  }
  const headers = f['with-registry-auth'] ? await registryAuth(ctx, image) : {}
  const warnings = await resolveSpecImage(client, spec.TaskTemplate, !f['no-resolve-image'], headers)
  const res = await client.json<{ ID: string; Warnings?: string[] | null }>('POST', '/services/create', { body: spec, headers })
  for (const w of [...(res.Warnings ?? []), ...warnings]) ctx.err.write(`${w}\n`)
  ctx.out.write(`${res.ID}\n`)
  if (f.detach) return
  await waitOnService(ctx, res.ID, !!f.quiet)
}

/** AppendServiceStatus: running/desired counts from the tasks, for daemons that do not send ServiceStatus. */
async function appendStatus(client: EngineClient, services: Json[]): Promise<void> {
  const need = services.filter((s) => !s.ServiceStatus && (s.Spec?.Mode?.Replicated || s.Spec?.Mode?.Global))
  if (!need.length) return
  const status = new Map<string, { RunningTasks: number; DesiredTasks: number }>()
  for (const s of need) {
    s.ServiceStatus = { RunningTasks: 0, DesiredTasks: s.Spec.Mode.Replicated ? Number(s.Spec.Mode.Replicated.Replicas ?? 0) : 0 }
    status.set(s.ID, { RunningTasks: 0, DesiredTasks: 0 })
  }
  const tasks = await client.json<Json[]>('GET', '/tasks', { query: { filters: JSON.stringify({ service: need.map((s) => s.ID) }) } })
  if (!tasks.length) return
  const nodes = await client.json<Json[]>('GET', '/nodes')
  const active = new Set(nodes.filter((n) => n.Status?.State !== 'down').map((n) => n.ID))
  for (const t of tasks) {
    const st = status.get(t.ServiceID)
    if (!st) continue
    if (t.DesiredState !== 'shutdown') st.DesiredTasks++
    if (active.has(t.NodeID) && t.Status?.State === 'running') st.RunningTasks++
  }
  for (const s of need) s.ServiceStatus = status.get(s.ID)
}

function portRanges(ports: Json[] | undefined): string {
  if (!ports) return ''
  const sorted = [...ports].sort((a, b) => (a.Protocol === b.Protocol ? (a.PublishedPort ?? 0) - (b.PublishedPort ?? 0) : a.Protocol < b.Protocol ? -1 : 1))
  const out: string[] = []
  let pr = { pStart: 0, pEnd: 0, tStart: 0, tEnd: 0, protocol: '' }
  const str = (r: typeof pr) => `*:${r.pEnd > r.pStart ? `${r.pStart}-${r.pEnd}` : r.pStart}->${r.tEnd > r.tStart ? `${r.tStart}-${r.tEnd}` : r.tStart}/${r.protocol}`
  for (const p of sorted) {
    if (p.PublishMode !== 'ingress') continue
    const pub = Number(p.PublishedPort ?? 0)
    const tgt = Number(p.TargetPort ?? 0)
    const isRange = pr.tEnd !== pr.tStart
    const overlaps = tgt <= pr.tEnd
    if (p.Protocol !== pr.protocol || pub - pr.pEnd > 1 || tgt - pr.tEnd > 1 || (isRange && overlaps)) {
      if (pr.pStart > 0) out.push(str(pr))
      pr = { pStart: pub, pEnd: pub, tStart: tgt, tEnd: tgt, protocol: p.Protocol }
      continue
    }
    pr.pEnd = pub
    pr.tEnd = tgt
  }
  if (pr.pStart > 0) out.push(str(pr))
  return out.join(', ')
}

/** serviceContext: the row `service ls` gives a template. */
export function serviceRow(s: Json): Record<string, unknown> {
  const mode = s.Spec?.Mode ?? {}
  const modeName = mode.Global ? 'global' : mode.Replicated ? 'replicated' : mode.ReplicatedJob ? 'replicated job' : mode.GlobalJob ? 'global job' : ''
  const st = s.ServiceStatus ?? {}
  const running = Number(st.RunningTasks ?? 0)
  const desired = Number(st.DesiredTasks ?? 0)
  const completed = Number(st.CompletedTasks ?? 0)
  let replicas = `${running}/${desired}`
  if (mode.ReplicatedJob) replicas = `${running}/${desired} (${completed}/${mode.ReplicatedJob.TotalCompletions ?? 0} completed)`
  else if (mode.GlobalJob) replicas = `${running}/${desired} (${completed}/${desired + completed} completed)`
  else if (modeName === 'replicated' && s.Spec?.TaskTemplate?.Placement?.MaxReplicas > 0) replicas = `${running}/${desired} (max ${s.Spec.TaskTemplate.Placement.MaxReplicas} per node)`
  return {
    ID: trunc(s.ID),
    Name: s.Spec?.Name ?? '',
    Mode: modeName,
    Replicas: replicas,
    Image: displayImage(s.Spec?.TaskTemplate?.ContainerSpec?.Image ?? ''),
    Ports: portRanges(s.Endpoint?.Ports),
  }
}

export const SERVICE_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.Mode}}\t{{.Replicas}}\t{{.Image}}\t{{.Ports}}'
export const SERVICE_HEADERS = { ID: 'ID', Name: 'NAME', Mode: 'MODE', Replicas: 'REPLICAS', Image: 'IMAGE', Ports: 'PORTS' }

/** `service ls` and `stack services`: list (with status), sort by name, print. */
export async function listServices(ctx: CliContext, filters: Record<string, string[]>): Promise<void> {
  const f = ctx.flags
  const client = ctx.client()
  const query: Record<string, string> = {}
  if (Object.keys(filters).length) query.filters = JSON.stringify(filters)
  if (!f.quiet) query.status = 'true'
  const services = await client.json<Json[]>('GET', '/services', { query })
  if (!f.quiet) await appendStatus(client, services)
  let format = f.format as string | undefined
  if (!format) {
    const { readConfigFile } = await import('../config-file.js')
    const c = (await readConfigFile(ctx.configDir)).servicesFormat as string | undefined
    format = c && !f.quiet ? c : 'table'
  }
  services.sort((a, b) => naturalLess(a.Spec?.Name ?? '', b.Spec?.Name ?? ''))
  const raw = f.quiet ? 'id: {{.ID}}' : 'id: {{.ID}}\\nname: {{.Name}}\\nmode: {{.Mode}}\\nreplicas: {{.Replicas}}\\nimage: {{.Image}}\\nports: {{.Ports}}\\n'
  await renderTable(ctx, { format: format === 'raw' ? raw : format, quiet: !!f.quiet, defaultFormat: SERVICE_TABLE, headers: SERVICE_HEADERS, rows: services.map(serviceRow) })
}

export async function ls(ctx: CliContext): Promise<void> {
  await listServices(ctx, filtersParam(ctx.flags.filter as string[] | undefined))
}

export const SERVICE_PRETTY = `
ID:		{{.ID}}
Name:		{{.Name}}
{{- if .Labels }}
Labels:
{{- range $k, $v := .Labels }}
 {{ $k }}{{if $v }}={{ $v }}{{ end }}
{{- end }}{{ end }}
Service Mode:
{{- if .IsModeGlobal }}	Global
{{- else if .IsModeReplicated }}	Replicated
{{- if .ModeReplicatedReplicas }}
 Replicas:	{{ .ModeReplicatedReplicas }}
{{- end }}{{ end }}
{{- if .HasUpdateStatus }}
UpdateStatus:
 State:		{{ .UpdateStatusState }}
{{- if .HasUpdateStatusStarted }}
 Started:	{{ .UpdateStatusStarted }}
{{- end }}
{{- if .UpdateIsCompleted }}
 Completed:	{{ .UpdateStatusCompleted }}
{{- end }}
 Message:	{{ .UpdateStatusMessage }}
{{- end }}
Placement:
{{- if .TaskPlacementConstraints }}
 Constraints:	{{ .TaskPlacementConstraints }}
{{- end }}
{{- if .TaskPlacementPreferences }}
 Preferences:   {{ .TaskPlacementPreferences }}
{{- end }}
{{- if .MaxReplicas }}
 Max Replicas Per Node:   {{ .MaxReplicas }}
{{- end }}
{{- if .HasUpdateConfig }}
UpdateConfig:
 Parallelism:	{{ .UpdateParallelism }}
{{- if .HasUpdateDelay}}
 Delay:		{{ .UpdateDelay }}
{{- end }}
 On failure:	{{ .UpdateOnFailure }}
{{- if .HasUpdateMonitor}}
 Monitoring Period: {{ .UpdateMonitor }}
{{- end }}
 Max failure ratio: {{ .UpdateMaxFailureRatio }}
 Update order:      {{ .UpdateOrder }}
{{- end }}
{{- if .HasRollbackConfig }}
RollbackConfig:
 Parallelism:	{{ .RollbackParallelism }}
{{- if .HasRollbackDelay}}
 Delay:		{{ .RollbackDelay }}
{{- end }}
 On failure:	{{ .RollbackOnFailure }}
{{- if .HasRollbackMonitor}}
 Monitoring Period: {{ .RollbackMonitor }}
{{- end }}
 Max failure ratio: {{ .RollbackMaxFailureRatio }}
 Rollback order:    {{ .RollbackOrder }}
{{- end }}
ContainerSpec:
 Image:		{{ .ContainerImage }}
{{- if .ContainerArgs }}
 Args:		{{ range $arg := .ContainerArgs }}{{ $arg }} {{ end }}
{{- end -}}
{{- if .ContainerEnv }}
 Env:		{{ range $env := .ContainerEnv }}{{ $env }} {{ end }}
{{- end -}}
{{- if .ContainerWorkDir }}
 Dir:		{{ .ContainerWorkDir }}
{{- end -}}
{{- if .HasContainerInit }}
 Init:		{{ .ContainerInit }}
{{- end -}}
{{- if .ContainerUser }}
 User: {{ .ContainerUser }}
{{- end }}
{{- if .HasCapabilities }}
Capabilities:
{{- if .HasCapabilityAdd }}
 Add: {{ .CapabilityAdd }}
{{- end }}
{{- if .HasCapabilityDrop }}
 Drop: {{ .CapabilityDrop }}
{{- end }}
{{- end }}
{{- if .ContainerSysCtls }}
SysCtls:
{{- range $k, $v := .ContainerSysCtls }}
 {{ $k }}{{if $v }}: {{ $v }}{{ end }}
{{- end }}{{ end }}
{{- if .ContainerUlimits }}
Ulimits:
{{- range $k, $v := .ContainerUlimits }}
 {{ $k }}: {{ $v }}
{{- end }}{{ end }}
{{- if .ContainerMounts }}
Mounts:
{{- end }}
{{- range $mount := .ContainerMounts }}
 Target:	{{ $mount.Target }}
  Source:	{{ $mount.Source }}
  ReadOnly:	{{ $mount.ReadOnly }}
  Type:		{{ $mount.Type }}
{{- end -}}
{{- if .Configs}}
Configs:
{{- range $config := .Configs }}
 Target:	{{$config.File.Name}}
  Source:	{{$config.ConfigName}}
{{- end }}{{ end }}
{{- if .Secrets }}
Secrets:
{{- range $secret := .Secrets }}
 Target:	{{$secret.File.Name}}
  Source:	{{$secret.SecretName}}
{{- end }}{{ end }}
{{- if .HasLogDriver }}
Log Driver:
{{- if .HasLogDriverName }}
 Name:		{{ .LogDriverName }}
{{- end }}
{{- if .LogOpts }}
 LogOpts:
{{- range $k, $v := .LogOpts }}
  {{ $k }}{{if $v }}:       {{ $v }}{{ end }}
{{- end }}{{ end }}
{{ end }}
{{- if .HasResources }}
Resources:
{{- if .HasResourceReservations }}
 Reservations:
{{- if gt .ResourceReservationNanoCPUs 0.0 }}
  CPU:		{{ .ResourceReservationNanoCPUs }}
{{- end }}
{{- if .ResourceReservationMemory }}
  Memory:	{{ .ResourceReservationMemory }}
{{- end }}{{ end }}
{{- if .HasResourceLimits }}
 Limits:
{{- if gt .ResourceLimitsNanoCPUs 0.0 }}
  CPU:		{{ .ResourceLimitsNanoCPUs }}
{{- end }}
{{- if .ResourceLimitMemory }}
  Memory:	{{ .ResourceLimitMemory }}
{{- end }}{{ end }}{{ end }}
{{- if gt .ResourceLimitPids 0 }}
  PIDs:		{{ .ResourceLimitPids }}
{{- end }}
{{- if .Networks }}
Networks:
{{- range $network := .Networks }} {{ $network }}{{ end }} {{ end }}
Endpoint Mode:	{{ .EndpointMode }}
{{- if .Ports }}
Ports:
{{- range $port := .Ports }}
 PublishedPort = {{ $port.PublishedPort }}
  Protocol = {{ $port.Protocol }}
  TargetPort = {{ $port.TargetPort }}
  PublishMode = {{ $port.PublishMode }}
{{- end }} {{ end -}}
{{- if .Healthcheck }}
 Healthcheck:
  Interval = {{ .Healthcheck.Interval }}
  Retries = {{ .Healthcheck.Retries }}
  StartPeriod =	{{ .Healthcheck.StartPeriod }}
  Timeout =	{{ .Healthcheck.Timeout }}
  {{- if .Healthcheck.Test }}
  Tests:
	{{- range $test := .Healthcheck.Test }}
	 Test = {{ $test }}
  {{- end }} {{ end -}}
{{- end }}
`

/** serviceInspectContext: what the pretty template reads. */
export function servicePrettyContext(s: Json, networkNames: Map<string, string>): Record<string, unknown> {
  const spec = s.Spec ?? {}
  const mode = spec.Mode ?? {}
  const tt = spec.TaskTemplate ?? {}
  const cs = tt.ContainerSpec ?? {}
  const us = s.UpdateStatus
  const uc = spec.UpdateConfig
  const rc = spec.RollbackConfig
  const res = tt.Resources
  const cfgs = (c: Json | undefined, p: string) => ({
    [`Has${p}Config`]: !!c,
    [`${p}Parallelism`]: c?.Parallelism ?? 0,
    [`Has${p}Delay`]: Number(c?.Delay ?? 0) > 0,
    [`${p}Delay`]: goDurationString(Number(c?.Delay ?? 0)),
    [`${p}OnFailure`]: c?.FailureAction ?? '',
    [`Has${p}Monitor`]: Number(c?.Monitor ?? 0) > 0,
    [`${p}Monitor`]: goDurationString(Number(c?.Monitor ?? 0)),
    [`${p}MaxFailureRatio`]: c?.MaxFailureRatio ?? 0,
    [`${p}Order`]: c?.Order ?? '',
  })
  const hc = cs.Healthcheck
  return {
    ID: s.ID,
    Name: spec.Name ?? '',
    Labels: spec.Labels ?? {},
    IsModeGlobal: !!mode.Global,
    IsModeReplicated: !!mode.Replicated,
    ModeReplicatedReplicas: mode.Replicated?.Replicas ?? null,
    HasUpdateStatus: !!us && !!us.State,
    UpdateStatusState: us?.State ?? '',
    HasUpdateStatusStarted: !!us?.StartedAt,
    UpdateStatusStarted: us?.StartedAt ? `${since(us.StartedAt)} ago` : '',
    UpdateIsCompleted: us?.State === 'completed' && !!us?.CompletedAt,
    UpdateStatusCompleted: us?.CompletedAt ? `${since(us.CompletedAt)} ago` : '',
    UpdateStatusMessage: us?.Message ?? '',
    TaskPlacementConstraints: tt.Placement?.Constraints ?? null,
    TaskPlacementPreferences: ((tt.Placement?.Preferences as Json[] | undefined) ?? []).filter((p) => p.Spread).map((p) => `spread=${p.Spread.SpreadDescriptor}`),
    MaxReplicas: tt.Placement?.MaxReplicas ?? 0,
    ...cfgs(uc, 'Update'),
    ...cfgs(rc, 'Rollback'),
    ContainerImage: cs.Image ?? '',
    ContainerArgs: cs.Args ?? [],
    ContainerEnv: cs.Env ?? [],
    ContainerWorkDir: cs.Dir ?? '',
    HasContainerInit: cs.Init !== undefined && cs.Init !== null,
    ContainerInit: !!cs.Init,
    ContainerUser: cs.User ?? '',
    HasCapabilities: !!(cs.CapabilityAdd?.length || cs.CapabilityDrop?.length),
    HasCapabilityAdd: !!cs.CapabilityAdd?.length,
    CapabilityAdd: (cs.CapabilityAdd ?? []).join(', '),
    HasCapabilityDrop: !!cs.CapabilityDrop?.length,
    CapabilityDrop: (cs.CapabilityDrop ?? []).join(', '),
    ContainerSysCtls: cs.Sysctls ?? {},
    ContainerUlimits: Object.fromEntries(((cs.Ulimits as Json[] | undefined) ?? []).map((u) => [u.Name, `${u.Soft}:${u.Hard}`])),
    ContainerMounts: ((cs.Mounts as Json[] | undefined) ?? []).map((m) => ({ Target: m.Target ?? '', Source: m.Source ?? '', ReadOnly: !!m.ReadOnly, Type: m.Type ?? '' })),
    Configs: cs.Configs ?? [],
    Secrets: cs.Secrets ?? [],
    HasLogDriver: !!tt.LogDriver,
    HasLogDriverName: !!tt.LogDriver?.Name,
    LogDriverName: tt.LogDriver?.Name ?? '',
    LogOpts: tt.LogDriver?.Options ?? {},
    HasResources: !!res,
    HasResourceReservations: !!res?.Reservations && (Number(res.Reservations.NanoCPUs ?? 0) > 0 || Number(res.Reservations.MemoryBytes ?? 0) > 0),
    ResourceReservationNanoCPUs: Number(res?.Reservations?.NanoCPUs ?? 0) / 1e9,
    ResourceReservationMemory: Number(res?.Reservations?.MemoryBytes ?? 0) ? bytesSize(Number(res.Reservations.MemoryBytes)) : '',
    HasResourceLimits: !!res?.Limits && (Number(res.Limits.NanoCPUs ?? 0) > 0 || Number(res.Limits.MemoryBytes ?? 0) > 0 || Number(res.Limits.Pids ?? 0) > 0),
    ResourceLimitsNanoCPUs: Number(res?.Limits?.NanoCPUs ?? 0) / 1e9,
    ResourceLimitMemory: Number(res?.Limits?.MemoryBytes ?? 0) ? bytesSize(Number(res.Limits.MemoryBytes)) : '',
    ResourceLimitPids: Number(res?.Limits?.Pids ?? 0),
    Networks: ((tt.Networks as Json[] | undefined) ?? []).map((n) => networkNames.get(n.Target) ?? n.Target),
    EndpointMode: spec.EndpointSpec?.Mode ?? '',
    Ports: s.Endpoint?.Ports ?? [],
    Healthcheck: hc ? {
      Interval: goDurationString(Number(hc.Interval ?? 0)), Retries: hc.Retries ?? 0,
      StartPeriod: goDurationString(Number(hc.StartPeriod ?? 0)), Timeout: goDurationString(Number(hc.Timeout ?? 0)), Test: hc.Test ?? [],
    } : null,
  }
}

export async function inspect(ctx: CliContext): Promise<number> {
  const f = ctx.flags
  const client = ctx.client()
  let format = f.format as string | undefined
  if (f.pretty) {
    if (format) throw new CliExit(1, 'Cannot supply extra formatting options to the pretty template')
    format = 'pretty'
  }
  if (!format) {
    const { readConfigFile } = await import('../config-file.js')
    format = ((await readConfigFile(ctx.configDir)).serviceInspectFormat as string | undefined) || undefined
  }
  if (format?.startsWith('pretty') && format !== 'pretty') throw new CliExit(1, 'Cannot supply extra formatting options to the pretty template')
  const found: Json[] = []
  const errors: string[] = []
  for (const ref of ctx.args) {
    try {
      found.push(await client.json<Json>('GET', `/services/${encodeURIComponent(ref)}`, { query: { insertDefaults: true } }))
    } catch (err) {
      if (!(err instanceof ApiError)) throw err
      const msg = err.status === 404 ? `Error: no such service: ${ref}` : `Error response from daemon: ${err.message}`
      if (format === 'pretty') throw new CliExit(1, msg)
      errors.push(msg)
    }
  }
  if (format === 'pretty') {
    for (const s of found) {
      const names = new Map<string, string>()
      for (const n of (s.Spec?.TaskTemplate?.Networks as Json[] | undefined) ?? []) {
        try {
          const net = await client.json<Json>('GET', `/networks/${encodeURIComponent(n.Target)}`, { query: { scope: 'swarm' } })
          names.set(n.Target, net.Name)
        } catch (err) {
          if (!(err instanceof ApiError)) throw err
          if (err.status === 404) throw new CliExit(1, `Error: no such network: ${n.Target}`)
          throw err
        }
      }
      ctx.out.write(`${executeTemplate(SERVICE_PRETTY, servicePrettyContext(s, names))}\n`)
    }
    return 0
  }
  await printInspect(ctx, found.map((s) => goOrdered(s)), format)
  if (errors.length) throw new CliExit(1, errors.join('\n'))
  return 0
}

/** createFilter of `service ps`: services by ID, name, then unique ID prefix; docker's errors. */
export async function psFilter(client: EngineClient, refs: string[], base: Record<string, string[]>): Promise<{ filters: Record<string, string[]>; notFound: string[] }> {
  const byId = await client.json<Json[]>('GET', '/services', { query: { filters: JSON.stringify({ id: refs }) } })
  const byName = await client.json<Json[]>('GET', '/services', { query: { filters: JSON.stringify({ name: refs }) } })
  const filters = { ...base }
  const notFound: string[] = []
  let count = 0
  const add = (id: string) => { (filters.service ??= []).push(id); count++ }
  for (const ref of refs) {
    const exact = byId.find((s) => s.ID === ref) ?? byName.find((s) => s.Spec?.Name === ref)
    if (exact) { add(exact.ID); continue }
    const prefixed = byId.filter((s) => String(s.ID).startsWith(ref))
    if (prefixed.length > 1) throw new CliExit(1, `multiple services found with provided prefix: ${ref}`)
    if (prefixed.length === 1) { add(prefixed[0]!.ID); continue }
    notFound.push(`no such service: ${ref}`)
  }
  if (count === 0) throw new CliExit(1, notFound.join('\n'))
  return { filters, notFound }
}

export async function ps(ctx: CliContext): Promise<void> {
  const f = ctx.flags
  const client = ctx.client()
  const { filters, notFound } = await psFilter(client, ctx.args, filtersParam(f.filter as string[] | undefined))
  if (filters.node) {
    const { nodeReference } = await import('./swarm-util.js')
    filters.node = await Promise.all(filters.node.map((n) => nodeReference(client, n)))
  }
  const tasks = await client.json<Json[]>('GET', '/tasks', { query: { filters: JSON.stringify(filters) } })
  await printTasks(ctx, tasks, { noTrunc: !!f['no-trunc'], noResolve: !!f['no-resolve'], quiet: !!f.quiet, format: f.format as string | undefined })
  if (notFound.length) throw new CliExit(1, notFound.join('\n'))
}

export async function rm(ctx: CliContext): Promise<number> {
  return eachArg(ctx, (ref) => ctx.client().call('DELETE', `/services/${encodeURIComponent(ref)}`).then((r) => { r.resume() }))
}

async function sendUpdate(ctx: CliContext, service: Json, spec: Json, query: Record<string, string> = {}, headers: Record<string, string> = {}, queryRegistry = false): Promise<void> {
  const warnings = spec.TaskTemplate ? await resolveSpecImage(ctx.client(), spec.TaskTemplate, queryRegistry, headers) : []
  const res = await ctx.client().json<{ Warnings?: string[] | null }>('POST', `/services/${encodeURIComponent(service.ID)}/update`, {
    query: { version: String(service.Version?.Index ?? 0), ...query }, body: spec, headers,
  })
  for (const w of [...(res?.Warnings ?? []), ...warnings]) ctx.err.write(`${w}\n`)
}

export async function update(ctx: CliContext): Promise<void> {
  const f = ctx.flags
  const ref = ctx.args[0]!
  const client = ctx.client()
  const service = await client.json<Json>('GET', `/services/${encodeURIComponent(ref)}`)
  let spec: Json
  const query: Record<string, string> = {}
  if (f.rollback) {
    const others = Object.keys(f).filter((k) => f[k] !== undefined && !['rollback', 'detach', 'quiet'].includes(k))
    if (others.length) throw new CliExit(1, 'other flags may not be combined with --rollback')
    spec = service.Spec
    query.rollback = 'previous'
  } else {
    try {
      spec = await applyServiceUpdate(service.Spec ?? {}, f, daemonResolver(client))
    } catch (err) {
      specFailure(ctx, err)
    }
  }
  let headers: Record<string, string> = {}
  if (f['with-registry-auth']) headers = await registryAuth(ctx, spec.TaskTemplate?.ContainerSpec?.Image ?? '')
  else query.registryAuthFrom = 'spec'
  await sendUpdate(ctx, service, spec, query, headers, f.image !== undefined && !f['no-resolve-image'])
  ctx.out.write(`${ref}\n`)
  if (f.detach) return
  await waitOnService(ctx, service.ID, !!f.quiet)
}

export async function rollback(ctx: CliContext): Promise<void> {
  const f = ctx.flags
  const ref = ctx.args[0]!
  const service = await ctx.client().json<Json>('GET', `/services/${encodeURIComponent(ref)}`)
  await sendUpdate(ctx, service, service.Spec, { rollback: 'previous' })
  ctx.out.write(`${ref}\n`)
  if (f.detach) return
  await waitOnService(ctx, service.ID, !!f.quiet)
}

export async function scale(ctx: CliContext): Promise<void> {
  for (const arg of ctx.args) {
    const eq = arg.indexOf('=')
    if (eq <= 0 || eq === arg.length - 1) {
      throw new CliExit(1, `invalid scale specifier '${arg}'.\nSee '${ctx.commandPath} --help'.\n\nUsage:  ${ctx.commandPath} SERVICE=REPLICAS [SERVICE=REPLICAS...]\n\nScale one or multiple replicated services`)
    }
  }
  const client = ctx.client()
  const errs: string[] = []
  const scaled: string[] = []
  for (const arg of ctx.args) {
    const eq = arg.indexOf('=')
    const id = arg.slice(0, eq)
    const v = arg.slice(eq + 1)
    if (!/^\d+$/.test(v)) { errs.push(`${id}: invalid replicas value ${v}: strconv.ParseUint: parsing ${JSON.stringify(v)}: invalid syntax`); continue }
    const n = Number(v)
    try {
      const service = await client.json<Json>('GET', `/services/${encodeURIComponent(id)}`)
      const mode = service.Spec?.Mode ?? {}
      if (mode.Replicated) mode.Replicated.Replicas = n
      else if (mode.ReplicatedJob) mode.ReplicatedJob.TotalCompletions = n
      else { errs.push(`${id}: scale can only be used with replicated or replicated-job mode`); continue }
      await sendUpdate(ctx, service, service.Spec)
    } catch (err) {
      if (!(err instanceof ApiError)) throw err
      errs.push(`${id}: Error response from daemon: ${err.message}`)
      continue
    }
    ctx.out.write(`${id} scaled to ${n}\n`)
    scaled.push(id)
  }
  if (scaled.length && !ctx.flags.detach) {
    for (const id of scaled) {
      try {
        await waitOnService(ctx, id, false)
      } catch (err) {
        if (err instanceof ApiError) errs.push(`${id}: Error response from daemon: ${err.message}`)
        else if (err instanceof CliExit) errs.push(`${id}: ${err.message}`)
        else throw err
      }
    }
  }
  if (errs.length) throw new CliExit(1, errs.join('\n'))
}

/** logdetails.Parse: `k=v,k2=v2` with URL-escaped values. */
export function parseDetails(s: string): Record<string, string> {
  const out: Record<string, string> = {}
  if (!s) return out
  for (const pair of s.split(',')) {
    const eq = pair.indexOf('=')
    if (eq < 0) throw new Error(`invalid details format: ${s}`)
    out[decodeURIComponent(pair.slice(0, eq))] = decodeURIComponent(pair.slice(eq + 1))
  }
  return out
}

/**
 * `service logs`: the daemon sends each line with its details (`com.docker.swarm.node.id=...,...`);
 * docker prints it after `name.slot.task@node    | `.
 */
export async function logs(ctx: CliContext): Promise<void> {
  const f = ctx.flags
  const client = ctx.client()
  const target = ctx.args[0]!
  let tty = false
  let maxLength = 1
  let kind: 'services' | 'tasks' = 'services'
  try {
    const s = await client.json<Json>('GET', `/services/${encodeURIComponent(target)}`)
    tty = !!s.Spec?.TaskTemplate?.ContainerSpec?.TTY
    if (s.Spec?.Mode?.Replicated?.Replicas !== undefined) maxLength = String(s.Spec.Mode.Replicated.Replicas).length
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 404) throw err
    try {
      const t = await client.json<Json>('GET', `/tasks/${encodeURIComponent(target)}`)
      tty = !!t.Spec?.ContainerSpec?.TTY
      maxLength = String(t.Slot ?? 0).length
      kind = 'tasks'
    } catch (err2) {
      if (err2 instanceof ApiError && err2.status === 404) throw new CliExit(1, `no such task or service: ${target}`)
      throw err2
    }
  }
  if (tty && !f.raw) throw new CliExit(1, 'tty service logs only supported with --raw')
  const { parseTimestampArg } = await import('../timestamps.js')
  const res = await client.call('GET', `/${kind}/${encodeURIComponent(target)}/logs`, {
    query: {
      stdout: true, stderr: true, follow: !!f.follow, timestamps: !!f.timestamps,
      details: !!f.details || !f.raw,
      ...(f.since ? { since: parseTimestampArg(f.since as string, Date.now()) } : {}),
      tail: (f.tail as string) ?? 'all',
    },
  })
  if (tty) { for await (const c of res) ctx.out.write(c as Buffer); return }
  const resolver = new IdResolver(client, !!f['no-resolve'])
  const cache = new Map<string, string>()
  const prefix = async (node: string, svc: string, task: string): Promise<string> => {
    const key = `${node}/${svc}/${task}`
    let p = cache.get(key)
    if (p === undefined) {
      const nodeName = await resolver.node(node)
      const serviceName = await resolver.service(svc)
      const t = await client.json<Json>('GET', `/tasks/${encodeURIComponent(task)}`)
      let name = `${serviceName}.${t.Slot ?? 0}`
      if (!f['no-task-ids']) name += `.${f['no-trunc'] ? t.ID : trunc(t.ID)}`
      const pad = maxLength - String(t.Slot ?? 0).length
      p = `${name}@${nodeName}${pad > 0 ? ' '.repeat(pad) : ''}`
      cache.set(key, p)
    }
    return p
  }
  const pending: Array<[number, Buffer]> = []
  const feed = demuxer((stream, payload) => { pending.push([stream, Buffer.from(payload)]) })
  for await (const chunk of res) {
    feed(chunk as Buffer)
    for (const [stream, payload] of pending.splice(0)) {
      const out = stream === 2 ? ctx.err : ctx.out
      if (f.raw) { out.write(payload); continue }
      const text = payload.toString('utf8')
      const parts = splitN(text, ' ', f.timestamps ? 3 : 2)
      if (parts.length !== (f.timestamps ? 3 : 2)) throw new CliExit(1, `invalid context in log message: ${text}`)
      const di = f.timestamps ? 1 : 0
      const details = parseDetails(parts[di]!)
      const node = details['com.docker.swarm.node.id']
      const svc = details['com.docker.swarm.service.id']
      const task = details['com.docker.swarm.task.id']
      if (node === undefined) throw new CliExit(1, `missing node id in details: ${goMap(details)}`)
      if (svc === undefined) throw new CliExit(1, `missing service id in details: ${goMap(details)}`)
      if (task === undefined) throw new CliExit(1, `missing task id in details: ${goMap(details)}`)
      delete details['com.docker.swarm.node.id']
      delete details['com.docker.swarm.service.id']
      delete details['com.docker.swarm.task.id']
      let line = f.timestamps ? `${parts[0]} ` : ''
      line += `${await prefix(node, svc, task)}    | `
      if (f.details) line += `${Object.entries(details).map(([k, v]) => `${k}=${v}`).sort().join(',')} `
      line += parts[di + 1]
      out.write(line)
    }
  }
}

function splitN(s: string, sep: string, n: number): string[] {
  const out: string[] = []
  let rest = s
  while (out.length < n - 1) {
    const i = rest.indexOf(sep)
    if (i < 0) break
    out.push(rest.slice(0, i))
    rest = rest.slice(i + 1)
  }
  out.push(rest)
  return out
}

function goMap(m: Record<string, string>): string {
  return `map[${Object.keys(m).sort().map((k) => `${k}:${m[k]}`).join(' ')}]`
}

