import { createServer as createHttp, type Server } from 'node:http'
import { createServer as createHttps } from 'node:https'
import { readFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { Accounts, accountsPath } from './accounts.js'
import { parseListen, type RegistryConfig } from './config.js'
import { collectGarbage } from './gc.js'
import { createHandler, streamLogger, type Logger } from './server.js'
import { Storage } from './storage.js'
import { TokenService } from './token.js'

export interface RunningRegistry {
  server: Server
  port: number
  storage: Storage
  log: Logger
  /** Stop accepting, finish in-flight requests (up to `graceMs`), stop the GC timer. */
  close(graceMs?: number): Promise<void>
}

/** Start the registry server described by `cfg`. */
export async function startRegistry(cfg: RegistryConfig, log: Logger = streamLogger(cfg.logLevel)): Promise<RunningRegistry> {
  const storage = new Storage(cfg.root)
  await storage.init()
  const accounts = new Accounts(accountsPath(cfg.root, cfg.usersFile))
  await accounts.refresh(true)
  const tokens = new TokenService({ issuer: cfg.token.issuer, service: cfg.token.service, ttlSeconds: cfg.token.ttlSeconds })
  await tokens.loadKey(cfg.token.key)
  const accessLog: Logger = cfg.accessLog ? log : { level: log.level === 'debug' || log.level === 'info' ? 'warn' : log.level, write: (l, m, f) => { if (m !== 'request') log.write(l, m, f) } }
  const handler = createHandler({ storage, accounts, tokens, log: accessLog, ...(cfg.token.realm ? { realm: cfg.token.realm } : {}) })
  const server = cfg.tls
    ? createHttps({ cert: await readFile(cfg.tls.certificate), key: await readFile(cfg.tls.key) }, handler)
    : createHttp(handler)
  server.keepAliveTimeout = 65_000
  server.requestTimeout = 0
  const { host, port } = parseListen(cfg.listen)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => { server.off('error', reject); resolve() })
  })
  const bound = (server.address() as AddressInfo).port
  let gcTimer: NodeJS.Timeout | undefined
  let gcRunning: Promise<unknown> | undefined
  if (cfg.gc.intervalMs) {
    gcTimer = setInterval(() => {
      if (gcRunning) return
      gcRunning = collectGarbage(storage, { graceMs: cfg.gc.graceMs, uploadMaxAgeMs: cfg.gc.uploadMaxAgeMs })
        .then((r) => log.write('info', 'garbage collected', { blobs: r.deletedBlobs, bytes: r.freedBytes, manifests: r.plan.revisions.length, uploads: r.plan.uploads.length, restored: r.restored }))
        .catch((err: unknown) => log.write('error', 'garbage collection failed', { error: String(err) }))
        .finally(() => (gcRunning = undefined))
    }, cfg.gc.intervalMs)
    gcTimer.unref()
  }
  log.write('info', 'listening', { address: `${host}:${bound}`, tls: !!cfg.tls, root: cfg.root, tokenAlgorithm: tokens.algorithm })
  return {
    server, port: bound, storage, log,
    async close(graceMs = 10_000) {
      if (gcTimer) clearInterval(gcTimer)
      const closed = new Promise<void>((r) => server.close(() => r()))
      server.closeIdleConnections()
      const t = setTimeout(() => server.closeAllConnections(), graceMs)
      await closed
      clearTimeout(t)
      await gcRunning
    },
  }
}
