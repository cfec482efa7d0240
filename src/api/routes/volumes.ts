import type { VolumeBackend, VolumeListFilters, VolumePruneFilters, VolumeView } from '../backend.js'
import { Filters } from '../../lib/filters.js'
import { defined } from '../filters.js'
import { invalid } from '../../lib/errors.js'
import { boolParam, readJsonBody, versionAtLeast } from '../http.js'
import type { Router } from '../router.js'

type Wire = Record<string, unknown>

/** A volume as the API shows it. */
export function toWireVolume(v: VolumeView): Wire {
  return {
    CreatedAt: v.createdAt.replace(/\.\d+Z$/, 'Z'),
    Driver: v.driver,
    Labels: v.labels,
    Mountpoint: v.mountpoint,
    Name: v.name,
    Options: Object.keys(v.options).length ? v.options : null,
    Scope: 'local',
    ...(v.usage ? { UsageData: { Size: v.usage.size, RefCount: v.usage.refCount } } : {}),
  }
}

/** `docker volume ls` filters: `dangling` takes true/false/1/0 (both: every volume). */
export function parseVolumeFilters(raw: string | null): VolumeListFilters {
  const f = Filters.parse(raw).validate(['dangling', 'driver', 'label', 'name'])
  const dangling = f.get('dangling')
  for (const d of dangling) if (!['true', 'false', '1', '0'].includes(d)) throw invalid('ERR_INVALID_FILTER', `invalid filter 'dangling=${d}'`)
  const yes = dangling.some((d) => d === 'true' || d === '1')
  const no = dangling.some((d) => d === 'false' || d === '0')
  return defined({ dangling: yes === no ? undefined : yes, driver: f.opt('driver'), label: f.opt('label'), name: f.opt('name') })
}

/** `docker volume prune` filters. */
export function parseVolumePruneFilters(raw: string | null): VolumePruneFilters {
  const f = Filters.parse(raw).validate(['label', 'label!', 'all', 'dangling', 'name', 'driver'])
  return defined({ all: f.get('all').some((a) => a === 'true' || a === '1') || undefined, label: f.opt('label'), labelNot: f.opt('label!') })
}

export function volumeRoutes(r: Router, b: VolumeBackend): void {
  r.add('GET', '/volumes', async (ctx) => ({ Volumes: (await b.list(parseVolumeFilters(ctx.query.get('filters')))).map(toWireVolume), Warnings: null }))

  r.add('POST', '/volumes/create', async (ctx) => {
    const body = (await readJsonBody<Wire>(ctx.req)) ?? {}
    const str = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : '')
    const map = (k: string) => (body[k] && typeof body[k] === 'object' ? (body[k] as Record<string, string>) : {})
    if (body.ClusterVolumeSpec) throw invalid('ERR_CLUSTER_VOLUME', 'cluster volumes require swarm mode, which this berthd does not run')
    const v = await b.create({ ...(str('Name') ? { name: str('Name') } : {}), driver: str('Driver'), labels: map('Labels'), options: map('DriverOpts') })
    ctx.res.writeHead(201, { 'Content-Type': 'application/json' })
    ctx.res.end(JSON.stringify(toWireVolume(v)))
  })

  r.add('POST', '/volumes/prune', async (ctx) => {
    // Before API 1.42 prune took every unused volume; since, only anonymous ones unless all=true.
    const out = await b.prune(parseVolumePruneFilters(ctx.query.get('filters')), { allByDefault: !versionAtLeast(ctx, '1.42') })
    return { VolumesDeleted: out.deleted, SpaceReclaimed: out.spaceReclaimed }
  })

  r.add('GET', '/volumes/{name}', async (ctx) => toWireVolume(await b.inspect(ctx.params[0]!)))

  r.add('PUT', '/volumes/{name}', async (ctx) => {
    await b.inspect(ctx.params[0]!)
    throw invalid('ERR_VOLUME_UPDATE', 'volume update only supported for cluster volumes')
  })

  r.add('DELETE', '/volumes/{name}', async (ctx) => {
    await b.remove(ctx.params[0]!, { force: boolParam(ctx.query, 'force') })
    ctx.res.writeHead(204)
    ctx.res.end()
  })
}
