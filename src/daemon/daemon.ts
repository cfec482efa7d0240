import { randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import { chmod, mkdir, readFile, rm, unlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { Backends, BuildBackend, ContainerBackend, ImageBackend, NetworkBackend, RegistryBackend, SystemBackend, VolumeBackend } from '../api/backend.js'
import { Router } from '../api/router.js'
import { imageRoutes } from '../api/routes/images.js'
import { systemRoutes } from '../api/routes/system.js'
import { containerRoutes } from '../api/routes/containers.js'
import { unimplementedRoutes } from '../api/routes/unimplemented.js'
import { logRoutes } from '../api/routes/logs.js'
import { statsRoutes } from '../api/routes/stats.js'
import { archiveRoutes } from '../api/routes/archive.js'
import { execRoutes } from '../api/routes/exec.js'
import { registryRoutes } from '../api/routes/registry.js'
import { buildRoutes } from '../api/routes/build.js'
import { networkRoutes } from '../api/routes/networks.js'
import { volumeRoutes } from '../api/routes/volumes.js'
import { buildBackend } from '../engine/backends/build.js'
import { containerBackend } from '../engine/backends/containers.js'
import { imageBackend } from '../engine/backends/images.js'
import { networkBackend } from '../engine/backends/networks.js'
import { registryBackend } from '../engine/backends/registry.js'
import { systemBackend } from '../engine/backends/system.js'
import { volumeBackend } from '../engine/backends/volumes.js'
import { Engine } from '../engine/engine.js'
import { hostPlatform } from '../engine/images/service.js'
import { BERTH_VERSION, readHostFacts, type HostFacts } from '../engine/system/info.js'
import { EngineError, invalid, isNotFoundErrno, errno } from '../lib/errors.js'
import { readJson, writeFileAtomic, writeJsonAtomic } from '../lib/fs.js'
import { repairCgroupV1Hierarchies } from '../platform/cgroups.js'
import { cmdlineOf, ipv4ForwardingEnabled, openFdCount } from '../platform/procs.js'
import type { DaemonConfig } from './config.js'
import { logger, type Logger } from './log.js'
import type { SwarmNode } from '../cluster/node.js'
import { buildSwarm } from './swarm-wiring.js'
import { swarmRoutes } from '../api/routes/swarm.js'
import type { LogsOptions } from '../api/backend.js'
import { ClusterLogs, NODE_LOGS_PATH, nodeLogsHandler } from '../cluster/logs.js'
import { ClusterNetworks, ensureIngressNetwork } from '../cluster/networks.js'
import { ClusterObjects } from '../cluster/objects.js'
import { swarmAgentEngine } from '../engine/backends/swarm-agent.js'
import { swarmOverlay } from '../engine/backends/swarm-overlay.js'

/** One running berthd: its config, engine, API listeners and pid file. */
export class Daemon {
  readonly engine: Engine
  readonly platform = hostPlatform()
  readonly log: Logger
  facts!: HostFacts
  daemonId = ''
  gitCommit = ''
  buildTime = ''
  #servers: Server[] = []
  /** Hijacked connections (attach, exec): not closed by server.close(), so ended at stop. */
  #hijacked = new Set<import('node:stream').Duplex>()
  #warnings: string[] = []
  /** This berthd's swarm membership (cluster/node.ts); started after the API listens. */
  swarm: SwarmNode | undefined

  constructor(readonly config: DaemonConfig) {
    this.log = logger(config.logLevel)
    this.engine = new Engine({ dataRoot: config.dataRoot, execRoot: config.execRoot, log: (m) => this.log.info(m), defaultRuntime: config.defaultRuntime, logDefaults: { type: config.logDriver, config: config.logOpts }, network: { bip: config.bip, pools: config.defaultAddressPools } })
  }

  async start(): Promise<void> {
    const c = this.config
    await mkdir(c.dataRoot, { recursive: true, mode: 0o711 })
    await mkdir(c.execRoot, { recursive: true, mode: 0o700 })
    await this.#writePidfile()
    try {
      const [facts] = await Promise.all([readHostFacts(c.dataRoot), this.engine.init(), this.#loadIdentity()])
      this.facts = facts
      try {
        const fixed = await repairCgroupV1Hierarchies()
        if (fixed.length) this.log.info(`mounted missing cgroup v1 hierarchies for the OCI runtime: ${fixed.join(', ')}`)
      } catch (err) {
        this.#warnings.push(`WARNING: could not mount the hugetlb cgroup hierarchy (${(err as Error).message}); crun may refuse to run containers`)
      }
      if (!facts.runtimes[c.defaultRuntime]) this.#warnings.push(`WARNING: the default runtime ${c.defaultRuntime} is not installed`)
      const router = new Router(`Berth/${BERTH_VERSION} (linux)`, (m) => this.log.error(m))
      const b = this.backends()
      // Swarm mode (docs/swarm.md): the node's lifecycle, the agent's engine and the overlay
      // driver over this engine, and the objects, networks and logs parts over the node's context.
      const log = (m: string) => this.log.info(m)
      const overlay = swarmOverlay({ networks: this.engine.networks, log })
      const localLogs = (id: string, o: LogsOptions) => b.containers.logs(id, o)
      const { node, cluster } = buildSwarm({
        dataRoot: c.dataRoot, execRoot: c.execRoot, engine: this.engine, facts: () => this.facts, labels: c.labels,
        log,
        agentEngine: swarmAgentEngine({ containers: this.engine.containers, images: this.engine.images, registry: this.config, execRoot: c.execRoot, overlay, log }),
        overlay,
        afterInit: async (ctx) => { await ensureIngressNetwork(ctx.store) },
      }, (ctx) => ({ objects: new ClusterObjects(ctx), networks: new ClusterNetworks(ctx), logs: new ClusterLogs(ctx, localLogs) }))
      node.mount(NODE_LOGS_PATH, nodeLogsHandler(localLogs))
      this.swarm = node
      const system: SystemBackend = {
        ...b.system,
        info: async () => ({ ...(await b.system.info()), swarm: await node.info() }),
        swarmPingStatus: () => node.pingStatus(),
      }
      systemRoutes(router, system)
      swarmRoutes(router, cluster)
      imageRoutes(router, b.images, b.registry)
      containerRoutes(router, b.containers)
      logRoutes(router, b.containers)
      execRoutes(router, b.containers)
      statsRoutes(router, b.containers)
      archiveRoutes(router, b.containers)
      registryRoutes(router, b.registry)
      buildRoutes(router, b.build)
      networkRoutes(router, b.networks, cluster)
      volumeRoutes(router, b.volumes)
      unimplementedRoutes(router)
      // Rejoin the swarm recorded in the data root (in the background: a worker whose managers are
      // away keeps retrying, a locked node waits for `swarm unlock`), before the API answers: its
      // first /info already says pending or locked, not inactive.
      await node.start()
      for (const host of c.hosts) this.#servers.push(await this.#listen(host, router))
    } catch (err) {
      await this.stop()
      throw err
    }
    this.log.info(`berthd ${BERTH_VERSION} started: API listening on ${c.hosts.join(', ')}, data root ${c.dataRoot}`)
  }

  async stop(): Promise<void> {
    await this.swarm?.stop().catch((err: Error) => this.log.error(`swarm: ${err.message}`))
    for (const sock of this.#hijacked) sock.destroy()
    await Promise.all(this.#servers.map((s) => new Promise<void>((resolve) => { s.close(() => resolve()); s.closeAllConnections() })))
    this.#servers = []
    for (const host of this.config.hosts) {
      if (host.startsWith('unix://')) await unlink(host.slice(7)).catch(() => {})
    }
    this.engine.containers.close()
    await this.engine.layers.settle()
    await rm(this.config.pidfile, { force: true })
  }

  async #writePidfile(): Promise<void> {
    const p = this.config.pidfile
    try {
      const old = parseInt((await readFile(p, 'utf8')).trim(), 10)
      if (old > 0 && old !== process.pid && processAlive(old)) {
        throw invalid('ERR_PIDFILE', `pid file found, ensure berthd is not running or delete ${p}`)
      }
    } catch (err) {
      if (!isNotFoundErrno(err)) throw err
    }
    await mkdir(dirname(p), { recursive: true })
    await writeFileAtomic(p, `${process.pid}`)
    // A second daemon on the same data root would corrupt it.
    const lock = join(this.config.dataRoot, 'berthd.pid')
    try {
      const other = parseInt((await readFile(lock, 'utf8')).trim(), 10)
      if (other > 0 && other !== process.pid && processAlive(other)) {
        await rm(p, { force: true })
        throw invalid('ERR_DATA_ROOT_IN_USE', `data root ${this.config.dataRoot} is in use by another berthd (pid ${other})`)
      }
    } catch (err) {
      if (!isNotFoundErrno(err)) throw err
    }
    await writeFileAtomic(lock, `${process.pid}`)
  }

  async #loadIdentity(): Promise<void> {
    const p = join(this.config.dataRoot, 'engine-id.json')
    const id = await readJson<{ id: string }>(p)
    if (id?.id) this.daemonId = id.id
    else {
      this.daemonId = randomUUID()
      await writeJsonAtomic(p, { id: this.daemonId })
    }
    try {
      const meta = JSON.parse(await readFile(new URL('../../build-info.json', import.meta.url), 'utf8')) as { gitCommit?: string; buildTime?: string }
      this.gitCommit = meta.gitCommit ?? ''
      this.buildTime = meta.buildTime ?? ''
    } catch (err) {
      if (!isNotFoundErrno(err)) throw err
    }
  }

  async #listen(host: string, router: Router): Promise<Server> {
    const handler = (req: Parameters<Router['handle']>[0], res: Parameters<Router['handle']>[1]) => {
      void router.handle(req, res)
    }
    if (host.startsWith('unix://') || host.startsWith('/')) {
      const path = host.startsWith('unix://') ? host.slice(7) : host
      await mkdir(dirname(path), { recursive: true })
      await unlink(path).catch((err) => { if (!isNotFoundErrno(err)) throw err })
      const server = createServer({ keepAliveTimeout: 30_000 }, handler)
      server.on('upgrade', (req, socket, head) => this.#upgrade(router, req, socket, head))
      await listenOn(server, { path })
      await chmod(path, 0o660)
      return server
    }
    const m = /^(?:tcp:\/\/)?([^:]*|\[[^\]]*\]):(\d+)$/.exec(host)
    if (!m) throw invalid('ERR_INVALID_HOST', `invalid bind address (${host}): unsupported proto`)
    const address = m[1]!.replace(/^\[|\]$/g, '') || '0.0.0.0'
    const port = Number(m[2])
    const c = this.config
    let server: Server
    if (c.tls) {
      if (!c.tlsCert || !c.tlsKey) throw invalid('ERR_TLS', 'could not load X509 key pair: --tlscert and --tlskey are required with --tls')
      const [cert, key, ca] = await Promise.all([readFile(c.tlsCert), readFile(c.tlsKey), c.tlsCaCert ? readFile(c.tlsCaCert) : undefined])
      server = createTlsServer({ cert, key, ...(ca ? { ca } : {}), requestCert: c.tlsVerify, rejectUnauthorized: c.tlsVerify, minVersion: 'TLSv1.2' }, handler) as unknown as Server
    } else {
      this.#warnings.push(`WARNING: API is accessible on http://${address}:${port} without encryption.`)
      server = createServer(handler)
    }
    server.on('upgrade', (req, socket, head) => this.#upgrade(router, req, socket, head))
    await listenOn(server, { host: address, port })
    return server
  }

  #upgrade(router: Router, req: import('node:http').IncomingMessage, socket: import('node:stream').Duplex, head: Buffer): void {
    this.#hijacked.add(socket)
    socket.once('close', () => this.#hijacked.delete(socket))
    void router.handleUpgrade(req, socket, head)
  }

  /**
   * The API's backends over this daemon's engine: the one place where the engine's services
   * meet the API's interfaces (checked here with `satisfies`).
   */
  backends(): Backends {
    const e = this.engine
    const volumes = volumeBackend({ volumes: e.volumes }) satisfies VolumeBackend
    return {
      containers: containerBackend({ containers: e.containers, images: e.images, exec: e.exec, events: e.events }) satisfies ContainerBackend,
      images: imageBackend({ images: e.images, layers: e.layers }) satisfies ImageBackend,
      registry: registryBackend({ images: e.images, config: this.config }) satisfies RegistryBackend,
      networks: networkBackend({ networks: e.networks, containers: e.containers }) satisfies NetworkBackend,
      volumes,
      system: systemBackend({
        containers: e.containers, images: e.images, events: e.events, volumesWithUsage: volumes.withUsage,
        host: {
          facts: () => this.facts,
          id: () => this.daemonId,
          gitCommit: () => this.gitCommit,
          buildTime: () => this.buildTime,
          architecture: () => this.platform.architecture,
          config: this.config,
          warnings: () => this.warnings(),
          ipv4Forwarding: () => this.ipv4Forwarding(),
          openFds: () => this.openFds(),
          activeHandles: () => this.activeHandles(),
        },
      }) satisfies SystemBackend,
      build: buildBackend({ containers: e.containers, images: e.images, dataRoot: this.config.dataRoot, log: (m) => this.log.info(m) }) satisfies BuildBackend,
    }
  }

  defaultRuntime(): string {
    return this.config.defaultRuntime
  }

  warnings(): string[] {
    return [...this.#warnings]
  }

  ipv4Forwarding(): boolean {
    return this.#ipForward
  }
  #ipForward = false

  async refreshHostState(): Promise<void> {
    const on = await ipv4ForwardingEnabled()
    if (on !== undefined) this.#ipForward = on
  }

  openFds(): number {
    return this.#fdCount
  }
  #fdCount = 0

  async countFds(): Promise<void> {
    const n = await openFdCount()
    if (n !== undefined) this.#fdCount = n
  }

  activeHandles(): number {
    return (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles?.().length ?? 0
  }
}

/** A live berthd with this PID (PIDs are reused: the command line must be berthd's too). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (err) {
    if (errno(err) !== 'EPERM') return false
  }
  return cmdlineOf(pid).includes('berthd')
}

function listenOn(server: Server, opts: { path: string } | { host: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (err) => {
      const code = errno(err)
      reject(new EngineError('Unavailable', 'ERR_LISTEN', `failed to listen on ${'path' in opts ? opts.path : `${opts.host}:${opts.port}`}: ${code ?? (err as Error).message}`))
    })
    server.listen(opts, () => resolve())
  })
}
