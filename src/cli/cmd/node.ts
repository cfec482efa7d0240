/** `berth node ls|inspect|ps|promote|demote|update|rm`, as the docker CLI 28. */
import { ApiError } from '../../client/client.js'
import { bytesSize } from '../../lib/units.js'
import { CliExit, type CliContext } from '../context.js'
import { eachArg, executeTemplate, filtersParam, printInspect, renderTable } from '../format.js'
import { goOrdered, kvMap, listFlag, naturalLess, nodeReference, prettyPrint, prettyTime, printTasks, type Json } from './swarm-util.js'

export const NODE_TABLE = 'table {{.ID}} {{if .Self}}*{{else}} {{ end }}\t{{.Hostname}}\t{{.Status}}\t{{.Availability}}\t{{.ManagerStatus}}\t{{.EngineVersion}}'
export const NODE_HEADERS = { ID: 'ID', Self: '', Hostname: 'HOSTNAME', Status: 'STATUS', Availability: 'AVAILABILITY', ManagerStatus: 'MANAGER STATUS', EngineVersion: 'ENGINE VERSION', TLSStatus: 'TLS STATUS' }

/** The row docker's nodeContext gives a template. */
export function nodeRow(n: Json, info: Json): Record<string, unknown> {
  const ms = n.ManagerStatus
  const clusterTls = info.Swarm?.Cluster?.TLSInfo
  const nodeTls = n.Description?.TLSInfo
  const emptyTls = (t: Json | undefined) => !t || (!t.TrustRoot && !t.CertIssuerSubject && !t.CertIssuerPublicKey)
  return {
    ID: n.ID,
    Self: n.ID === info.Swarm?.NodeID,
    Hostname: n.Description?.Hostname ?? '',
    Status: prettyPrint(n.Status?.State ?? ''),
    Availability: prettyPrint(n.Spec?.Availability ?? ''),
    ManagerStatus: prettyPrint(ms ? (ms.Leader ? 'Leader' : (ms.Reachability ?? '')) : ''),
    EngineVersion: n.Description?.Engine?.EngineVersion ?? '',
    TLSStatus: emptyTls(clusterTls) || emptyTls(nodeTls) ? 'Unknown' : JSON.stringify(clusterTls) === JSON.stringify(nodeTls) ? 'Ready' : 'Needs Rotation',
  }
}

export async function ls(ctx: CliContext): Promise<void> {
  const f = ctx.flags
  const filters = filtersParam(f.filter as string[] | undefined)
  const client = ctx.client()
  const nodes = await client.json<Json[]>('GET', '/nodes', { query: Object.keys(filters).length ? { filters: JSON.stringify(filters) } : {} })
  const info = nodes.length && !f.quiet ? await client.json<Json>('GET', '/info') : {}
  let format = f.format as string | undefined
  if (!format) {
    const { readConfigFile } = await import('../config-file.js')
    const c = (await readConfigFile(ctx.configDir)).nodesFormat as string | undefined
    format = c && !f.quiet ? c : 'table'
  }
  nodes.sort((a, b) => naturalLess(a.Description?.Hostname ?? '', b.Description?.Hostname ?? ''))
  const raw = f.quiet ? 'node_id: {{.ID}}' : 'node_id: {{.ID}}\\nhostname: {{.Hostname}}\\nstatus: {{.Status}}\\navailability: {{.Availability}}\\nmanager_status: {{.ManagerStatus}}\\n'
  await renderTable(ctx, {
    format: format === 'raw' ? raw : format,
    quiet: !!f.quiet,
    defaultFormat: NODE_TABLE,
    headers: NODE_HEADERS,
    rows: nodes.map((n) => nodeRow(n, info)),
  })
}

export const NODE_PRETTY = `ID:			{{.ID}}
{{- if .Name }}
Name:			{{.Name}}
{{- end }}
{{- if .Labels }}
Labels:
{{- range $k, $v := .Labels }}
 - {{ $k }}{{if $v }}={{ $v }}{{ end }}
{{- end }}{{ end }}
Hostname:              	{{.Hostname}}
Joined at:             	{{.CreatedAt}}
Status:
 State:			{{.StatusState}}
 {{- if .HasStatusMessage}}
 Message:              	{{.StatusMessage}}
 {{- end}}
 Availability:         	{{.SpecAvailability}}
 {{- if .Status.Addr}}
 Address:		{{.StatusAddr}}
 {{- end}}
{{- if .HasManagerStatus}}
Manager Status:
 Address:		{{.ManagerStatusAddr}}
 Raft Status:		{{.ManagerStatusReachability}}
 {{- if .IsManagerStatusLeader}}
 Leader:		Yes
 {{- else}}
 Leader:		No
 {{- end}}
{{- end}}
Platform:
 Operating System:	{{.PlatformOS}}
 Architecture:		{{.PlatformArchitecture}}
Resources:
 CPUs:			{{.ResourceNanoCPUs}}
 Memory:		{{.ResourceMemory}}
{{- if .HasEnginePlugins}}
Plugins:
{{- range $k, $v := .EnginePlugins }}
 {{ $k }}:{{if $v }}		{{ $v }}{{ end }}
{{- end }}
{{- end }}
Engine Version:		{{.EngineVersion}}
{{- if .EngineLabels}}
Engine Labels:
{{- range $k, $v := .EngineLabels }}
 - {{ $k }}{{if $v }}={{ $v }}{{ end }}
{{- end }}{{- end }}
{{- if .HasTLSInfo}}
TLS Info:
 TrustRoot:
{{.TLSInfoTrustRoot}}
 Issuer Subject:	{{.TLSInfoCertIssuerSubject}}
 Issuer Public Key:	{{.TLSInfoCertIssuerPublicKey}}
{{- end}}`

/** nodeInspectContext: what the pretty template reads. */
export function nodePrettyContext(n: Json): Record<string, unknown> {
  const d = n.Description ?? {}
  const plugins: Record<string, string[]> = {}
  for (const p of (d.Engine?.Plugins as Json[] | undefined) ?? []) (plugins[p.Type] ??= []).push(p.Name)
  const tls = d.TLSInfo ?? {}
  const ms = n.ManagerStatus
  return {
    ID: n.ID,
    Name: n.Spec?.Name ?? '',
    Labels: n.Spec?.Labels ?? {},
    Hostname: d.Hostname ?? '',
    CreatedAt: prettyTime(n.CreatedAt),
    StatusState: prettyPrint(n.Status?.State ?? ''),
    HasStatusMessage: !!n.Status?.Message,
    StatusMessage: prettyPrint(n.Status?.Message ?? ''),
    SpecAvailability: prettyPrint(n.Spec?.Availability ?? ''),
    Status: { Addr: n.Status?.Addr ?? '' },
    StatusAddr: n.Status?.Addr ?? '',
    HasManagerStatus: !!ms,
    ManagerStatusAddr: ms?.Addr ?? '',
    ManagerStatusReachability: prettyPrint(ms?.Reachability ?? ''),
    IsManagerStatusLeader: !!ms?.Leader,
    PlatformOS: d.Platform?.OS ?? '',
    PlatformArchitecture: d.Platform?.Architecture ?? '',
    ResourceNanoCPUs: d.Resources?.NanoCPUs ? Math.trunc(Number(d.Resources.NanoCPUs) / 1e9) : 0,
    ResourceMemory: bytesSize(Number(d.Resources?.MemoryBytes ?? 0)),
    HasEnginePlugins: Object.keys(plugins).length > 0,
    EnginePlugins: Object.fromEntries(Object.entries(plugins).map(([k, v]) => [k, v.join(', ')])),
    EngineVersion: d.Engine?.EngineVersion ?? '',
    EngineLabels: d.Engine?.Labels ?? {},
    HasTLSInfo: !!(tls.TrustRoot || tls.CertIssuerSubject || tls.CertIssuerPublicKey),
    TLSInfoTrustRoot: tls.TrustRoot ?? '',
    TLSInfoCertIssuerSubject: tls.CertIssuerSubject ?? '',
    TLSInfoCertIssuerPublicKey: tls.CertIssuerPublicKey ?? '',
  }
}

export async function inspect(ctx: CliContext): Promise<number> {
  const f = ctx.flags
  if (f.pretty && f.format) throw new CliExit(1, 'cannot supply extra formatting options to the pretty template')
  const client = ctx.client()
  const found: Json[] = []
  const errors: string[] = []
  for (const ref of ctx.args) {
    try {
      const id = await nodeReference(client, ref)
      found.push(await client.json<Json>('GET', `/nodes/${encodeURIComponent(id)}`))
    } catch (err) {
      if (!(err instanceof ApiError)) throw err
      if (f.pretty) throw err
      errors.push(`Error response from daemon: ${err.message}`)
    }
  }
  if (f.pretty) {
    for (const n of found) ctx.out.write(`${executeTemplate(NODE_PRETTY, nodePrettyContext(n))}\n`)
  } else await printInspect(ctx, found.map((n) => goOrdered(n)), f.format as string | undefined)
  if (errors.length) throw new CliExit(1, errors.join('\n'))
  return 0
}

export async function ps(ctx: CliContext): Promise<void> {
  const f = ctx.flags
  const client = ctx.client()
  const refs = ctx.args.length ? ctx.args : ['self']
  const tasks: Json[] = []
  const errs: string[] = []
  // docker adds each node to one filter set, so a later node's query also returns the earlier
  // nodes' tasks (and prints them twice): kept, as docker 28 does
  const filters = filtersParam(f.filter as string[] | undefined)
  for (const ref of refs) {
    try {
      const id = await nodeReference(client, ref)
      const node = await client.json<Json>('GET', `/nodes/${encodeURIComponent(id)}`)
      ;(filters.node ??= []).push(node.ID)
      tasks.push(...await client.json<Json[]>('GET', '/tasks', { query: { filters: JSON.stringify(filters) } }))
    } catch (err) {
      if (!(err instanceof ApiError)) throw err
      errs.push(`Error response from daemon: ${err.message}`)
    }
  }
  if (!errs.length || tasks.length) await printTasks(ctx, tasks, { noTrunc: !!f['no-trunc'], noResolve: !!f['no-resolve'], quiet: !!f.quiet, format: f.format as string | undefined })
  if (errs.length) throw new CliExit(1, errs.join('\n'))
}

/** updateNodes: inspect, change, update, report, one node after the other; the first error stops. */
async function updateNodes(ctx: CliContext, refs: string[], merge: (n: Json) => boolean, success: (ref: string) => void): Promise<void> {
  const client = ctx.client()
  for (const ref of refs) {
    const n = await client.json<Json>('GET', `/nodes/${encodeURIComponent(ref)}`)
    if (!merge(n)) continue
    // swarm.NodeSpec as Go marshals it: Labels is never left out (null when there are none)
    const { Name, Labels, ...rest } = (n.Spec ?? {}) as Json
    const body = { ...(Name ? { Name } : {}), Labels: Labels ?? null, ...rest }
    await client.call('POST', `/nodes/${encodeURIComponent(n.ID)}/update`, { query: { version: n.Version?.Index ?? 0 }, body }).then((r) => r.resume())
    success(ref)
  }
}

export async function promote(ctx: CliContext): Promise<void> {
  await updateNodes(ctx, ctx.args, (n) => {
    if (n.Spec?.Role === 'manager') { ctx.out.write(`Node ${n.ID} is already a manager.\n`); return false }
    n.Spec = { ...(n.Spec ?? {}), Role: 'manager' }
    return true
  }, (ref) => ctx.out.write(`Node ${ref} promoted to a manager in the swarm.\n`))
}

export async function demote(ctx: CliContext): Promise<void> {
  await updateNodes(ctx, ctx.args, (n) => {
    if (n.Spec?.Role === 'worker') { ctx.out.write(`Node ${n.ID} is already a worker.\n`); return false }
    n.Spec = { ...(n.Spec ?? {}), Role: 'worker' }
    return true
  }, (ref) => ctx.out.write(`Manager ${ref} demoted in the swarm.\n`))
}

export async function update(ctx: CliContext): Promise<void> {
  const f = ctx.flags
  const ref = ctx.args[0]!
  await updateNodes(ctx, [ref], (n) => {
    const spec: Json = (n.Spec ??= {})
    if (f.role !== undefined) spec.Role = f.role
    if (f.availability !== undefined) spec.Availability = f.availability
    spec.Labels ??= {}
    Object.assign(spec.Labels, kvMap(f['label-add']))
    for (const k of listFlag(f['label-rm'])) {
      if (!(k in spec.Labels)) throw new CliExit(1, `key ${k} doesn't exist in node's labels`)
      delete spec.Labels[k]
    }
    return true
  }, () => ctx.out.write(`${ref}\n`))
}

export async function rm(ctx: CliContext): Promise<number> {
  return eachArg(ctx, (ref) => ctx.client().call('DELETE', `/nodes/${encodeURIComponent(ref)}`, { query: { force: !!ctx.flags.force } }).then((r) => { r.resume() }))
}
