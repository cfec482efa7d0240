import { filtersOf } from '../../lib/filters.js'
import type { Volume, VolumeService } from '../volumes/service.js'

export interface VolumeFilterValues {
  dangling?: boolean
  driver?: readonly string[]
  label?: readonly string[]
  name?: readonly string[]
}

/** The API's VolumeBackend over the volume service. */
export function volumeBackend(d: { volumes: VolumeService }) {
  const vols = d.volumes
  const view = (v: Volume, usage?: { size: number; refCount: number }) => ({
    name: v.name, driver: v.driver, labels: v.labels, options: v.options, createdAt: v.createdAt,
    mountpoint: vols.dataPath(v.name), ...(usage ? { usage } : {}),
  })
  return {
    view,
    /** Every volume with its size and the number of containers using it (system df). */
    withUsage: () => Promise.all(vols.list().map(async (v) => view(v, { size: await vols.size(v.name).catch(() => -1), refCount: vols.usersOf(v.name).length }))),
    list: async (f: VolumeFilterValues) => vols.list(filtersOf({ ...f })).map((v) => view(v)),
    inspect: async (name: string) => view(vols.get(name)),
    create: async (req: { name?: string; driver: string; labels: Record<string, string>; options: Record<string, string> }) => view(await vols.create(req)),
    remove: (name: string, opts: { force: boolean }) => vols.remove(name, opts),
    async prune(f: { all?: boolean; label?: readonly string[]; labelNot?: readonly string[] }, opts: { allByDefault: boolean }) {
      const out = await vols.prune(filtersOf({ ...f }, { labelNot: 'label!' }), opts.allByDefault)
      return { deleted: out.deleted, spaceReclaimed: out.reclaimed }
    },
  }
}
