import type { Docker } from '../client/sdk.js'
import type { ContainerSummary, NetworkInspect, Volume } from '../client/types.js'
import { L } from './convert.js'

/** What the engine holds for a project: its containers, networks and volumes, by label. */
export interface Observed {
  containers: ContainerSummary[]
  networks: NetworkInspect[]
  volumes: Volume[]
}

export async function observeProject(docker: Docker, project: string, o: { oneoff?: boolean } = {}): Promise<Observed> {
  const filters = { label: [`${L.project}=${project}`] }
  const [containers, networks, volumes] = await Promise.all([
    docker.containers.list({ all: true, filters }),
    docker.networks.list({ filters }),
    docker.volumes.list({ filters }),
  ])
  return {
    containers: containers.filter((c) => (o.oneoff ? true : c.Labels[L.oneoff] !== 'True')).sort(byNumber),
    networks,
    volumes,
  }
}

export const serviceOf = (c: ContainerSummary) => c.Labels[L.service] ?? ''
export const numberOf = (c: ContainerSummary) => Number(c.Labels[L.number] ?? 0)
export const nameOf = (c: { Names?: string[]; Name?: string }) => (c.Names?.[0] ?? c.Name ?? '').replace(/^\//, '')

function byNumber(a: ContainerSummary, b: ContainerSummary): number {
  return serviceOf(a).localeCompare(serviceOf(b)) || numberOf(a) - numberOf(b)
}

/** Every compose project on the engine, from its containers' labels (for `ls`). */
export async function listProjects(docker: Docker, all: boolean): Promise<Array<{ name: string; status: string; configFiles: string }>> {
  const ctrs = await docker.containers.list({ all: true, filters: { label: [L.project] } })
  const by = new Map<string, ContainerSummary[]>()
  for (const c of ctrs) {
    const p = c.Labels[L.project]!
    if (!by.has(p)) by.set(p, [])
    by.get(p)!.push(c)
  }
  const out = []
  for (const [name, cs] of [...by].sort(([a], [b]) => a.localeCompare(b))) {
    const counts = new Map<string, number>()
    for (const c of cs) counts.set(c.State, (counts.get(c.State) ?? 0) + 1)
    if (!all && !counts.has('running')) continue
    const status = [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([s, n]) => `${s}(${n})`).join(', ')
    out.push({ name, status, configFiles: cs[0]!.Labels[L.files] ?? '' })
  }
  return out
}
