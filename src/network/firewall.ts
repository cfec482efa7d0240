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
export interface Chains { fwd: string; input: string; dnat: string; post: string }

export const chainsFor = (tag: string): Chains => ({ fwd: `BERTH-${tag}-FWD`, input: `BERTH-${tag}-IN`, dnat: `BERTH-${tag}-DNAT`, post: `BERTH-${tag}-POST` })

/** The lines of `iptables -S` of the two tables Berth writes (what is there now). */
export interface Present { filter: string[]; nat: string[] }

export interface ActivePort extends PortMapping { containerIp: string; bridge: string }

const JUMPS = (c: Chains) => ({
  filter: [`FORWARD -j ${c.fwd}`, `INPUT -j ${c.input}`],
  nat: [`PREROUTING -m addrtype --dst-type LOCAL -j ${c.dnat}`, `OUTPUT -m addrtype --dst-type LOCAL -j ${c.dnat}`, `POSTROUTING -j ${c.post}`],
})

const ours = (c: Chains) => [c.fwd, c.input, c.dnat, c.post]

/**
 * `-D` lines for every rule of a built-in chain that jumps to one of Berth's chains, as many times
 * as it is there (a crash between two writes, an older berthd): the jumps are then inserted once.
 */
function staleJumps(c: Chains, lines: string[]): string[] {
  const names = new Set(ours(c))
  return lines.filter((l) => {
    const m = /^-A (\S+) .*-j (\S+)$/.exec(l)
    return !!m && !names.has(m[1]!) && names.has(m[2]!)
  }).map((l) => `-D${l.slice(2)}`)
}

/**
 * The restore input for the chains' full content. With `present` (what `iptables -S` shows now),
 * every jump to Berth's chains found there is deleted and the jumps are inserted once: the
 * result is the same however many copies a crash or an older berthd left. Without it, the jumps
 * are kept as they are.
 */
export function rulesFor(c: Chains, nets: NetworkRecord[], ports: ActivePort[], present?: Present): string {
  const fwd: string[] = []
  const input: string[] = []
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
    // The bridge has route_localnet=1 (127.0.0.1 publishing): a packet from a container to the
    // host's 127.0.0.0/8 would reach services bound only to loopback. Only the answers of a
    // connection the host opened (a published 127.0.0.1 port, DNAT'd in OUTPUT) may come in.
    input.push(`-A ${c.input} -i ${n.bridge} -d 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED -j DROP`)
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
    '*filter', `:${c.fwd} - [0:0]`, `:${c.input} - [0:0]`, ...fwd, ...input,
    ...(present ? [...staleJumps(c, present.filter), ...j.filter.map((r) => `-I ${r}`)] : []), 'COMMIT',
    '*nat', `:${c.dnat} - [0:0]`, `:${c.post} - [0:0]`, ...dnat, ...post,
    ...(present ? [...staleJumps(c, present.nat), ...j.nat.map((r) => `-I ${r}`)] : []), 'COMMIT', '',
  ].join('\n')
}

/**
 * The restore input that removes every jump to Berth's chains found in `present` and the chains
 * that exist there; '' when nothing of Berth's is left.
 */
export function removalFor(c: Chains, present: Present): string {
  const exists = (lines: string[], chain: string) => lines.includes(`-N ${chain}`)
  const part = (lines: string[], chains: string[]) => {
    const here = chains.filter((x) => exists(lines, x))
    return [...staleJumps(c, lines), ...here.map((x) => `:${x} - [0:0]`), ...here.map((x) => `-X ${x}`)]
  }
  const f = part(present.filter, [c.fwd, c.input])
  const n = part(present.nat, [c.dnat, c.post])
  if (f.length === 0 && n.length === 0) return ''
  return ['*filter', ...f, 'COMMIT', '*nat', ...n, 'COMMIT', ''].join('\n')
}

/** Whether anything of Berth's (a chain, a jump) is in `present`. */
export const anyPresent = (c: Chains, present: Present): boolean =>
  [...present.filter, ...present.nat].some((l) => ours(c).some((x) => l.includes(x)))

