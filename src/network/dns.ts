import { createSocket, type Socket } from 'node:dgram'

/**
 * The embedded DNS server of user-defined networks. One UDP socket per network, bound to the
 * network's gateway address, port 53 (containers get `nameserver <gateway>`). A query is answered
 * from `lookup` (the names and aliases of the containers that share a network with the asker,
 * found by its source address); any other name is forwarded to the upstream servers.
 */
export interface DnsLookup {
  /** The IPv4 addresses of `name` as seen by the container at `client`; undefined: not ours. */
  resolve(client: string, name: string): string[] | undefined
  /** The upstream servers for the container at `client` (its --dns, else the host's). */
  upstreams(client: string): string[]
}

const TYPE_A = 1
const TYPE_AAAA = 28

interface Question { name: string; type: number; end: number }

function parseQuestion(msg: Buffer): Question | undefined {
  if (msg.length < 12 || msg.readUInt16BE(4) !== 1) return undefined
  const labels: string[] = []
  let off = 12
  for (;;) {
    const len = msg[off]
    if (len === undefined || len > 63) return undefined
    off++
    if (len === 0) break
    if (off + len > msg.length) return undefined
    labels.push(msg.subarray(off, off + len).toString('latin1'))
    off += len
  }
  if (off + 4 > msg.length) return undefined
  return { name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(off), end: off + 4 }
}

/** An answer to `q` with A records (none for other types: NOERROR, empty). */
function answer(msg: Buffer, q: Question, ips: string[]): Buffer {
  const addrs = q.type === TYPE_A ? ips : []
  const head = Buffer.from(msg.subarray(0, q.end))
  // QR, opcode from the query, AA, RD copied, RA; rcode 0. One question, n answers, no others.
  head.writeUInt16BE(0x8400 | (msg.readUInt16BE(2) & 0x0100) | 0x0080, 2)
  head.writeUInt16BE(1, 4)
  head.writeUInt16BE(addrs.length, 6)
  head.writeUInt32BE(0, 8)
  const rrs = addrs.map((a) => {
    const rr = Buffer.alloc(16)
    rr.writeUInt16BE(0xc00c, 0) // the name: a pointer to the question's
    rr.writeUInt16BE(TYPE_A, 2)
    rr.writeUInt16BE(1, 4)
    rr.writeUInt32BE(600, 6)
    rr.writeUInt16BE(4, 10)
    a.split('.').forEach((x, i) => rr.writeUInt8(Number(x), 12 + i))
    return rr
  })
  return Buffer.concat([head, ...rrs])
}

function servfail(msg: Buffer): Buffer {
  const b = Buffer.from(msg.subarray(0, Math.min(msg.length, 12)))
  if (b.length < 12) return b
  b.writeUInt16BE(0x8082 | (msg.readUInt16BE(2) & 0x0100), 2)
  b.writeUInt16BE(0, 4); b.writeUInt16BE(0, 6); b.writeUInt32BE(0, 8)
  return b
}

export class DnsServer {
  #sockets = new Map<string, Socket>()

  constructor(private readonly lookup: DnsLookup, private readonly log: (m: string) => void) {}

  /** Listen on addr:53 (idempotent). */
  async listen(addr: string): Promise<void> {
    if (this.#sockets.has(addr)) return
    const sock = createSocket({ type: 'udp4' })
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject)
      sock.bind(53, addr, () => { sock.off('error', reject); resolve() })
    })
    sock.on('error', (e) => this.log(`dns ${addr}: ${String(e)}`))
    sock.on('message', (msg, rinfo) => this.#query(sock, msg, rinfo.address, rinfo.port))
    this.#sockets.set(addr, sock)
  }

  close(addr: string): void {
    const s = this.#sockets.get(addr)
    if (!s) return
    this.#sockets.delete(addr)
    s.close()
  }

  closeAll(): void {
    for (const a of [...this.#sockets.keys()]) this.close(a)
  }

  #query(sock: Socket, msg: Buffer, client: string, port: number): void {
    const q = parseQuestion(msg)
    if (q && (q.type === TYPE_A || q.type === TYPE_AAAA)) {
      const ips = this.lookup.resolve(client, q.name.replace(/\.$/, ''))
      if (ips) {
        sock.send(answer(msg, q, ips), port, client)
        return
      }
    }
    this.#forward(sock, msg, client, port, this.lookup.upstreams(client))
  }

  #forward(sock: Socket, msg: Buffer, client: string, port: number, upstreams: string[]): void {
    const [server, ...rest] = upstreams
    if (!server) {
      sock.send(servfail(msg), port, client)
      return
    }
    const up = createSocket({ type: 'udp4' })
    const timer = setTimeout(() => { up.close(); this.#forward(sock, msg, client, port, rest) }, 2000)
    up.on('error', () => { clearTimeout(timer); up.close(); this.#forward(sock, msg, client, port, rest) })
    up.on('message', (reply) => {
      clearTimeout(timer)
      up.close()
      sock.send(reply, port, client)
    })
    up.send(msg, 53, server)
  }
}
