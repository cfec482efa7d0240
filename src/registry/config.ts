import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { EngineError } from '../lib/errors.js'
import { parseDuration } from './gc.js'
import type { LogLevel } from './server.js'

/** The settings of `berth registry serve`, from the YAML config file and the flags. */
export interface RegistryConfig {
  listen: string
  root: string
  tls?: { certificate: string; key: string }
  usersFile?: string
  token: { issuer: string; service: string; key: string; realm?: string; ttlSeconds: number }
  gc: { intervalMs: number | undefined; graceMs: number; uploadMaxAgeMs: number }
  logLevel: LogLevel
  accessLog: boolean
}

const bad = (msg: string) => new EngineError('InvalidArgument', 'ERR_REGISTRY_CONFIG', msg)
type Obj = Record<string, unknown>
const obj = (v: unknown, where: string): Obj => {
  if (v === undefined || v === null) return {}
  if (typeof v !== 'object' || Array.isArray(v)) throw bad(`${where}: expected a mapping`)
  return v as Obj
}
const str = (v: unknown, where: string): string | undefined => {
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string' || v === '') throw bad(`${where}: expected a string`)
  return v
}
function known(o: Obj, keys: string[], where: string): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw bad(`${where}: unknown key ${JSON.stringify(k)}`)
}

/** Read the YAML config (if any) and apply flags over it. */
export async function loadConfig(opts: { configFile?: string; listen?: string; dataRoot?: string; logLevel?: string }): Promise<RegistryConfig> {
  let doc: Obj = {}
  if (opts.configFile) {
    const { parse } = await import('yaml')
    let text: string
    try {
      text = await readFile(opts.configFile, 'utf8')
    } catch (err) {
      throw bad(`cannot read config file ${opts.configFile}: ${(err as Error).message}`)
    }
    try {
      doc = obj(parse(text), opts.configFile)
    } catch (err) {
      if (err instanceof EngineError) throw err
      throw bad(`${opts.configFile}: ${(err as Error).message}`)
    }
  }
  known(doc, ['listen', 'storage', 'tls', 'auth', 'gc', 'log'], 'config')
  const storage = obj(doc.storage, 'storage')
  known(storage, ['root'], 'storage')
  const tls = obj(doc.tls, 'tls')
  known(tls, ['certificate', 'key'], 'tls')
  const auth = obj(doc.auth, 'auth')
  known(auth, ['users_file', 'token'], 'auth')
  const tok = obj(auth.token, 'auth.token')
  known(tok, ['issuer', 'service', 'key', 'realm', 'expiration'], 'auth.token')
  const gc = obj(doc.gc, 'gc')
  known(gc, ['schedule', 'grace', 'upload_max_age'], 'gc')
  const log = obj(doc.log, 'log')
  known(log, ['level', 'access'], 'log')

  const root = opts.dataRoot ?? str(storage.root, 'storage.root')
  if (!root) throw bad('no data root: pass --data-root or set storage.root in the config file')
  const listen = opts.listen ?? str(doc.listen, 'listen') ?? '127.0.0.1:5000'
  const cert = str(tls.certificate, 'tls.certificate')
  const key = str(tls.key, 'tls.key')
  if (!!cert !== !!key) throw bad('tls: both certificate and key are needed')
  const level = (opts.logLevel ?? str(log.level, 'log.level') ?? 'info') as LogLevel
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw bad(`log.level: ${JSON.stringify(level)} is not one of debug, info, warn, error`)
  const dur = (v: unknown, where: string, def: number | undefined) => {
    if (v === undefined || v === null) return def
    try {
      return parseDuration(v as string | number)
    } catch (err) {
      throw bad(`${where}: ${(err as Error).message}`)
    }
  }
  const abs = resolve(root)
  return {
    listen, root: abs,
    ...(cert && key ? { tls: { certificate: cert, key } } : {}),
    ...(str(auth.users_file, 'auth.users_file') ? { usersFile: resolve(str(auth.users_file, 'auth.users_file')!) } : {}),
    token: {
      issuer: str(tok.issuer, 'auth.token.issuer') ?? 'berth-registry',
      service: str(tok.service, 'auth.token.service') ?? 'berth-registry',
      key: str(tok.key, 'auth.token.key') ?? join(abs, 'auth', 'token-key.pem'),
      ...(str(tok.realm, 'auth.token.realm') ? { realm: str(tok.realm, 'auth.token.realm')! } : {}),
      ttlSeconds: Math.round((dur(tok.expiration, 'auth.token.expiration', 300_000) ?? 300_000) / 1000),
    },
    gc: {
      intervalMs: gc.schedule === 'off' ? undefined : dur(gc.schedule, 'gc.schedule', undefined),
      graceMs: dur(gc.grace, 'gc.grace', 3_600_000)!,
      uploadMaxAgeMs: dur(gc.upload_max_age, 'gc.upload_max_age', 86_400_000)!,
    },
    logLevel: level,
    accessLog: log.access !== false,
  }
}

/** host:port (or :port, or [v6]:port) into its parts. */
export function parseListen(s: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(s)
  if (!m) throw bad(`invalid listen address ${JSON.stringify(s)}: use host:port`)
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port: Number(m[3]) }
}
