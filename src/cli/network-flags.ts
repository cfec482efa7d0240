import { CliExit, type CliContext } from './context.js'

type Wire = Record<string, unknown>
const list = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : [])

const port = (s: string, what: string): number => {
  if (!/^\d+$/.test(s) || Number(s) > 65535) throw new CliExit(125, `invalid ${what}: ${s}`)
  return Number(s)
}
const range = (s: string, what: string): [number, number] => {
  const [a = '', b] = s.split('-')
  const from = port(a, what)
  const to = b === undefined ? from : port(b, what)
  if (to < from) throw new CliExit(125, `invalid range specified for ${what}: ${s}`)
  return [from, to]
}

/**
 * One `-p` value as Docker parses it: `[ip:][hostPort:]containerPort[/proto]`, either side a
 * range (`8000-8001:80-81`), `ip::containerPort` for a random host port on ip.
 */
export function parsePublish(spec: string): Array<{ key: string; hostIp: string; hostPort: string }> {
  let rest = spec
  let proto = 'tcp'
  const slash = rest.lastIndexOf('/')
  if (slash >= 0) { proto = rest.slice(slash + 1); rest = rest.slice(0, slash) }
  if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new CliExit(125, `invalid proto: ${proto}`)
  let hostIp = ''
  let hostPort = ''
  let ctr = rest
  const m = /^\[([0-9a-fA-F:.]+)\]:(.*)$/.exec(rest)
  if (m) {
    hostIp = m[1]!
    const i = m[2]!.lastIndexOf(':')
    hostPort = i < 0 ? '' : m[2]!.slice(0, i)
    ctr = i < 0 ? m[2]! : m[2]!.slice(i + 1)
  } else {
    const parts = rest.split(':')
    if (parts.length === 2) [hostPort = '', ctr = ''] = parts
    else if (parts.length === 3) [hostIp = '', hostPort = '', ctr = ''] = parts
    else if (parts.length > 3) throw new CliExit(125, `invalid port format for --publish: ${spec}`)
  }
  if (ctr === '') throw new CliExit(125, `no port specified: ${spec}<empty>`)
  if (hostIp && !/^\d{1,3}(\.\d{1,3}){3}$/.test(hostIp) && !hostIp.includes(':')) throw new CliExit(125, `invalid IP address: ${hostIp}`)
  const [cFrom, cTo] = range(ctr, 'containerPort')
  const out: Array<{ key: string; hostIp: string; hostPort: string }> = []
  if (hostPort === '') {
    for (let p = cFrom; p <= cTo; p++) out.push({ key: `${p}/${proto}`, hostIp, hostPort: '' })
    return out
  }
  const [hFrom, hTo] = range(hostPort, 'hostPort')
  const n = cTo - cFrom
  if (n > 0 && hTo - hFrom !== n) throw new CliExit(125, `invalid ranges specified for container and host Ports: ${ctr} and ${hostPort}`)
  for (let i = 0; i <= n; i++) {
    // One container port and a host range: any free port of the range.
    const hp = n === 0 && hTo !== hFrom ? `${hFrom}-${hTo}` : String(hFrom + i)
    out.push({ key: `${cFrom + i}/${proto}`, hostIp, hostPort: hp })
  }
  return out
}

/**
 * The network flags of `run`/`create` (`--network`, `-p`, `-P`, `--expose`, `--link`, `--ip`,
 * `--mac-address`, `--network-alias`...) as the create body's fields.
 */
export function networkFields(f: CliContext['flags']): { exposedPorts: Record<string, object>; hostConfig: Wire; networkingConfig?: Wire } {
  const exposedPorts: Record<string, object> = {}
  for (const p of list(f.expose)) {
    const [r = '', proto = 'tcp'] = p.split('/')
    const [a, b] = range(r, 'range for exposed port')
    for (let x = a; x <= b; x++) exposedPorts[`${x}/${proto}`] = {}
  }
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {}
  for (const spec of list(f.publish)) {
    for (const b of parsePublish(spec)) {
      ;(bindings[b.key] ??= []).push({ HostIp: b.hostIp, HostPort: b.hostPort })
      exposedPorts[b.key] = {}
    }
  }
  const network = (f.network as string) || (f.net as string) || 'default'
  if (f.ip6) throw new CliExit(125, 'IPv6 addresses (--ip6) are not supported by this berthd')
  const aliases = list(f['network-alias'])
  const ip = (f.ip as string) || ''
  const mac = (f['mac-address'] as string) || ''
  const ep: Wire = {
    ...(aliases.length ? { Aliases: aliases } : {}),
    ...(ip ? { IPAMConfig: { IPv4Address: ip } } : {}),
    ...(mac ? { MacAddress: mac } : {}),
  }
  return {
    exposedPorts,
    hostConfig: {
      NetworkMode: network,
      PortBindings: bindings,
      PublishAllPorts: !!f['publish-all'],
      Links: list(f.link),
    },
    ...(Object.keys(ep).length ? { networkingConfig: { EndpointsConfig: { [network]: ep } } } : {}),
  }
}
