import type { Daemon } from '../../daemon/daemon.js'
import { Filters } from '../../engine/filters.js'
import type { Volume } from '../../engine/volumes/service.js'
import { invalid } from '../../lib/errors.js'
import { boolParam, readJsonBody, versionAtLeast } from '../http.js'
import type { Router } from '../router.js'

type Wire = Record<string, unknown>

/** A volume as the API shows it. */
export function toWireVolume(d: Daemon, v: Volume, usage?: { size: number; refCount: number }): Wire {
  return {
    CreatedAt: v.createdAt.replace(/\.\d+Z$/, 'Z'),
    Driver: v.driver,
    Labels: v.labels,
    Mountpoint: d.engine.volumes.dataPath(v.name),
    Name: v.name,
    Options: Object.keys(v.options).length ? v.options : null,
    Scope: 'local',
    ...(usage ? { UsageData: { Size: usage.size, RefCount: usage.refCount } } : {}),
  }
}

export function volumeRoutes(r: Router, d: Daemon): void {
  const vols = () => d.engine.volumes

  r.add('GET', '/volumes', (ctx) => {
    const f = Filters.parse(ctx.query.get('filters'))
    f.validate(['dangling', 'driver', 'label', 'name'])
    return { Volumes: vols().list(f).map((v) => toWireVolume(d, v)), Warnings: null }
  })

  r.add('POST', '/volumes/create', async (ctx) => {
    const b = (await readJsonBody<Wire>(ctx.req)) ?? {}
    const str = (k: string) => (typeof b[k] === 'string' ? (b[k] as string) : '')
    const map = (k: string) => (b[k] && typeof b[k] === 'object' ? (b[k] as Record<string, string>) : {})
    if (b.ClusterVolumeSpec) throw invalid('ERR_CLUSTER_VOLUME', 'cluster volumes require swarm mode, which this berthd does not run')
    const v = await vols().create({ ...(str('Name') ? { name: str('Name') } : {}), driver: str('Driver'), labels: map('Labels'), options: map('DriverOpts') })
    ctx.res.writeHead(201, { 'Content-Type': 'application/json' })
    ctx.res.end(JSON.stringify(toWireVolume(d, v)))
  })

  r.add('POST', '/volumes/prune', async (ctx) => {
    const f = Filters.parse(ctx.query.get('filters'))
    // Before API 1.42 prune took every unused volume; since, only anonymous ones unless all=true.
    const out = await vols().prune(f, !versionAtLeast(ctx, '1.42'))
    return { VolumesDeleted: out.deleted.length ? out.deleted : null, SpaceReclaimed: out.reclaimed }
  })

  r.add('GET', '/volumes/{name}', (ctx) => toWireVolume(d, vols().get(ctx.params[0]!)))

  r.add('PUT', '/volumes/{name}', (ctx) => {
    vols().get(ctx.params[0]!)
    throw invalid('ERR_VOLUME_UPDATE', 'volume update only supported for cluster volumes')
  })

  r.add('DELETE', '/volumes/{name}', async (ctx) => {
    await vols().remove(ctx.params[0]!, { force: boolParam(ctx.query, 'force') })
    ctx.res.writeHead(204)
    ctx.res.end()
  })
}
