import { homedir } from 'node:os'
import { readFileSync } from 'node:fs'
import { Duplex } from 'node:stream'
import { ContextStoreError, loadContext } from './docker-context.js'
import { join } from 'node:path'
import { EngineClient, DEFAULT_HOST, type TlsOptions } from '../client/client.js'
import type { FlagValues } from './flags.js'

/** What a command runner gets: its parsed flags and args, the client, and the streams. */
export interface CliContext {
  /** `berth images`, `berth image ls`: as typed, for messages. */
  commandPath: string
  flags: FlagValues
  args: string[]
  global: FlagValues
  client(): EngineClient
  configDir: string
  out: NodeJS.WriteStream
  err: NodeJS.WriteStream
}

/** A command failed with a message and an exit status (printed as is). */
export class CliExit extends Error {
  constructor(readonly status: number, message = '') {
    super(message)
  }
}

export function configDirOf(global: FlagValues): string {
  return (global.config as string | undefined) || process.env.DOCKER_CONFIG || join(homedir(), '.docker')
}

/** Where a command's client connects: the context it came from, the host and TLS. */
export interface ResolvedEndpoint {
  contextName: string
  host: string
  tls?: TlsOptions
}

function hostOverride(global: FlagValues): string | undefined {
  const hosts = global.host as string[] | undefined
  if (hosts && hosts.length > 1) throw new CliExit(1, 'Specify only one -H')
  return hosts?.[0] || process.env.BERTH_HOST || process.env.DOCKER_HOST || undefined
}

/** The currentContext of config.json, read synchronously (this is on every command's path). */
export function currentContextOf(configDir: string): string | undefined {
  let text: string
  try {
    text = readFileSync(join(configDir, 'config.json'), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  if (!text.includes('currentContext')) return undefined
  try {
    const v = (JSON.parse(text) as { currentContext?: unknown }).currentContext
    return typeof v === 'string' && v ? v : undefined
  } catch {
    return undefined
  }
}

/**
 * The context a command uses, as docker chooses it: --context, then `default` when -H or
 * DOCKER_HOST is set, then DOCKER_CONTEXT, then config.json's currentContext, then `default`.
 */
export function resolveContextName(global: FlagValues): string {
  const flag = global.context as string | undefined
  const hosts = global.host as string[] | undefined
  if (flag && hosts?.length) throw new CliExit(1, 'conflicting options: cannot specify both --host and --context')
  if (flag) return flag
  if (hosts?.length || process.env.BERTH_HOST || process.env.DOCKER_HOST) return 'default'
  if (process.env.DOCKER_CONTEXT) return process.env.DOCKER_CONTEXT
  return currentContextOf(configDirOf(global)) ?? 'default'
}

/** The default context's endpoint: -H / DOCKER_HOST and the TLS flags and environment. */
export function defaultEndpoint(global: FlagValues): ResolvedEndpoint {
  const host = hostOverride(global) || DEFAULT_HOST
  const certPath = process.env.DOCKER_CERT_PATH || configDirOf(global)
  const verify = !!global.tlsverify || (!!process.env.DOCKER_TLS_VERIFY && process.env.DOCKER_TLS_VERIFY !== '0')
  const useTls = verify || !!global.tls || !!process.env.DOCKER_TLS
  let tls: TlsOptions | undefined
  if (useTls) {
    const ca = (global.tlscacert as string) || join(certPath, 'ca.pem')
    const cert = (global.tlscert as string) || join(certPath, 'cert.pem')
    const key = (global.tlskey as string) || join(certPath, 'key.pem')
    tls = { verify, ...(verify ? { ca } : {}), ...optionalFiles({ cert, key }) }
  }
  return { contextName: 'default', host, ...(tls ? { tls } : {}) }
}

/** Resolve the endpoint of the chosen context (docker's "unable to resolve docker endpoint"). */
export function resolveEndpoint(global: FlagValues): ResolvedEndpoint {
  const name = resolveContextName(global)
  if (name === 'default') return defaultEndpoint(global)
  const configDir = configDirOf(global)
  let stored
  try {
    stored = loadContext(configDir, name)
  } catch (err) {
    if (err instanceof ContextStoreError) throw new CliExit(1, `Failed to initialize: unable to resolve docker endpoint: ${err.message}`)
    throw err
  }
  const ep = stored.meta.Endpoints.docker
  const host = ep?.Host || DEFAULT_HOST
  const files = stored.tlsMaterial.docker ?? []
  const dir = join(stored.tlsPath, 'docker')
  let tls: TlsOptions | undefined
  if (files.length || ep?.SkipTLSVerify) {
    tls = {
      verify: !ep?.SkipTLSVerify,
      ...(files.includes('ca.pem') ? { ca: join(dir, 'ca.pem') } : {}),
      ...(files.includes('cert.pem') ? { cert: join(dir, 'cert.pem') } : {}),
      ...(files.includes('key.pem') ? { key: join(dir, 'key.pem') } : {}),
    }
  }
  return { contextName: name, host, ...(tls ? { tls } : {}) }
}

/** The host the client will use (for messages and `context ls` of `default`). */
export function resolveHost(global: FlagValues): string {
  return resolveEndpoint(global).host
}

export function makeClient(global: FlagValues): EngineClient {
  const ep = resolveEndpoint(global)
  const version = process.env.DOCKER_API_VERSION ? { version: process.env.DOCKER_API_VERSION } : {}
  if (ep.host.startsWith('ssh://')) {
    return new EngineClient({ host: ep.host, createConnection: sshConnector(ep.host, !!global.debug), ...version })
  }
  const tlsConn = ep.tls ? tlsConnector(ep.host, ep.tls) : undefined
  if (tlsConn) return new EngineClient({ host: ep.host, createConnection: tlsConn, ...version })
  return new EngineClient({ host: ep.host, ...(ep.tls ? { tls: ep.tls } : {}), ...version })
}

/**
 * TLS connections for tcp:// hosts, one per request and closed after it: node's https agent
 * keeps sockets alive, and a CLI would wait on them before exiting.
 */
function tlsConnector(host: string, t: TlsOptions): (() => Duplex) | undefined {
  const m = /^(?:tcp|https):\/\/(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/.exec(host)
  if (!m) return undefined
  const hostname = m[1]!.replace(/^\[|\]$/g, '')
  const port = Number(m[2] ?? 2376)
  const read = (f: string | undefined) => (f ? readFileSync(f) : undefined)
  const [ca, cert, key] = [read(t.ca), read(t.cert), read(t.key)]
  const getBuiltin = (process as unknown as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule
  if (!getBuiltin) return undefined
  const tls = getBuiltin('node:tls') as typeof import('node:tls')
  const net = getBuiltin('node:net') as typeof import('node:net')
  return () => tls.connect({
    host: hostname, port,
    ...(net.isIP(hostname) ? {} : { servername: hostname }),
    ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}),
    rejectUnauthorized: t.verify,
  })
}

/**
 * A connection factory for ssh:// hosts: the SSH transport (and its library) loads only when
 * the first connection is made; every connection of one command shares one SSH session.
 */
function sshConnector(host: string, debug: boolean): () => Duplex {
  let factory: Promise<() => Promise<Duplex>> | undefined
  return () => {
    factory ??= sshFactory(host, debug)
    return deferredDuplex(factory.then((f) => f()))
  }
}

/**
 * Commands to one ssh:// host share one SSH connection through a mux process (client/ssh-mux.ts)
 * that the first of them starts; BERTH_SSH_MUX=0 (or --debug, to see the handshake) connects
 * per command.
 */
async function sshFactory(host: string, debug: boolean): Promise<() => Promise<Duplex>> {
  const mux = await import('../client/ssh-mux.js')
  if (debug || !mux.muxEnabled()) return (await import('../client/ssh-transport.js')).sshConnectionFactory(host, { debug })
  const script = process.argv[1]
  return mux.sharedSshConnectionFactory(host, {
    startMux: (url) => {
      if (!script) return
      void import('../platform/detached.js').then((d) => d.spawnDetached(process.execPath, [script, 'system', 'ssh-mux', url]))
    },
  })
}

/** A Duplex usable at once that forwards to one that arrives later. */
function deferredDuplex(target: Promise<Duplex>): Duplex {
  let inner: Duplex | undefined
  const queued: Array<[Buffer, () => void]> = []
  let endWanted: (() => void) | undefined
  const d = new Duplex({
    write(chunk: Buffer, _enc, cb) {
      if (inner) inner.write(chunk, cb)
      else queued.push([chunk, cb])
    },
    final(cb) {
      if (inner) inner.end(cb)
      else endWanted = cb
    },
    read() {
      inner?.resume()
    },
    destroy(err, cb) {
      inner?.destroy(err ?? undefined)
      cb(err)
    },
  })
  target.then((s) => {
    inner = s
    s.on('data', (c: Buffer) => { if (!d.push(c)) s.pause() })
    s.on('end', () => d.push(null))
    s.on('error', (e) => d.destroy(e))
    s.on('close', () => { if (!d.destroyed) d.push(null) })
    for (const [c, cb] of queued.splice(0)) s.write(c, cb)
    if (endWanted) s.end(endWanted)
  }, (err: Error) => d.destroy(err))
  return d
}

function optionalFiles(files: { cert: string; key: string }): { cert?: string; key?: string } {
  // Client certificates are optional with --tls; required files are reported by the TLS layer.
  return files
}
