import { join } from 'node:path'
import { mkdir, readFile, writeFile, rename, rm } from 'node:fs/promises'
import { Etcd3, type IOptions } from 'etcd3'
import { EngineError, errno } from '../lib/errors.js'
import { startEtcd, stopEtcd, removeEtcdData, runningEtcd, type EtcdProcess, type EtcdTlsFiles } from '../platform/etcd.js'

/**
 * One manager's etcd member: its own etcd process (through platform/etcd.ts) with its data
 * under <dataRoot>/swarm/etcd, and a client connected to it. `init` makes a cluster of one,
 * `join` adds this manager to an existing cluster (member add on a current member, then start
 * with the returned initial cluster), `restart` brings it back after berthd restarts (adopting a
 * still-running etcd), `leave` removes it from the cluster and deletes its data.
 */

export interface MemberConfig {
  /** Member name; berth uses the swarm node ID. */
  name: string
  clientUrl: string
  peerUrl: string
}

interface SavedMember extends MemberConfig {
  memberId?: string
}

export function etcdDir(dataRoot: string): string {
  return join(dataRoot, 'swarm', 'etcd')
}

function configFile(dataRoot: string): string {
  return join(dataRoot, 'swarm', 'etcd-member.json')
}

/**
 * TLS material (PEM) of a member or client in the swarm wiring: the node's certificate (from the
 * swarm CA, with the `swarm-ca` DNS name and the node's IP among its names) and the CA. Without it,
 * plain http (the library's tests on loopback).
 */
export interface EtcdTls {
  certPem: string
  keyPem: string
  caPem: string
}

/** The name every manager's certificate carries, which clients check instead of the dialled IP. */
export const ETCD_SERVER_NAME = 'swarm-ca'

/** An etcd3 client for these endpoints, over mTLS when `tls` is given. */
export function etcdClient(hosts: string[], tls?: EtcdTls, extra: Partial<IOptions> = {}): Etcd3 {
  return new Etcd3({
    hosts,
    dialTimeout: 3000,
    ...(tls
      ? {
          credentials: { rootCertificate: Buffer.from(tls.caPem), certChain: Buffer.from(tls.certPem), privateKey: Buffer.from(tls.keyPem) },
          grpcOptions: { 'grpc.ssl_target_name_override': ETCD_SERVER_NAME, 'grpc.default_authority': ETCD_SERVER_NAME },
        }
      : {}),
    ...extra,
  })
}

/** Write the member's TLS material where etcd reads it (<dataRoot>/swarm/etcd/tls, mode 0600). */
async function writeTlsFiles(dataRoot: string, tls: EtcdTls | undefined): Promise<EtcdTlsFiles | undefined> {
  if (!tls) return undefined
  const dir = join(etcdDir(dataRoot), 'tls')
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const files = { certFile: join(dir, 'member.crt'), keyFile: join(dir, 'member.key'), caFile: join(dir, 'ca.crt') }
  await writeFile(files.certFile, tls.certPem, { mode: 0o600 })
  await writeFile(files.keyFile, tls.keyPem, { mode: 0o600 })
  await writeFile(files.caFile, tls.caPem, { mode: 0o600 })
  return files
}

export interface MemberOptions {
  timeoutMs?: number
  tls?: EtcdTls
}

export interface MemberInfo {
  id: string
  name: string
  peerUrls: string[]
  clientUrls: string[]
}

export class EtcdMember {
  readonly client: Etcd3
  private constructor(
    readonly dataRoot: string,
    readonly config: MemberConfig,
    readonly process: EtcdProcess,
    private memberId: string | undefined,
    readonly tls?: EtcdTls,
  ) {
    this.client = etcdClient([config.clientUrl], tls)
  }

  /** `swarm init`: a new cluster whose only member is this one. */
  static async init(dataRoot: string, config: MemberConfig, opts: MemberOptions = {}): Promise<EtcdMember> {
    await saveConfig(dataRoot, config)
    const tls = await writeTlsFiles(dataRoot, opts.tls)
    const proc = await startEtcd({
      ...(tls ? { tls } : {}),
      name: config.name,
      dir: etcdDir(dataRoot),
      clientUrl: config.clientUrl,
      peerUrl: config.peerUrl,
      initialCluster: `${config.name}=${config.peerUrl}`,
      initialClusterState: 'new',
    })
    return EtcdMember.ready(dataRoot, config, proc, opts.timeoutMs, undefined, opts.tls)
  }

  /**
   * A manager joining: ask a current member (by its client URLs) to add our peer URL, then start
   * our etcd with the cluster the add returned. A failed start removes the member again.
   */
  static async join(
    dataRoot: string,
    config: MemberConfig,
    existingClientUrls: string[],
    opts: MemberOptions = {},
  ): Promise<EtcdMember> {
    let added: { id: string; initialCluster: string }
    try {
      const res = await whenHealthy(existingClientUrls, (c) => c.cluster.memberAdd({ peerURLs: [config.peerUrl] }), opts.timeoutMs ?? 15000, opts.tls)
      const parts: string[] = []
      for (const m of res.members) {
        const name = m.ID === res.member.ID ? config.name : m.name
        if (!name) continue // another member added but not started yet
        for (const u of m.peerURLs) parts.push(`${name}=${u}`)
      }
      added = { id: res.member.ID, initialCluster: parts.join(',') }
    } catch (err) {
      throw new EngineError('Unavailable', 'ERR_ETCD_MEMBER_ADD', `could not add this manager to the cluster store: ${(err as Error).message}`, { cause: err })
    }
    try {
      await saveConfig(dataRoot, { ...config, memberId: added.id })
      const tls = await writeTlsFiles(dataRoot, opts.tls)
      const proc = await startEtcd({
        ...(tls ? { tls } : {}),
        name: config.name,
        dir: etcdDir(dataRoot),
        clientUrl: config.clientUrl,
        peerUrl: config.peerUrl,
        initialCluster: added.initialCluster,
        initialClusterState: 'existing',
      })
      const m = await EtcdMember.ready(dataRoot, config, proc, opts.timeoutMs, added.id, opts.tls)
      return m
    } catch (err) {
      await whenHealthy(existingClientUrls, (c) => c.cluster.memberRemove({ ID: added.id }), 15000, opts.tls).catch(() => undefined)
      await stopEtcd(etcdDir(dataRoot))
      removeEtcdData(etcdDir(dataRoot))
      throw err
    }
  }

  /** berthd restarted: bring this member back from its saved config and data (adopting a live etcd). */
  static async restart(dataRoot: string, opts: MemberOptions = {}): Promise<EtcdMember> {
    const saved = await loadConfig(dataRoot)
    if (!saved) throw new EngineError('NotFound', 'ERR_ETCD_NO_MEMBER', 'this node has no cluster store member to restart')
    const tls = await writeTlsFiles(dataRoot, opts.tls)
    const proc = await startEtcd({
      ...(tls ? { tls } : {}),
      name: saved.name,
      dir: etcdDir(dataRoot),
      clientUrl: saved.clientUrl,
      peerUrl: saved.peerUrl,
      initialCluster: `${saved.name}=${saved.peerUrl}`,
      initialClusterState: 'existing',
    })
    const { memberId, ...config } = saved
    return EtcdMember.ready(dataRoot, config, proc, opts.timeoutMs, memberId, opts.tls)
  }

  /** Whether this data root holds a member (berthd start-up decides to call restart). */
  static async exists(dataRoot: string): Promise<boolean> {
    return (await loadConfig(dataRoot)) !== undefined
  }

  private static async ready(
    dataRoot: string,
    config: MemberConfig,
    proc: EtcdProcess,
    timeoutMs = 15000,
    memberId?: string,
    tls?: EtcdTls,
  ): Promise<EtcdMember> {
    const m = new EtcdMember(dataRoot, config, proc, memberId, tls)
    try {
      await m.waitHealthy(timeoutMs)
      if (!m.memberId) {
        m.memberId = (await m.client.maintenance.status()).header.member_id
        await saveConfig(dataRoot, { ...config, memberId: m.memberId })
      }
    } catch (err) {
      m.client.close()
      if (proc.started) await stopEtcd(etcdDir(dataRoot))
      throw err
    }
    return m
  }

  get id(): string {
    return this.memberId ?? ''
  }

  get pid(): number {
    return this.process.pid
  }

  /** Resolve when this member answers a linearizable read (it is part of a cluster with a leader). */
  async waitHealthy(timeoutMs = 15000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    let last: unknown
    for (;;) {
      if (!runningEtcd(etcdDir(this.dataRoot))) {
        throw new EngineError('Unavailable', 'ERR_ETCD_EXITED', `etcd exited during start-up; see ${this.process.logFile}`)
      }
      try {
        await this.client.get('/berth/health').string()
        return
      } catch (err) {
        last = err
      }
      if (Date.now() > deadline) {
        throw new EngineError('Unavailable', 'ERR_ETCD_UNHEALTHY', `etcd did not become healthy within ${timeoutMs} ms: ${(last as Error)?.message}`, { cause: last })
      }
      await new Promise((r) => setTimeout(r, 100))
    }
  }

  async members(): Promise<MemberInfo[]> {
    const res = await this.client.cluster.memberList({})
    return res.members.map((m) => ({ id: m.ID, name: m.name, peerUrls: m.peerURLs, clientUrls: m.clientURLs }))
  }

  /** The etcd member ID of the current raft leader, as this member sees it. */
  async leaderId(): Promise<string> {
    return (await this.client.maintenance.status()).leader
  }

  /** Remove another member (`node demote` / `node rm` of a manager). */
  async removeMember(id: string): Promise<void> {
    await whenHealthy([this.config.clientUrl], (c) => c.cluster.memberRemove({ ID: id }), 15000, this.tls)
  }

  /** `swarm leave` of a manager: leave the etcd cluster (unless last), stop etcd, delete its data. */
  async leave(): Promise<void> {
    try {
      const members = await this.members()
      if (members.length > 1 && this.memberId) await this.removeMember(this.memberId)
    } finally {
      this.client.close()
      await stopEtcd(etcdDir(this.dataRoot))
      removeEtcdData(etcdDir(this.dataRoot))
      await rm(configFile(this.dataRoot), { force: true })
    }
  }

  /** Stop the etcd process (berthd shutdown that is not a leave keeps it running: see close()). */
  async stop(): Promise<void> {
    this.client.close()
    await stopEtcd(etcdDir(this.dataRoot))
  }

  /** Close the client only; the etcd process keeps running for the next berthd to adopt. */
  close(): void {
    this.client.close()
  }
}

/**
 * etcd refuses a member add or remove until every member has been connected for a few seconds
 * ("etcdserver: unhealthy cluster"), e.g. right after the previous manager joined: retry, each
 * time on a fresh client (the etcd3 client opens its circuit breaker after three failures).
 */
async function whenHealthy<T>(hosts: string[], op: (c: Etcd3) => Promise<T>, timeoutMs = 15000, tls?: EtcdTls): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const c = etcdClient(hosts, tls)
    try {
      return await op(c)
    } catch (err) {
      if (!/unhealthy cluster/.test((err as Error).message) || Date.now() > deadline) throw err
    } finally {
      c.close()
    }
    await new Promise((r) => setTimeout(r, 250))
  }
}

async function saveConfig(dataRoot: string, c: SavedMember): Promise<void> {
  await mkdir(join(dataRoot, 'swarm'), { recursive: true, mode: 0o700 })
  const tmp = `${configFile(dataRoot)}.tmp`
  await writeFile(tmp, JSON.stringify(c, null, 2) + '\n', { mode: 0o600 })
  await rename(tmp, configFile(dataRoot))
}

async function loadConfig(dataRoot: string): Promise<SavedMember | undefined> {
  try {
    const raw = await readFile(configFile(dataRoot), 'utf8')
    return JSON.parse(raw) as SavedMember
  } catch (err) {
    if (errno(err) === 'ENOENT') return undefined
    throw err
  }
}
