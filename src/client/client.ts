import type { RequestOptions } from 'node:http'
import { readFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import { unixRequest } from './unix-transport.js'

export const CLIENT_API_VERSION = '1.50'
export const DEFAULT_HOST = 'unix:///run/berth/berth.sock'

export interface TlsOptions {
  ca?: string
  cert?: string
  key?: string
  verify: boolean
}

export interface ClientOptions {
  /** unix:///path, tcp://host:port, or a bare /path. */
  host: string
  tls?: TlsOptions
  /** Pin an API version (DOCKER_API_VERSION); otherwise 1.50, lowered if the daemon is older. */
  version?: string
  userAgent?: string
  /**
   * Open the connection a request travels on (an ssh transport's stdio, a test's pipe): used by
   * every request and by hijack instead of dialling `host`.
   */
  createConnection?: () => import('node:stream').Duplex
}

/** An error answer from the daemon: the status and Docker's `{message}`. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message)
    this.name = 'ApiError'
  }
}

/** The daemon could not be reached at all. */
export class ConnectError extends Error {
  constructor(readonly host: string, override readonly cause: Error) {
    super(`Cannot connect to the Berth daemon at ${host}. Is the berth daemon running?`)
    this.name = 'ConnectError'
  }
}

/** A response: status, headers and a readable body. */
export type Response = Readable & { statusCode?: number; statusMessage?: string; headers: Record<string, string | string[] | undefined> }

export interface RequestOpts {
  query?: Record<string, string | number | boolean | string[] | undefined | null>
  body?: Buffer | string | Readable | object
  headers?: Record<string, string>
  signal?: AbortSignal
}

/**
 * A typed Docker Engine API client over a unix socket or TCP (+TLS). It talks to any
 * Docker-compatible daemon: requests use the /v1.50 prefix and step down to the daemon's
 * maximum when it answers "client version ... is too new".
 */
export class EngineClient {
  #version: string
  #pinned: boolean
  readonly #base: RequestOptions
  readonly #secure: boolean

  /** Responses are node's Response or the unix transport's equivalent. */

  constructor(readonly opts: ClientOptions) {
    this.#version = opts.version ?? CLIENT_API_VERSION
    this.#pinned = opts.version !== undefined
    const { base, secure } = connectOptions(opts)
    this.#base = base
    this.#secure = secure
  }

  get apiVersion(): string {
    return this.#version
  }

  /** Send a request; resolves with the response stream once headers arrive (any status). */
  async raw(method: string, path: string, opts: RequestOpts = {}): Promise<Response> {
    const res = await this.#send(method, path, opts)
    if (res.statusCode === 400 && !this.#pinned && !isStreamBody(opts.body)) {
      const body = await readAll(res)
      const m = /client version [\d.]+ is too new\. Maximum supported API version is ([\d.]+)/.exec(messageOf(body))
      if (m) {
        this.#version = m[1]!
        return this.#send(method, path, opts)
      }
      return replay(res, body)
    }
    return res
  }

  /** Send a request and fail with ApiError on an error status. */
  async call(method: string, path: string, opts: RequestOpts = {}): Promise<Response> {
    const res = await this.raw(method, path, opts)
    if ((res.statusCode ?? 500) >= 400) {
      const body = await readAll(res)
      throw new ApiError(res.statusCode ?? 500, messageOf(body) || `${res.statusCode} ${res.statusMessage ?? ''}`.trim())
    }
    return res
  }

  async json<T = unknown>(method: string, path: string, opts: RequestOpts = {}): Promise<T> {
    const res = await this.call(method, path, opts)
    const body = await readAll(res)
    if (body.length === 0) return undefined as T
    return JSON.parse(body.toString('utf8')) as T
  }

  /**
   * Take over a connection (`Upgrade: tcp`), as attach and exec start need: resolves with the
   * raw socket once the daemon answered 101, or fails with the daemon's error.
   */
  async hijack(method: string, path: string, opts: RequestOpts = {}): Promise<{ socket: import('node:net').Socket; head: Buffer }> {
    const qs = encodeQuery(opts.query)
    const headers: Record<string, string> = { 'User-Agent': this.opts.userAgent ?? 'Berth-Client/0.1.0 (linux)', Connection: 'Upgrade', Upgrade: 'tcp', ...opts.headers }
    const body = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body))
    if (body) Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': String(body.length) })
    const reqOpts: RequestOptions = { ...this.#base, method, path: `/v${this.#version}${path}${qs}`, headers, ...this.#connection() }
    const request = await httpRequestFn(this.#secure)
    return new Promise((resolve, reject) => {
      const req = request(reqOpts)
      req.on('upgrade', (_res, socket, head) => resolve({ socket: socket as import('node:net').Socket, head }))
      req.on('response', async (res) => {
        const body = await readAll(res as unknown as Response)
        reject(new ApiError(res.statusCode ?? 500, messageOf(body) || `${res.statusCode}`))
      })
      req.on('error', (err) => {
        const code = (err as { code?: string }).code
        if (code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'EACCES') reject(new ConnectError(this.opts.host, err))
        else reject(err)
      })
      req.end(body)
    })
  }

  /** Read a JSON-lines stream (pull, load, import, events); an `error` object in it throws. */
  async *jsonStream<T = Record<string, unknown>>(res: Response): AsyncGenerator<T> {
    for await (const line of readLines(res)) yield parseStreamLine<T>(line)
  }

  #connection(): Pick<RequestOptions, 'createConnection'> {
    const open = this.opts.createConnection
    return open ? { createConnection: (() => open()) as unknown as RequestOptions['createConnection'] } : {}
  }

  async #send(method: string, path: string, opts: RequestOpts): Promise<Response> {
    const qs = encodeQuery(opts.query)
    const headers: Record<string, string> = { 'User-Agent': this.opts.userAgent ?? 'Berth-Client/0.1.0 (linux)', ...opts.headers }
    let payload: Buffer | string | Readable | undefined
    const b = opts.body
    if (b === undefined) payload = undefined
    else if (Buffer.isBuffer(b) || typeof b === 'string') payload = b
    else if (isStreamBody(b)) payload = b as Readable
    else {
      payload = JSON.stringify(b)
      headers['Content-Type'] ??= 'application/json'
    }
    if (payload !== undefined && !isStreamBody(payload)) headers['Content-Length'] = String(Buffer.byteLength(payload as Buffer | string))
    const fullPath = `/v${this.#version}${path}${qs}`
    if (this.#base.socketPath && !isStreamBody(payload) && !this.opts.createConnection) {
      return unixRequest(this.#base.socketPath, method, fullPath, headers, payload as Buffer | string | undefined, opts.signal).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT' || err.code === 'EACCES') throw new ConnectError(this.opts.host, err)
        throw err
      }) as Promise<Response>
    }
    const reqOpts: RequestOptions = { ...this.#base, method, path: fullPath, headers, ...(opts.signal ? { signal: opts.signal } : {}), ...this.#connection() }
    const request = await httpRequestFn(this.#secure)
    return new Promise((resolve, reject) => {
      const req = request(reqOpts, (res) => resolve(res as unknown as Response))
      req.on('error', (err) => {
        const code = (err as { code?: string }).code
        if (code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'EACCES' || code === 'ECONNRESET' && !req.reusedSocket) reject(new ConnectError(this.opts.host, err))
        else reject(err)
      })
      if (payload === undefined) req.end()
      else if (isStreamBody(payload)) {
        const s = payload as Readable
        s.on('error', (err) => req.destroy(err))
        s.pipe(req)
      } else req.end(payload)
    })
  }
}

/** The non-empty lines of a response body, as they arrive. */
export async function* readLines(res: AsyncIterable<unknown>): AsyncGenerator<string> {
  let buf = ''
  for await (const chunk of res) {
    buf += (chunk as Buffer).toString('utf8')
    let nl: number
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim()
      buf = buf.slice(nl + 1)
      if (line) yield line
    }
  }
  if (buf.trim()) yield buf.trim()
}

/** Split Docker's stdcopy framing ([stream, 0, 0, 0, size] + payload) into writes per stream. */
export function demuxer(write: (stream: number, payload: Buffer) => void): (chunk: Buffer) => void {
  let buf: Buffer = Buffer.alloc(0)
  return (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk
    while (buf.length >= 8) {
      const size = buf.readUInt32BE(4)
      if (buf.length < 8 + size) break
      write(buf[0]!, buf.subarray(8, 8 + size))
      buf = buf.subarray(8 + size)
    }
  }
}

/** node:http(s) is loaded only when a request needs it (a unix-socket request does not): start-up time. */
async function httpRequestFn(secure: boolean): Promise<typeof import('node:http').request> {
  return secure ? (await import('node:https')).request as unknown as typeof import('node:http').request : (await import('node:http')).request
}

function isStreamBody(b: unknown): boolean {
  return !!b && typeof (b as Readable).pipe === 'function' && typeof (b as Readable).on === 'function'
}

function parseStreamLine<T>(line: string): T {
  const obj = JSON.parse(line) as Record<string, unknown>
  if (obj.error || obj.errorDetail) {
    const detail = obj.errorDetail as { message?: string } | undefined
    throw new ApiError(500, detail?.message ?? String(obj.error))
  }
  return obj as T
}

export async function readAll(res: Response): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of res) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

function messageOf(body: Buffer): string {
  const text = body.toString('utf8')
  try {
    const obj = JSON.parse(text) as { message?: string }
    return obj.message ?? text.trim()
  } catch {
    return text.trim()
  }
}

/** A response whose body was consumed, replayed for the caller. */
function replay(res: Response, body: Buffer): Response {
  return Object.assign(Readable.from([body]), { statusCode: res.statusCode, statusMessage: res.statusMessage, headers: res.headers })
}

function encodeQuery(q: RequestOpts['query']): string {
  if (!q) return ''
  const p = new URLSearchParams()
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null) continue
    if (Array.isArray(v)) for (const x of v) p.append(k, x)
    else if (typeof v === 'boolean') p.append(k, v ? '1' : '0')
    else p.append(k, String(v))
  }
  const s = p.toString()
  return s ? `?${s}` : ''
}

function connectOptions(opts: ClientOptions): { base: RequestOptions; secure: boolean } {
  const host = opts.host
  if (opts.createConnection) {
    return { base: { host: 'api.moby.localhost', createConnection: opts.createConnection as unknown as RequestOptions['createConnection'] }, secure: false }
  }
  if (host.startsWith('unix://') || host.startsWith('/')) {
    return { base: { socketPath: host.startsWith('unix://') ? host.slice(7) : host }, secure: false }
  }
  const m = /^(?:tcp|http|https):\/\/(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/.exec(host)
  if (!m) throw new Error(`unable to parse docker host \`${host}\``)
  const hostname = m[1]!.replace(/^\[|\]$/g, '')
  const secure = !!opts.tls || host.startsWith('https://')
  const port = Number(m[2] ?? (secure ? 2376 : 2375))
  const base: RequestOptions = { host: hostname, port }
  if (secure && opts.tls) {
    const t = opts.tls
    Object.assign(base, {
      ...(t.ca ? { ca: readFileSync(t.ca) } : {}),
      ...(t.cert ? { cert: readFileSync(t.cert) } : {}),
      ...(t.key ? { key: readFileSync(t.key) } : {}),
      rejectUnauthorized: t.verify,
    })
  }
  return { base, secure }
}
