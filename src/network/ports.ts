import { createServer, type Server } from 'node:net'
import { createSocket, type Socket } from 'node:dgram'
import { EngineError, errno, invalid } from '../lib/errors.js'
import type { PortMapping } from './types.js'

/** A requested binding before a host port is chosen: hostPort 0 = any, else a [from, to] range. */
export interface PortRequest { hostIp: string; hostFrom: number; hostTo: number; containerPort: number; proto: 'tcp' | 'udp' }

const num = (s: string, what: string): number => {
  if (!/^\d+$/.test(s) || Number(s) > 65535) throw invalid('ERR_BAD_PORT', `invalid ${what}: ${s}`)
  return Number(s)
}

/** HostConfig.PortBindings (+ PublishAllPorts over the exposed ports) as requests. Throws Docker's errors. */
export function portRequests(bindings: Record<string, Array<{ hostIp: string; hostPort: string }>>, publishAll: boolean, exposed: Record<string, object>): PortRequest[] {
  const out: PortRequest[] = []
  const parseKey = (key: string): { port: number; proto: 'tcp' | 'udp' } => {
    const [p = '', proto = 'tcp'] = key.split('/')
    if (proto !== 'tcp' && proto !== 'udp') {
      if (proto === 'sctp') throw invalid('ERR_BAD_PORT', 'sctp ports are not supported by this berthd')
      throw invalid('ERR_BAD_PORT', `invalid proto: ${proto}`)
    }
    const port = num(p, 'containerPort')
    if (port === 0) throw invalid('ERR_BAD_PORT', `invalid containerPort: ${p}`)
    return { port, proto }
  }
  for (const [key, list] of Object.entries(bindings)) {
    const { port, proto } = parseKey(key)
    for (const b of list.length ? list : [{ hostIp: '', hostPort: '' }]) {
      const hostIp = b.hostIp ?? ''
      if (hostIp && hostIp !== '0.0.0.0' && !/^\d{1,3}(\.\d{1,3}){3}$/.test(hostIp)) {
        if (hostIp.includes(':')) continue // IPv6 host addresses: not published (IPv4 only)
        throw invalid('ERR_BAD_PORT', `invalid host IP address: ${hostIp}`)
      }
      const hp = b.hostPort ?? ''
      let from = 0
      let to = 0
      if (hp !== '') {
        const [a = '', z] = hp.split('-')
        from = num(a, 'hostPort')
        to = z === undefined ? from : num(z, 'hostPort')
        if (to < from) throw invalid('ERR_BAD_PORT', `invalid hostPort: ${hp}`)
      }
      out.push({ hostIp: hostIp === '0.0.0.0' ? '' : hostIp, hostFrom: from, hostTo: to, containerPort: port, proto })
    }
  }
  if (publishAll) {
    for (const key of Object.keys(exposed)) {
      const { port, proto } = parseKey(key)
      if (!out.some((r) => r.containerPort === port && r.proto === proto)) out.push({ hostIp: '', hostFrom: 0, hostTo: 0, containerPort: port, proto })
    }
  }
  return out
}

/**
 * Host ports held by berthd for the containers' published ports: a listening socket per port, so
 * another process (or container) cannot take it and a conflict is found at start, as Docker's
 * port allocator does. The traffic itself goes through the DNAT rules, never these sockets.
 */
export class PortReservations {
  #held = new Map<string, Array<Server | Socket>>()

  /** Bind every request for `owner`; all or nothing. `endpoint` names the error as Docker does. */
  async reserve(owner: string, reqs: PortRequest[], describe: (r: PortRequest, port: number) => string): Promise<PortMapping[]> {
    const got: Array<Server | Socket> = []
    const out: PortMapping[] = []
    try {
      for (const r of reqs) {
        let bound: { handle: Server | Socket; port: number } | undefined
        let lastErr: unknown
        const candidates = r.hostFrom === 0 ? [0] : Array.from({ length: r.hostTo - r.hostFrom + 1 }, (_, i) => r.hostFrom + i)
        for (const port of candidates) {
          try {
            bound = await bindPort(r.hostIp || '0.0.0.0', port, r.proto)
            break
          } catch (err) {
            lastErr = err
          }
        }
        if (!bound) {
          const code = errno(lastErr)
          const port = r.hostFrom
          const what = code === 'EADDRINUSE' ? 'address already in use' : code === 'EADDRNOTAVAIL' ? 'cannot assign requested address' : String((lastErr as Error)?.message ?? lastErr)
          const mine = [...this.#held.values()].flat().some((h) => localPort(h) === port)
          throw new EngineError('Conflict', 'ERR_PORT_IN_USE', mine ? describe(r, port).replace(/failed to bind host port for .*$/, '') + `Bind for ${r.hostIp || '0.0.0.0'}:${port} failed: port is already allocated` : describe(r, port) + what)
        }
        got.push(bound.handle)
        out.push({ hostIp: r.hostIp || '0.0.0.0', hostPort: bound.port, containerPort: r.containerPort, proto: r.proto })
      }
    } catch (err) {
      for (const h of got) h.close()
      throw err
    }
    const prev = this.#held.get(owner) ?? []
    this.#held.set(owner, [...prev, ...got])
    return out
  }

  /** Bind exactly these mappings again (after a berthd restart); failures are logged, not thrown. */
  async rebind(owner: string, ports: PortMapping[], log: (m: string) => void): Promise<void> {
    for (const p of ports) {
      try {
        const b = await bindPort(p.hostIp, p.hostPort, p.proto)
        this.#held.set(owner, [...(this.#held.get(owner) ?? []), b.handle])
      } catch (err) {
        log(`port ${p.hostIp}:${p.hostPort}/${p.proto} of ${owner}: ${String(err)}`)
      }
    }
  }

  release(owner: string): void {
    for (const h of this.#held.get(owner) ?? []) h.close()
    this.#held.delete(owner)
  }

  releaseAll(): void {
    for (const o of [...this.#held.keys()]) this.release(o)
  }
}

function localPort(h: Server | Socket): number {
  try {
    const a = h.address()
    return typeof a === 'object' && a ? a.port : 0
  } catch {
    return 0 // a closed socket has no address
  }
}

function bindPort(host: string, port: number, proto: 'tcp' | 'udp'): Promise<{ handle: Server | Socket; port: number }> {
  return new Promise((resolve, reject) => {
    if (proto === 'udp') {
      const s = createSocket({ type: 'udp4' })
      s.once('error', (e) => { s.close(); reject(e) })
      s.bind({ port, address: host, exclusive: true }, () => {
        s.removeAllListeners('error')
        s.on('error', () => {})
        // Datagrams that reach the socket (none should, DNAT comes first) are dropped.
        s.on('message', () => {})
        resolve({ handle: s, port: s.address().port })
      })
      return
    }
    const srv = createServer((c) => c.destroy())
    srv.once('error', reject)
    srv.listen({ port, host, exclusive: true, backlog: 1 }, () => {
      srv.removeAllListeners('error')
      srv.on('error', () => {})
      srv.unref()
      resolve({ handle: srv, port: (srv.address() as { port: number }).port })
    })
  })
}
