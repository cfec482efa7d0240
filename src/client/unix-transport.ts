import { connect } from 'node:net'
import { Readable } from 'node:stream'

/**
 * A minimal HTTP/1.1 client over a unix socket, for the CLI's plain requests. node:http costs
 * about 9 ms of start-up CPU per command (agent, parser, IPv6 regex) where this costs under 1;
 * see docs/cli.md. It sends one request per connection (`Connection: close`) and decodes
 * Content-Length, chunked and read-to-close bodies. Uploads of streams, TLS and connection
 * hijacking keep using node:http.
 */
export class UnixResponse extends Readable {
  statusCode = 0
  statusMessage = ''
  headers: Record<string, string> = {}
  override _read(): void {}
}

export function unixRequest(socketPath: string, method: string, path: string, headers: Record<string, string>, body?: Buffer | string, signal?: AbortSignal): Promise<UnixResponse> {
  return new Promise((resolve, reject) => {
    const sock = connect({ path: socketPath })
    const res = new UnixResponse()
    let head: Buffer = Buffer.alloc(0)
    let inBody = false
    let decode: ((b: Buffer) => void) | undefined
    let settled = false
    const fail = (err: Error) => {
      if (!settled) { settled = true; reject(err) } else res.destroy(err)
      sock.destroy()
    }
    const onAbort = () => fail(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'))
    signal?.addEventListener('abort', onAbort, { once: true })
    sock.on('error', fail)
    sock.on('connect', () => {
      let req = `${method} ${path} HTTP/1.1\r\nHost: api.moby.localhost\r\nConnection: close\r\n`
      for (const [k, v] of Object.entries(headers)) req += `${k}: ${v}\r\n`
      if (body !== undefined && !('Content-Length' in headers)) req += `Content-Length: ${Buffer.byteLength(body)}\r\n`
      sock.write(`${req}\r\n`)
      if (body !== undefined) sock.write(body)
    })
    sock.on('data', (chunk: Buffer) => {
      if (inBody) return decode!(chunk)
      head = head.length ? Buffer.concat([head, chunk]) : chunk
      const end = head.indexOf('\r\n\r\n')
      if (end < 0) {
        if (head.length > 1 << 20) fail(new Error('malformed HTTP response: header too large'))
        return
      }
      const lines = head.subarray(0, end).toString('latin1').split('\r\n')
      const m = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(lines[0] ?? '')
      if (!m) return fail(new Error(`malformed HTTP response: ${lines[0]}`))
      res.statusCode = Number(m[1])
      res.statusMessage = m[2] ?? ''
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':')
        if (i > 0) res.headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim()
      }
      inBody = true
      decode = bodyDecoder(res, method === 'HEAD' || res.statusCode === 204 || res.statusCode === 304 ? 0 : undefined, () => sock.destroy())
      settled = true
      resolve(res)
      const rest = head.subarray(end + 4)
      head = Buffer.alloc(0)
      if (rest.length) decode(rest)
    })
    sock.on('end', () => {
      if (!settled) return fail(new Error('connection closed before the response'))
      if (!res.readableEnded) res.push(null)
    })
    sock.on('close', () => signal?.removeEventListener('abort', onAbort))
  })
}

/** Returns a function fed raw body bytes; pushes decoded bytes into res and ends it. */
function bodyDecoder(res: UnixResponse, forcedLength: number | undefined, done: () => void): (b: Buffer) => void {
  const finish = () => { res.push(null); done() }
  const te = res.headers['transfer-encoding']?.toLowerCase()
  const cl = forcedLength ?? (res.headers['content-length'] !== undefined ? Number(res.headers['content-length']) : undefined)
  if (te !== 'chunked') {
    if (cl === undefined) return (b) => { res.push(b) }
    let left = cl
    if (left === 0) queueMicrotask(finish)
    return (b) => {
      if (left <= 0) return
      const part = b.length > left ? b.subarray(0, left) : b
      left -= part.length
      res.push(part)
      if (left === 0) finish()
    }
  }
  // Chunked: size line, data, CRLF; a zero size ends the body (trailers are ignored).
  let buf: Buffer = Buffer.alloc(0)
  let need = -1 // -1: reading a size line; n: bytes of data still to read (plus the CRLF after it)
  let ended = false
  return (b) => {
    if (ended) return
    buf = buf.length ? Buffer.concat([buf, b]) : b
    for (;;) {
      if (need < 0) {
        const nl = buf.indexOf('\r\n')
        if (nl < 0) return
        const size = parseInt(buf.subarray(0, nl).toString('latin1').split(';')[0]!, 16)
        buf = buf.subarray(nl + 2)
        if (!(size >= 0)) { res.destroy(new Error('malformed chunked encoding')); return }
        if (size === 0) { ended = true; finish(); return }
        need = size
      }
      if (buf.length < need + 2) {
        // Pass along what data there is without waiting for the whole chunk.
        const avail = Math.min(buf.length, need)
        if (avail > 0) { res.push(buf.subarray(0, avail)); buf = buf.subarray(avail); need -= avail }
        if (need > 0 || buf.length < 2) return
      }
      if (need > 0) { res.push(buf.subarray(0, need)); buf = buf.subarray(need); need = 0 }
      if (buf.length < 2) return
      buf = buf.subarray(2)
      need = -1
    }
  }
}
