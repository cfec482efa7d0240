/**
 * The docker CLI's context store, read and written byte for byte as docker 28 does, so that
 * `docker context` and `berth context` share one set of contexts:
 *
 *   <config>/contexts/meta/<sha256(name)>/meta.json         {"Name","Metadata","Endpoints"}
 *   <config>/contexts/tls/<sha256(name)>/docker/{ca,cert,key}.pem
 *
 * meta dirs are 0755 and meta.json 0644; tls dirs 0700 and their files 0600. JSON is Go's
 * encoding/json: compact, `<`, `>` and `&` escaped. An export is docker's tar: USTAR headers,
 * uid/gid 0, mtime 0, meta.json then tls/..., and (as docker's pipe closes first) neither
 * padding after the last entry nor the end-of-archive blocks.
 *
 * Reads used on the start-up path (`resolveContextEndpoint`) are synchronous and light.
 */
import { createHash } from 'node:crypto'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

export const DEFAULT_CONTEXT = 'default'
export const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$/
export const DOCKER_ENDPOINT = 'docker'

export interface EndpointMeta {
  Host?: string
  SkipTLSVerify: boolean
  [k: string]: unknown
}

/** meta.json, as docker writes it; unknown fields are kept on rewrite. */
export interface ContextMeta {
  Name: string
  Metadata: { Description?: string; [k: string]: unknown }
  Endpoints: Record<string, EndpointMeta>
}

/** TLS material of one endpoint: file name → bytes (ca.pem, cert.pem, key.pem). */
export type TlsFiles = Record<string, Buffer>

/** A context as loaded: its metadata and where its files are. */
export interface StoredContext {
  meta: ContextMeta
  metaPath: string
  tlsPath: string
  /** endpoint → sorted file names in its TLS dir. */
  tlsMaterial: Record<string, string[]>
}

/** An error in docker's words; the CLI prints the message as is. */
export class ContextStoreError extends Error {
  constructor(message: string, readonly kind: 'NotFound' | 'Conflict' | 'InvalidArgument' | 'Internal' = 'InvalidArgument') {
    super(message)
    this.name = 'ContextStoreError'
  }
}

export function contextId(name: string): string {
  return createHash('sha256').update(name).digest('hex')
}

export function metaDir(configDir: string, name: string): string {
  return join(configDir, 'contexts', 'meta', contextId(name))
}

export function tlsDir(configDir: string, name: string): string {
  return join(configDir, 'contexts', 'tls', contextId(name))
}

/** Go's json.Marshal escaping of HTML characters and line separators. */
export function goJson(value: unknown, indent?: string): string {
  const s = indent === undefined ? JSON.stringify(value) : JSON.stringify(value, null, indent)
  return s.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** Field order as docker's structs give it. */
export function serializeMeta(meta: ContextMeta): string {
  const endpoints: Record<string, unknown> = {}
  for (const [k, ep] of Object.entries(meta.Endpoints)) {
    const { Host, SkipTLSVerify, ...rest } = ep
    endpoints[k] = { ...(Host ? { Host } : {}), SkipTLSVerify: !!SkipTLSVerify, ...rest }
  }
  const { Description, ...extra } = meta.Metadata ?? {}
  return goJson({ Name: meta.Name, Metadata: { ...(Description ? { Description } : {}), ...extra }, Endpoints: endpoints })
}

export function validateName(name: string): void {
  if (name === DEFAULT_CONTEXT) throw new ContextStoreError(`"${DEFAULT_CONTEXT}" is a reserved context name`)
  if (!NAME_RE.test(name)) throw new ContextStoreError(`context name "${name}" is invalid, names are validated against regexp "${NAME_RE.source}"`)
}

function notFound(configDir: string, name: string): ContextStoreError {
  return new ContextStoreError(`context "${name}": context not found: open ${join(metaDir(configDir, name), 'meta.json')}: no such file or directory`, 'NotFound')
}

/** Load one stored context (not `default`, which lives in memory). */
export function loadContext(configDir: string, name: string): StoredContext {
  const dir = metaDir(configDir, name)
  let text: string
  try {
    text = readFileSync(join(dir, 'meta.json'), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') throw notFound(configDir, name)
    throw err
  }
  let meta: ContextMeta
  try {
    meta = JSON.parse(text) as ContextMeta
  } catch (err) {
    throw new ContextStoreError(`parsing ${join(dir, 'meta.json')}: ${(err as Error).message}`, 'Internal')
  }
  meta.Metadata ??= {}
  meta.Endpoints ??= {}
  return { meta, metaPath: dir, tlsPath: tlsDir(configDir, name), tlsMaterial: listTls(tlsDir(configDir, name)) }
}

function listTls(dir: string): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  let eps: string[]
  try {
    eps = readdirSync(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out
    throw err
  }
  for (const ep of eps.sort()) {
    try {
      const files = readdirSync(join(dir, ep)).filter((f) => statSync(join(dir, ep, f)).isFile()).sort()
      if (files.length) out[ep] = files
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOTDIR') throw err
    }
  }
  return out
}

/** Read one endpoint's TLS files (absent ones omitted). */
export function readTls(configDir: string, name: string, endpoint = DOCKER_ENDPOINT): TlsFiles {
  const dir = join(tlsDir(configDir, name), endpoint)
  const out: TlsFiles = {}
  for (const f of ['ca.pem', 'cert.pem', 'key.pem']) {
    try {
      out[f] = readFileSync(join(dir, f))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
  }
  return out
}

export function contextExists(configDir: string, name: string): boolean {
  try {
    statSync(join(metaDir(configDir, name), 'meta.json'))
    return true
  } catch {
    return false
  }
}

/** Every stored context, sorted by name; an unreadable one carries its error. */
export function listContexts(configDir: string): Array<{ name: string; ctx?: StoredContext; error?: string }> {
  const root = join(configDir, 'contexts', 'meta')
  let ids: string[]
  try {
    ids = readdirSync(root)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  const out: Array<{ name: string; ctx?: StoredContext; error?: string }> = []
  for (const id of ids) {
    let meta: ContextMeta
    try {
      meta = JSON.parse(readFileSync(join(root, id, 'meta.json'), 'utf8')) as ContextMeta
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue
      out.push({ name: id, error: (err as Error).message })
      continue
    }
    meta.Metadata ??= {}
    meta.Endpoints ??= {}
    out.push({ name: meta.Name, ctx: { meta, metaPath: join(root, id), tlsPath: tlsDir(configDir, meta.Name), tlsMaterial: listTls(tlsDir(configDir, meta.Name)) } })
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

async function writeAtomic(path: string, data: string | Buffer, mode: number): Promise<void> {
  const { writeFile, rename, chmod } = await import('node:fs/promises')
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, data, { mode })
  await chmod(tmp, mode)
  await rename(tmp, path)
}

/**
 * Write a context's metadata and, when given, replace its TLS material per endpoint
 * (an empty record for an endpoint removes that endpoint's files).
 */
export async function writeContext(configDir: string, meta: ContextMeta, tls?: Record<string, TlsFiles>): Promise<void> {
  const { mkdir, rm } = await import('node:fs/promises')
  const dir = metaDir(configDir, meta.Name)
  await mkdir(dir, { recursive: true, mode: 0o755 })
  await writeAtomic(join(dir, 'meta.json'), serializeMeta(meta), 0o644)
  if (!tls) return
  const tdir = tlsDir(configDir, meta.Name)
  for (const [ep, files] of Object.entries(tls)) {
    await rm(join(tdir, ep), { recursive: true, force: true })
    if (!Object.keys(files).length) continue
    await mkdir(join(tdir, ep), { recursive: true, mode: 0o700 })
    for (const [f, data] of Object.entries(files)) await writeAtomic(join(tdir, ep, f), data, 0o600)
  }
}

export async function removeContext(configDir: string, name: string): Promise<void> {
  const { rm } = await import('node:fs/promises')
  await rm(metaDir(configDir, name), { recursive: true, force: true })
  await rm(tlsDir(configDir, name), { recursive: true, force: true })
}

// ---- export / import (docker's tar) ----

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0'
}

function ustarHeader(name: string, mode: number, size: number, type: '0' | '5'): Buffer {
  const h = Buffer.alloc(512)
  if (Buffer.byteLength(name) > 100) throw new ContextStoreError(`name too long for a context archive: ${name}`, 'Internal')
  h.write(name, 0, 'utf8')
  h.write(octal(mode, 8), 100, 'latin1')
  h.write(octal(0, 8), 108, 'latin1')
  h.write(octal(0, 8), 116, 'latin1')
  h.write(octal(size, 12), 124, 'latin1')
  h.write(octal(0, 12), 136, 'latin1')
  h.write('        ', 148, 'latin1')
  h.write(type, 156, 'latin1')
  h.write('ustar\x0000', 257, 'latin1')
  h.write(octal(0, 8), 329, 'latin1')
  h.write(octal(0, 8), 337, 'latin1')
  let sum = 0
  for (const b of h) sum += b
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1')
  return h
}

/** docker's export archive for a context: meta.json, tls/, tls/<ep>/, tls/<ep>/<file>. */
export function exportArchive(meta: ContextMeta, tls: Record<string, TlsFiles>): Buffer {
  const parts: Buffer[] = []
  let pending = 0
  const entry = (name: string, mode: number, data: Buffer | undefined) => {
    // Padding is written before the next header only (docker never closes its tar writer).
    if (pending) parts.push(Buffer.alloc(pending))
    parts.push(ustarHeader(name, mode, data?.length ?? 0, data ? '0' : '5'))
    pending = 0
    if (data) {
      parts.push(data)
      pending = (512 - (data.length % 512)) % 512
    }
  }
  const metaBytes = Buffer.from(serializeMeta(meta))
  entry('meta.json', 0o644, metaBytes)
  entry('tls', 0o700, undefined)
  for (const ep of Object.keys(tls).sort()) {
    const files = tls[ep]!
    if (!Object.keys(files).length) continue
    entry(`tls/${ep}`, 0o700, undefined)
    for (const f of Object.keys(files).sort()) entry(`tls/${ep}/${f}`, 0o600, files[f]!)
  }
  return Buffer.concat(parts)
}

/** Read a context archive (docker's truncated form or a complete tar). */
export function parseArchive(data: Buffer): { meta: ContextMeta; tls: Record<string, TlsFiles> } {
  let off = 0
  let meta: ContextMeta | undefined
  const tls: Record<string, TlsFiles> = {}
  let sawEntry = false
  while (off + 512 <= data.length) {
    const h = data.subarray(off, off + 512)
    if (h.every((b) => b === 0)) break
    let sum = 0
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!
    const stored = parseInt(h.subarray(148, 156).toString('latin1').replace(/[\0 ]/g, ''), 8)
    if (stored !== sum) throw new ContextStoreError('archive/tar: invalid tar header')
    const rawName = h.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '')
    const prefix = h.subarray(345, 500).toString('utf8').replace(/\0.*$/s, '')
    const name = prefix ? `${prefix}/${rawName}` : rawName
    const size = parseInt(h.subarray(124, 136).toString('latin1').replace(/[\0 ]/g, '') || '0', 8)
    const type = String.fromCharCode(h[156]!)
    off += 512
    if (off + size > data.length) throw new ContextStoreError('unexpected EOF')
    const body = data.subarray(off, off + size)
    off += Math.ceil(size / 512) * 512
    sawEntry = true
    if (type === '5') continue
    if (type !== '0' && type !== '\0') throw new ContextStoreError(`unexpected entry type in context archive: ${name}`)
    if (name === 'meta.json') {
      try {
        meta = JSON.parse(body.toString('utf8')) as ContextMeta
      } catch (err) {
        throw new ContextStoreError(`invalid context metadata: ${(err as Error).message}`)
      }
      continue
    }
    const m = /^tls\/([^/]+)\/([^/]+)$/.exec(name)
    if (!m || m[1] === '..' || m[2] === '..' || m[1] === '.' || m[2] === '.') throw new ContextStoreError(`unexpected file in context archive: ${name}`)
    ;(tls[m[1]!] ??= {})[m[2]!] = Buffer.from(body)
  }
  if (!sawEntry) throw new ContextStoreError('unexpected EOF')
  if (!meta) throw new ContextStoreError('invalid context archive: no meta.json')
  meta.Metadata ??= {}
  meta.Endpoints ??= {}
  return { meta, tls }
}
