import type { NetworkRecord, PortMapping } from './types.js'

/**
 * Berth's iptables rules, computed from the active networks and published ports (pure), then
 * written in one `iptables-restore --noflush` that declares (so flushes) only Berth's own chains.
 *
 *   filter FORWARD     -j BERTH-<tag>-FWD       bridge traffic, isolation, --internal
 *   nat PREROUTING     -m addrtype --dst-type LOCAL -j BERTH-<tag>-DNAT   published ports
 *   nat OUTPUT         -m addrtype --dst-type LOCAL -j BERTH-<tag>-DNAT   (from the host, 127.0.0.1 too)
 *   nat POSTROUTING    -j BERTH-<tag>-POST      outbound MASQUERADE, hairpin, 127.0.0.0/8 sources
 */
export interface Chains { fwd: string; dnat: string; post: string }

export const chainsFor = (tag: string): Chains => ({ fwd: `BERTH-${tag}-FWD`, dnat: `BERTH-${tag}-DNAT`, post: `BERTH-${tag}-POST` })

export interface ActivePort extends PortMapping { containerIp: string; bridge: string }

const JUMPS = (c: Chains) => ({
  filter: [`FORWARD -j ${c.fwd}`],
  nat: [`PREROUTING -m addrtype --dst-type LOCAL -j ${c.dnat}`, `OUTPUT -m addrtype --dst-type LOCAL -j ${c.dnat}`, `POSTROUTING -j ${c.post}`],
})

/** The restore input for the chains' full content; `jumps` adds the jumps from the built-in chains. */
export function rulesFor(c: Chains, nets: NetworkRecord[], ports: ActivePort[], jumps: 'add' | 'keep'): string {
  const fwd: string[] = []
  const dnat: string[] = []
  const post: string[] = []
  for (const n of nets) {
    const b = n.bridge
    fwd.push(`-A ${c.fwd} -o ${b} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`)
    if (!n.internal) fwd.push(`-A ${c.fwd} -o ${b} -m conntrack --ctstate DNAT -j ACCEPT`)
    fwd.push(`-A ${c.fwd} -i ${b} -o ${b} -j ${n.options['com.docker.network.bridge.enable_icc'] === 'false' ? 'DROP' : 'ACCEPT'}`)
  }
  for (const n of nets) for (const o of nets) if (o !== n) fwd.push(`-A ${c.fwd} -i ${n.bridge} -o ${o.bridge} -j DROP`)
  for (const n of nets) {
    if (n.internal) {
      fwd.push(`-A ${c.fwd} -i ${n.bridge} -j DROP`, `-A ${c.fwd} -o ${n.bridge} -j DROP`)
    } else {
      fwd.push(`-A ${c.fwd} -i ${n.bridge} -j ACCEPT`)
      if (n.options['com.docker.network.bridge.enable_ip_masquerade'] !== 'false') post.push(`-A ${c.post} -s ${n.subnet} ! -o ${n.bridge} -j MASQUERADE`)
    }
    // Published ports reached from 127.0.0.1 (route_localnet on the bridge) or from a container
    // of the same bridge (hairpin): the answer must come back through the host.
    post.push(`-A ${c.post} -s 127.0.0.0/8 -o ${n.bridge} -j MASQUERADE`)
    post.push(`-A ${c.post} -s ${n.subnet} -o ${n.bridge} -m conntrack --ctstate DNAT -j MASQUERADE`)
  }
  for (const p of ports) {
    const dst = p.hostIp && p.hostIp !== '0.0.0.0' ? ` -d ${p.hostIp}/32` : ''
    dnat.push(`-A ${c.dnat} -p ${p.proto}${dst} --dport ${p.hostPort} -j DNAT --to-destination ${p.containerIp}:${p.containerPort}`)
  }
  const j = JUMPS(c)
  return [
    '*filter', `:${c.fwd} - [0:0]`, ...fwd, ...(jumps === 'add' ? j.filter.map((r) => `-I ${r}`) : []), 'COMMIT',
    '*nat', `:${c.dnat} - [0:0]`, `:${c.post} - [0:0]`, ...dnat, ...post, ...(jumps === 'add' ? j.nat.map((r) => `-I ${r}`) : []), 'COMMIT', '',
  ].join('\n')
}

/** The restore input that removes the jumps and the chains. */
export function removalFor(c: Chains): string {
  const j = JUMPS(c)
  return [
    '*filter', ...j.filter.map((r) => `-D ${r}`), `:${c.fwd} - [0:0]`, `-X ${c.fwd}`, 'COMMIT',
    '*nat', ...j.nat.map((r) => `-D ${r}`), `:${c.dnat} - [0:0]`, `:${c.post} - [0:0]`, `-X ${c.dnat}`, `-X ${c.post}`, 'COMMIT', '',
  ].join('\n')
}

/** The jump rules as `iptables -S` prints them, per table (to find which are present). */
export function jumpSpecs(c: Chains): Record<'filter' | 'nat', string[]> {
  const j = JUMPS(c)
  return { filter: j.filter.map((r) => `-A ${r}`), nat: j.nat.map((r) => `-A ${r}`) }
}
