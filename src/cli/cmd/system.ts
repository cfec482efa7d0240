import { ApiError, readLines } from '../../client/client.js'
import { parseTimestampArg } from '../timestamps.js'
import { CliExit, type CliContext } from '../context.js'
import { createdSince, executeTemplate, filtersParam, humanSize, bytesSize, renderTable, truncId, isJsonFormat } from '../format.js'

type Info = Record<string, unknown> & {
  Containers: number; ContainersRunning: number; ContainersPaused: number; ContainersStopped: number; Images: number
  ServerVersion: string; Driver: string; DriverStatus: Array<[string, string]>; Plugins: Record<string, string[] | null>
  Runtimes: Record<string, unknown>; DefaultRuntime: string; LoggingDriver: string; CgroupDriver: string; CgroupVersion: string
  KernelVersion: string; OperatingSystem: string; OSType: string; Architecture: string; NCPU: number; MemTotal: number
  Name: string; ID: string; DockerRootDir: string; Debug: boolean; Labels: string[]; ExperimentalBuild: boolean
  LiveRestoreEnabled: boolean; Warnings: string[] | null; RegistryConfig?: { InsecureRegistryCIDRs?: string[]; Mirrors?: string[] }
  SecurityOptions?: string[]; InitBinary?: string; Swarm?: { LocalNodeState?: string }
}

export async function info(ctx: CliContext): Promise<number> {
  const clientInfo = { Version: (await import('../../lib/version.js')).BERTH_VERSION, Context: 'default', Debug: !!ctx.global.debug }
  let server: Info | undefined
  let serverErr: Error | undefined
  try {
    server = await ctx.client().json<Info>('GET', '/info')
  } catch (err) {
    serverErr = err as Error
  }
  const format = ctx.flags.format as string | undefined
  if (format) {
    if (serverErr && !server) throw serverErr
    const data = { ...server, ClientInfo: clientInfo }
    ctx.out.write(`${isJsonFormat(format) ? JSON.stringify(data) : executeTemplate(format, data)}\n`)
    return 0
  }
  const lines = ['Client:', ` Version:    ${clientInfo.Version}`, ` Context:    default`, ` Debug Mode: ${clientInfo.Debug}`, '', 'Server:']
  if (!server) {
    ctx.out.write(lines.join('\n') + '\n')
    throw new CliExit(1, serverErr instanceof ApiError ? `Error response from daemon: ${serverErr.message}` : serverErr!.message)
  }
  const s = server
  lines.push(
    ` Containers: ${s.Containers}`, `  Running: ${s.ContainersRunning}`, `  Paused: ${s.ContainersPaused}`, `  Stopped: ${s.ContainersStopped}`,
    ` Images: ${s.Images}`, ` Server Version: ${s.ServerVersion}`, ` Storage Driver: ${s.Driver}`,
    ...s.DriverStatus.map(([k, v]) => `  ${k}: ${v}`),
    ` Logging Driver: ${s.LoggingDriver}`, ` Cgroup Driver: ${s.CgroupDriver}`, ` Cgroup Version: ${s.CgroupVersion}`, ' Plugins:',
    ...['Volume', 'Network', 'Log'].filter((k) => s.Plugins[k]).map((k) => `  ${k}: ${(s.Plugins[k] ?? []).join(' ')}`),
    ` Swarm: ${s.Swarm?.LocalNodeState ?? 'inactive'}`,
    ` Runtimes: ${Object.keys(s.Runtimes).sort().join(' ')}`, ` Default Runtime: ${s.DefaultRuntime}`,
    ` Init Binary: ${s.InitBinary ?? ''}`,
  )
  if (s.SecurityOptions?.length) {
    lines.push(' Security Options:')
    for (const o of s.SecurityOptions) {
      const parts = o.split(',')
      lines.push(`  ${parts[0]!.replace(/^name=/, '')}`)
      for (const p of parts.slice(1)) { const [k, v] = p.split('='); lines.push(`   ${k![0]!.toUpperCase()}${k!.slice(1)}: ${v}`) }
    }
  }
  lines.push(
    ` Kernel Version: ${s.KernelVersion}`, ` Operating System: ${s.OperatingSystem}`, ` OSType: ${s.OSType}`, ` Architecture: ${s.Architecture}`,
    ` CPUs: ${s.NCPU}`, ` Total Memory: ${bytesSize(s.MemTotal)}`, ` Name: ${s.Name}`, ` ID: ${s.ID}`, ` Docker Root Dir: ${s.DockerRootDir}`,
    ` Debug Mode: ${s.Debug}`, ` Experimental: ${s.ExperimentalBuild}`,
  )
  if (s.Labels?.length) lines.push(' Labels:', ...s.Labels.map((l) => `  ${l}`))
  const insecure = s.RegistryConfig?.InsecureRegistryCIDRs ?? []
  if (insecure.length) lines.push(' Insecure Registries:', ...insecure.map((c) => `  ${c}`))
  const mirrors = s.RegistryConfig?.Mirrors ?? []
  if (mirrors.length) lines.push(' Registry Mirrors:', ...mirrors.map((m) => `  ${m}`))
  lines.push(` Live Restore Enabled: ${s.LiveRestoreEnabled}`, '')
  ctx.out.write(lines.join('\n') + '\n')
  for (const w of s.Warnings ?? []) ctx.err.write(`${w}\n`)
  return 0
}

interface WireEvent { Type: string; Action: string; Actor: { ID: string; Attributes: Record<string, string> }; time: number; timeNano: number; [k: string]: unknown }

export async function events(ctx: CliContext): Promise<void> {
  const now = Date.now()
  const query: Record<string, string> = {}
  if (ctx.flags.since) query.since = parseTimestampArg(ctx.flags.since as string, now)
  if (ctx.flags.until) query.until = parseTimestampArg(ctx.flags.until as string, now)
  const filters = filtersParam(ctx.flags.filter as string[] | undefined)
  if (Object.keys(filters).length) query.filters = JSON.stringify(filters)
  const client = ctx.client()
  const res = await client.call('GET', '/events', { query })
  const format = ctx.flags.format as string | undefined
  const emit = (line: string) => {
    // timeNano does not fit a JS number: read it from the raw line.
    const raw = /"timeNano":(\d+)/.exec(line)?.[1]
    const e = JSON.parse(line) as WireEvent
    if (format) {
      ctx.out.write(`${isJsonFormat(format) ? line : executeTemplate(format, e)}\n`)
      return
    }
    const nano = raw ? BigInt(raw) : BigInt(e.time) * 1_000_000_000n
    const attrs = Object.entries(e.Actor?.Attributes ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`)
    ctx.out.write(`${formatNano(nano)} ${e.Type} ${e.Action} ${e.Actor?.ID ?? ''}${attrs.length ? ` (${attrs.join(', ')})` : ''}\n`)
  }
  for await (const line of readLines(res)) emit(line)
}

/** Go's "2006-01-02T15:04:05.000000000Z07:00" in the local time zone. */
function formatNano(nano: bigint): string {
  const ms = Number(nano / 1_000_000n)
  const d = new Date(ms)
  const off = -d.getTimezoneOffset()
  const local = new Date(ms + off * 60_000)
  const frac = (nano % 1_000_000_000n).toString().padStart(9, '0')
  const zone = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${String(Math.floor(Math.abs(off) / 60)).padStart(2, '0')}:${String(Math.abs(off) % 60).padStart(2, '0')}`
  return `${local.toISOString().slice(0, 19)}.${frac}${zone}`
}

interface DfImage { Id: string; RepoTags: string[] | null; Created: number; Size: number; SharedSize: number; Containers: number }
interface DfResponse { LayersSize?: number; Images?: DfImage[] | null; Containers?: Array<Record<string, unknown>> | null; Volumes?: Array<{ Name: string; UsageData?: { Size: number; RefCount: number } }> | null; BuildCache?: Array<Record<string, unknown>> | null }

export async function diskUsage(ctx: CliContext): Promise<void> {
  const df = await ctx.client().json<DfResponse>('GET', '/system/df')
  const images = df.Images ?? []
  const containers = df.Containers ?? []
  const volumes = df.Volumes ?? []
  const cache = df.BuildCache ?? []
  if (ctx.flags.verbose) {
    const out: string[] = ['Images space usage:', '']
    ctx.out.write(out.join('\n') + '\n')
    const rows = images.flatMap((i) => {
      const tags = (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>')
      const base = { ID: truncId(i.Id), CreatedSince: createdSince(i.Created), Size: humanSize(i.Size), SharedSize: humanSize(i.SharedSize), UniqueSize: humanSize(i.Size - i.SharedSize), Containers: String(i.Containers) }
      if (tags.length === 0) return [{ Repository: '<none>', Tag: '<none>', ...base }]
      return tags.map((t) => { const k = t.lastIndexOf(':'); return { Repository: t.slice(0, k), Tag: t.slice(k + 1), ...base } })
    })
    await renderTable(ctx, { format: undefined, defaultFormat: 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}', headers: { Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', CreatedSince: 'CREATED', Size: 'SIZE', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE', Containers: 'CONTAINERS' }, rows })
    ctx.out.write('\nContainers space usage:\n\n')
    await renderTable(ctx, { format: undefined, defaultFormat: 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.CreatedSince}}\t{{.Status}}\t{{.Names}}', headers: { ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', LocalVolumes: 'LOCAL VOLUMES', Size: 'SIZE', CreatedSince: 'CREATED', Status: 'STATUS', Names: 'NAMES' }, rows: [] })
    ctx.out.write('\nLocal Volumes space usage:\n\n')
    await renderTable(ctx, { format: undefined, defaultFormat: 'table {{.Name}}\t{{.Links}}\t{{.Size}}', headers: { Name: 'VOLUME NAME', Links: 'LINKS', Size: 'SIZE' }, rows: volumes.map((v) => ({ Name: v.Name, Links: String(v.UsageData?.RefCount ?? 0), Size: humanSize(v.UsageData?.Size ?? 0) })) })
    ctx.out.write(`\nBuild cache usage: ${humanSize(0)}\n\n`)
    await renderTable(ctx, { format: undefined, defaultFormat: 'table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}', headers: { ID: 'CACHE ID', CacheType: 'CACHE TYPE', Size: 'SIZE', CreatedSince: 'CREATED', LastUsedSince: 'LAST USED', UsageCount: 'USAGE', Shared: 'SHARED' }, rows: [] })
    return
  }
  const layersSize = df.LayersSize ?? 0
  const activeImages = images.filter((i) => i.Containers > 0)
  const usedImageBytes = activeImages.reduce((n, i) => n + i.Size - i.SharedSize, 0)
  const reclaim = (total: number, reclaimable: number) => total > 0 ? `${humanSize(reclaimable)} (${Math.floor((reclaimable * 100) / total)}%)` : humanSize(reclaimable)
  const rows = [
    { Type: 'Images', TotalCount: String(images.length), Active: String(activeImages.length), Size: humanSize(layersSize), Reclaimable: reclaim(layersSize, Math.max(0, layersSize - usedImageBytes)) },
    { Type: 'Containers', TotalCount: String(containers.length), Active: '0', Size: humanSize(0), Reclaimable: humanSize(0) },
    { Type: 'Local Volumes', TotalCount: String(volumes.length), Active: '0', Size: humanSize(volumes.reduce((n, v) => n + Math.max(0, v.UsageData?.Size ?? 0), 0)), Reclaimable: humanSize(0) },
    { Type: 'Build Cache', TotalCount: String(cache.length), Active: '0', Size: humanSize(0), Reclaimable: humanSize(0) },
  ]
  await renderTable(ctx, { format: ctx.flags.format as string | undefined, defaultFormat: 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}', headers: { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' }, rows })
}
