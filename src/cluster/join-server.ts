import { createServer, request, type Server } from 'node:https'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { TLSSocket, PeerCertificate } from 'node:tls'
import { EngineError, errno } from '../lib/errors.js'
import { MANAGER_OU, WORKER_OU, caDigest, type NodeIdentity } from './ca.js'
import type { NodeAvailability, NodeDescription, NodeRole } from './types.js'

/**
 * The swarm port (default 2377): HTTPS between nodes, served by every node with its node
 * certificate from the swarm CA. Paths are under /berth/:
 * - `GET /berth/ca`: the CA certificate, no client certificate needed (a joining node checks its
 *   digest against the one in its join token before trusting anything else);
 * - `POST /berth/join`: a node joins; authorised by the join token in the body (managers only);
 * - everything else: handlers other parts mount (`NodeHandlers.mount`), only for a client
 *   presenting a certificate from the swarm CA; they get the caller's identity.
 */

export const JOIN_PATH = '/berth/join'
export const CA_PATH = '/berth/ca'

/** A node-to-node handler (e.g. cluster/logs.ts's node logs). `peer` is the verified caller. */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse, peer: NodeIdentity) => void | Promise<void>

export interface JoinRequestBody {
  token: string
  /** The joining node's key, as a CSR (the CA decides the names). */
  csrPem: string
  /** The address the joiner advertises (IP, no port) and its swarm port. */
  advertiseAddr: string
  swarmPort: number
  dataPathAddr?: string
  description: NodeDescription
  availability?: NodeAvailability
}

export interface JoinResponseBody {
  nodeId: string
  clusterId: string
  role: NodeRole
  certPem: string
  caPem: string
  /** etcd client URLs of the current managers. */
  etcdEndpoints: string[]
  /** Swarm addresses (host:port) of the managers. */
  managers: { nodeId: string; addr: string }[]
}

/** Handlers mounted by prefix; the longest matching prefix wins. */
export class NodeHandlers {
  #mounts = new Map<string, NodeHandler>()

  /** Serve requests whose path starts with `prefix` (e.g. '/berth/logs/'). */
  mount(prefix: string, handler: NodeHandler): void {
    if (!prefix.startsWith('/berth/')) throw new EngineError('InvalidArgument', 'ERR_SWARM_MOUNT_PREFIX', `node handler prefix must start with /berth/: ${prefix}`)
    this.#mounts.set(prefix, handler)
  }

  find(path: string): NodeHandler | undefined {
    let best: string | undefined
    for (const p of this.#mounts.keys()) if (path.startsWith(p) && (!best || p.length > best.length)) best = p
    return best ? this.#mounts.get(best) : undefined
  }
}

export interface JoinServerOptions {
  /** This node's certificate, key, and the swarm CA (PEM). */
  tls: { certPem: string; keyPem: string; caPem: string }
  handlers: NodeHandlers
  /** Answers a join (managers); undefined on a worker: 503 as a worker answers. */
  onJoin?: (body: JoinRequestBody, remoteAddr: string) => Promise<JoinResponseBody>
  log?: (msg: string) => void
}

const MAX_BODY = 1 << 20

export class JoinServer {
  #server: Server | undefined

  constructor(private readonly o: JoinServerOptions) {}

  /** Listen on host:port (host '' or 0.0.0.0: every address). */
  async listen(host: string, port: number): Promise<void> {
    const server = createServer(
      { cert: this.o.tls.certPem, key: this.o.tls.keyPem, ca: this.o.tls.caPem, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' },
      (req, res) => void this.#handle(req, res).catch((err: Error) => this.#fail(res, err)),
    )
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new EngineError('Unavailable', 'ERR_SWARM_LISTEN', `failed to listen on remote API address: listen tcp ${host || '0.0.0.0'}:${port}: bind: ${errno(err) === 'EADDRINUSE' ? 'address already in use' : errno(err) === 'EADDRNOTAVAIL' ? 'cannot assign requested address' : (err as Error).message}`)))
      server.listen({ host: host || '0.0.0.0', port }, () => resolve())
    })
    this.#server = server
  }

  get port(): number {
    const a = this.#server?.address()
    return typeof a === 'object' && a ? a.port : 0
  }

  async close(): Promise<void> {
    const s = this.#server
    this.#server = undefined
    if (!s) return
    await new Promise<void>((resolve) => {
      s.close(() => resolve())
      s.closeAllConnections()
    })
  }

  #fail(res: ServerResponse, err: Error): void {
    const kind = err instanceof EngineError ? err.kind : 'Internal'
    const status = { InvalidArgument: 400, Unauthorized: 401, Forbidden: 403, NotFound: 404, Conflict: 409, Unavailable: 503 }[kind as string] ?? 500
    if (!(err instanceof EngineError)) this.o.log?.(`swarm port: ${err.message}`)
    if (res.headersSent) {
      res.destroy()
      return
    }
    sendJson(res, status, { message: err.message, code: err instanceof EngineError ? err.code : undefined })
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'https://node').pathname
    if (req.method === 'GET' && path === CA_PATH) {
      req.resume()
      res.writeHead(200, { 'Content-Type': 'application/x-pem-file' })
      res.end(this.o.tls.caPem)
      return
    }
    if (req.method === 'POST' && path === JOIN_PATH) {
      const body = (await readJson(req)) as JoinRequestBody
      if (!this.o.onJoin) throw new EngineError('Unavailable', 'ERR_SWARM_WORKER', 'This node is not a swarm manager.')
      if (typeof body?.token !== 'string' || typeof body.csrPem !== 'string') throw new EngineError('InvalidArgument', 'ERR_SWARM_JOIN_BODY', 'join request needs a token and a CSR')
      sendJson(res, 200, await this.o.onJoin(body, req.socket.remoteAddress ?? ''))
      return
    }
    const peer = peerIdentity(req.socket as TLSSocket)
    if (!peer) {
      req.resume()
      throw new EngineError('Unauthorized', 'ERR_SWARM_CERT_UNTRUSTED', 'certificate is not signed by the swarm CA or has expired')
    }
    const h = this.o.handlers.find(path)
    if (!h) {
      req.resume()
      throw new EngineError('NotFound', 'ERR_SWARM_NODE_PATH', `page not found: ${path}`)
    }
    await h(req, res, peer)
  }
}

/** The caller's swarm identity from its verified client certificate, or undefined. */
export function peerIdentity(sock: TLSSocket): NodeIdentity | undefined {
  if (!sock.authorized) return undefined
  const cert: PeerCertificate = sock.getPeerCertificate()
  const subj = cert?.subject as unknown as Record<string, string | string[]> | undefined
  if (!subj) return undefined
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)
  const ou = one(subj.OU)
  const role: NodeRole | undefined = ou === MANAGER_OU ? 'manager' : ou === WORKER_OU ? 'worker' : undefined
  const nodeId = one(subj.CN)
  const clusterId = one(subj.O)
  if (!role || !nodeId || !clusterId) return undefined
  return { nodeId, role, clusterId }
}

function sendJson(res: ServerResponse, status: number, v: unknown): void {
  const body = JSON.stringify(v)
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) })
  res.end(body)
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let n = 0
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length
    if (n > MAX_BODY) throw new EngineError('InvalidArgument', 'ERR_SWARM_JOIN_BODY', 'request body too large')
    chunks.push(c)
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new EngineError('InvalidArgument', 'ERR_SWARM_JOIN_BODY', 'invalid JSON body')
  }
}

// ---- client side ------------------------------------------------------------------------------

/** host:port → [host, port] (IPv6 in brackets). */
export function splitHostPort(addr: string, defaultPort: number): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(addr) ?? /^([^:]*)(?::(\d+))?$/.exec(addr)
  if (!m) throw new EngineError('InvalidArgument', 'ERR_SWARM_ADDR', `invalid address ${addr}`)
  return { host: m[1]!, port: m[2] ? Number(m[2]) : defaultPort }
}

interface CallResult {
  status: number
  body: Buffer
  localAddress: string
}

function call(addr: string, method: string, path: string, o: { caPem?: string; cert?: { certPem: string; keyPem: string }; body?: unknown; timeoutMs?: number }): Promise<CallResult> {
  const { host, port } = splitHostPort(addr, 2377)
  const payload = o.body === undefined ? undefined : JSON.stringify(o.body)
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port,
        method,
        path,
        // Before the CA is known (GET /berth/ca) the digest check stands in for verification.
        ...(o.caPem ? { ca: o.caPem, servername: 'swarm-ca', checkServerIdentity: () => undefined } : { rejectUnauthorized: false }),
        ...(o.cert ? { cert: o.cert.certPem, key: o.cert.keyPem } : {}),
        headers: payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {},
        timeout: o.timeoutMs ?? 20_000,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), localAddress: res.socket?.localAddress ?? '' }))
        res.on('error', reject)
      },
    )
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end(payload)
  })
}

/**
 * The remote manager's CA, accepted only when its digest is the one the join token names
 * (Docker's "remote CA does not match fingerprint"). Also returns the local address the
 * connection came from (the advertise address of a joiner that named none).
 */
export async function fetchRemoteCa(addr: string, expectedDigest: string): Promise<{ caPem: string; localAddress: string }> {
  let r: CallResult
  try {
    r = await call(addr, 'GET', CA_PATH, { timeoutMs: 10_000 })
  } catch (err) {
    throw new EngineError('Unavailable', 'ERR_SWARM_JOIN_UNREACHABLE', `could not connect to the remote manager at ${addr}: ${(err as Error).message}`, { cause: err })
  }
  if (r.status !== 200) throw new EngineError('Unavailable', 'ERR_SWARM_JOIN_UNREACHABLE', `could not get the CA of ${addr}: status ${r.status}`)
  const caPem = r.body.toString('utf8')
  const got = caDigest(caPem)
  if (got !== expectedDigest) {
    throw new EngineError('InvalidArgument', 'ERR_SWARM_CA_MISMATCH', `remote CA does not match fingerprint. Expected: ${expectedDigest.replace(/^sha256:/, '')}`)
  }
  return { caPem, localAddress: r.localAddress.replace(/^::ffff:/, '') }
}

/** POST /berth/join on a manager whose CA is known; errors come back in the manager's words. */
export async function requestJoin(addr: string, caPem: string, body: JoinRequestBody): Promise<JoinResponseBody> {
  const r = await call(addr, 'POST', JOIN_PATH, { caPem, body, timeoutMs: 30_000 })
  const parsed = JSON.parse(r.body.toString('utf8') || '{}') as JoinResponseBody & { message?: string; code?: string }
  if (r.status !== 200) {
    const kind = r.status === 400 ? 'InvalidArgument' : r.status === 401 ? 'Unauthorized' : r.status === 409 ? 'Conflict' : 'Unavailable'
    // dockerd relays the manager's gRPC refusal as is, e.g. "rpc error: code = InvalidArgument desc = A valid join token is necessary to join this cluster".
    const msg = parsed.message ?? `join failed: status ${r.status}`
    throw new EngineError(kind, parsed.code ?? 'ERR_SWARM_JOIN_FAILED', parsed.code === 'ERR_SWARM_TOKEN_REJECTED' ? `rpc error: code = InvalidArgument desc = ${msg}` : msg)
  }
  return parsed
}

/**
 * A request to another node's swarm port with this node's certificate (for parts that mounted
 * a handler there, e.g. logs). Resolves with the response status and body.
 */
export async function nodeCall(addr: string, tls: { certPem: string; keyPem: string; caPem: string }, method: string, path: string, body?: unknown): Promise<{ status: number; body: Buffer }> {
  const r = await call(addr, method, path, { caPem: tls.caPem, cert: tls, body })
  return { status: r.status, body: r.body }
}
