import type { NetworkService, CreateNetworkRequest } from '../../network/service.js'
import type { NetworkRecord } from '../../network/types.js'
import type { ContainerService } from '../containers/service.js'
import { labelsMatch } from '../containers/list.js'
import { parseTimestamp } from '../../lib/filters.js'

const BUILTIN = ['bridge', 'host', 'none']

export interface NetworkFilterValues {
  dangling?: boolean
  driver?: readonly string[]
  id?: readonly string[]
  label?: readonly string[]
  name?: readonly string[]
  scope?: readonly string[]
  type?: readonly string[]
}

/** The API's NetworkBackend over the network service; "in use" also counts containers asking for a network by mode or endpoint. */
export function networkBackend(d: { networks: NetworkService; containers: ContainerService }) {
  const svc = d.networks
  const view = (n: NetworkRecord) => ({ network: n, endpoints: svc.endpointsOn(n.id) })
  const inUse = (n: NetworkRecord) => BUILTIN.includes(n.name) || svc.endpointsOn(n.id).length > 0 ||
    d.containers.store.all().some((c) => c.hostConfig.networkMode === n.name || c.hostConfig.networkMode === n.id || Object.keys(c.endpointsConfig ?? {}).includes(n.name))
  return {
    async list(f: NetworkFilterValues) {
      return svc.list().filter((n) => {
        if (f.driver && !f.driver.includes(n.driver)) return false
        if (f.id && !f.id.some((x) => n.id.includes(x))) return false
        if (f.name && !f.name.some((x) => n.name.includes(x))) return false
        if (f.scope && !f.scope.includes(n.overlay ? 'swarm' : 'local')) return false
        if (f.type && !f.type.includes(BUILTIN.includes(n.name) ? 'builtin' : 'custom')) return false
        if (!labelsMatch(f.label ?? [], n.labels)) return false
        if (f.dangling !== undefined && f.dangling === inUse(n)) return false
        return true
      }).sort((a, b) => (a.created < b.created ? -1 : 1)).map(view)
    },

    inspect: async (ref: string) => view(svc.resolveNetwork(ref)),
    create: (req: CreateNetworkRequest) => svc.create(req),
    remove: (ref: string) => svc.remove(ref),
    // Connect and disconnect are container operations (they lock and record the container); the network resolves first, as Docker's router does.
    connect: async (net: string, ctr: string, cfg: { aliases: string[]; ipv4Address: string; macAddress: string }) => d.containers.connectNetwork(ctr, svc.resolveNetwork(net).id, cfg),
    disconnect: async (net: string, ctr: string, force: boolean) => d.containers.disconnectNetwork(ctr, svc.resolveNetwork(net).id, force),

    async prune(f: { label?: readonly string[]; labelNot?: readonly string[]; until?: readonly string[] }) {
      const until = (f.until ?? []).map((u) => parseTimestamp(u))
      return svc.prune((n) => {
        // A swarm network's local part belongs to the swarm (Docker's prune leaves swarm networks alone).
        if (n.overlay) return false
        if (until.some((u) => Date.parse(n.created) >= u)) return false
        if (!labelsMatch(f.label ?? [], n.labels)) return false
        if ((f.labelNot ?? []).some((l) => { const [k = '', v] = l.split('='); return v === undefined ? k in n.labels : n.labels[k] === v })) return false
        return true
      })
    },
  }
}
