import { spawn } from 'node:child_process'
import { openSync, closeSync, readFileSync, writeFileSync, mkdirSync, existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { errno, EngineError } from '../lib/errors.js'

/**
 * The one place that runs etcd (Debian's etcd-server). berthd starts one member per manager as
 * a child process in its own process group, so that a restart of berthd finds it still running
 * (like conmon keeps containers) and adopts it by the PID file; a berthd that leaves the swarm
 * stops it by PID.
 */

export interface EtcdProcessOptions {
  /** Member name, unique in the cluster (berth uses the node ID). */
  name: string
  /** Directory holding member/ (etcd's data), etcd.pid and etcd.log. */
  dir: string
  /** URL clients use, e.g. http://127.0.0.1:2379 (listened on and advertised). */
  clientUrl: string
  /** URL peers use, e.g. http://10.0.0.1:2380 (listened on and advertised). */
  peerUrl: string
  /** name=peerUrl,... for the first start of a member; ignored once the data dir exists. */
  initialCluster: string
  initialClusterState: 'new' | 'existing'
  initialClusterToken?: string
  /** Milliseconds; defaults tuned for fast failover on a LAN (heartbeat 100, election 1000). */
  heartbeatIntervalMs?: number
  electionTimeoutMs?: number
  /** etcd binary; default /usr/bin/etcd, or $BERTH_ETCD. */
  binary?: string
  /**
   * TLS for both listeners (the swarm's wiring): files of this member's certificate and key and
   * the swarm CA. Clients and peers must present a certificate from that CA
   * (--client-cert-auth, --peer-client-cert-auth).
   */
  tls?: EtcdTlsFiles
}

export interface EtcdTlsFiles {
  certFile: string
  keyFile: string
  caFile: string
}

/** The TLS flags of etcd 3.4 for a member whose client and peer URLs are https. */
export function etcdTlsFlags(t: EtcdTlsFiles): string[] {
  return [
    `--cert-file=${t.certFile}`,
    `--key-file=${t.keyFile}`,
    `--trusted-ca-file=${t.caFile}`,
    '--client-cert-auth',
    `--peer-cert-file=${t.certFile}`,
    `--peer-key-file=${t.keyFile}`,
    `--peer-trusted-ca-file=${t.caFile}`,
    '--peer-client-cert-auth',
  ]
}

export interface EtcdProcess {
  pid: number
  /** True when this call started the process; false when a live one was adopted. */
  started: boolean
  logFile: string
}

export function etcdBinary(): string {
  return process.env.BERTH_ETCD || '/usr/bin/etcd'
}

export function etcdInstalled(binary = etcdBinary()): boolean {
  return existsSync(binary)
}

function pidFile(dir: string): string {
  return join(dir, 'etcd.pid')
}

/** The PID of a live etcd whose data dir is `dir`, or undefined. */
export function runningEtcd(dir: string): number | undefined {
  let pid: number
  try {
    pid = Number(readFileSync(pidFile(dir), 'utf8').trim())
  } catch (err) {
    if (errno(err) === 'ENOENT') return undefined
    throw err
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined
  let cmdline: string
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
  } catch (err) {
    if (errno(err) === 'ENOENT' || errno(err) === 'ESRCH') return undefined
    throw err
  }
  const args = cmdline.split('\0')
  if (!args.includes(`--data-dir=${join(dir, 'member-data')}`)) return undefined
  if (isZombie(pid)) return undefined
  return pid
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')
  } catch (err) {
    if (errno(err) === 'ENOENT') return true
    throw err
  }
}

/** Whether etcd's own data for this member exists (a member that was started once). */
export function etcdDataExists(dir: string): boolean {
  return existsSync(join(dir, 'member-data', 'member'))
}

/**
 * Start etcd for this member, or adopt the one already running on the same data dir.
 * Resolves once the process is spawned; the caller waits for health over the client URL.
 */
export async function startEtcd(o: EtcdProcessOptions): Promise<EtcdProcess> {
  mkdirSync(o.dir, { recursive: true, mode: 0o700 })
  const logFile = join(o.dir, 'etcd.log')
  const live = runningEtcd(o.dir)
  if (live) return { pid: live, started: false, logFile }
  const binary = o.binary ?? etcdBinary()
  if (!existsSync(binary)) {
    throw new EngineError('Unavailable', 'ERR_ETCD_NOT_INSTALLED', `etcd is not installed (${binary}): install Debian's etcd-server`)
  }
  const args = [
    `--name=${o.name}`,
    `--data-dir=${join(o.dir, 'member-data')}`,
    `--listen-client-urls=${o.clientUrl}`,
    `--advertise-client-urls=${o.clientUrl}`,
    `--listen-peer-urls=${o.peerUrl}`,
    `--initial-advertise-peer-urls=${o.peerUrl}`,
    `--heartbeat-interval=${o.heartbeatIntervalMs ?? 100}`,
    `--election-timeout=${o.electionTimeoutMs ?? 1000}`,
    '--logger=zap',
    '--log-outputs=stderr',
    ...(o.tls ? etcdTlsFlags(o.tls) : []),
  ]
  if (!etcdDataExists(o.dir)) {
    args.push(
      `--initial-cluster=${o.initialCluster}`,
      `--initial-cluster-state=${o.initialClusterState}`,
      `--initial-cluster-token=${o.initialClusterToken ?? 'berth-swarm'}`,
    )
  }
  const fd = openSync(logFile, 'a', 0o600)
  try {
    const child = spawn(binary, args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ETCD_UNSUPPORTED_ARCH: process.env.ETCD_UNSUPPORTED_ARCH ?? '' },
    })
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('error', reject)
      child.once('spawn', () => resolve(child.pid!))
    })
    child.unref()
    writeFileSync(pidFile(o.dir), `${pid}\n`, { mode: 0o600 })
    return { pid, started: true, logFile }
  } finally {
    closeSync(fd)
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (err) {
    if (errno(err) === 'ESRCH') return false
    throw err
  }
  return !isZombie(pid)
}

/** Stop the etcd of this data dir by its PID: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopEtcd(dir: string, graceMs = 5000): Promise<boolean> {
  const pid = runningEtcd(dir)
  if (!pid) {
    rmSync(pidFile(dir), { force: true })
    return false
  }
  await stopPid(pid, graceMs)
  rmSync(pidFile(dir), { force: true })
  return true
}

/** Kill one process we started, by PID (SIGTERM, then SIGKILL), and wait for it to be gone. */
export async function stopPid(pid: number, graceMs = 5000): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM')
  } catch (err) {
    if (errno(err) === 'ESRCH') return
    throw err
  }
  const deadline = Date.now() + graceMs
  while (alive(pid)) {
    if (Date.now() > deadline) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch (err) {
        if (errno(err) !== 'ESRCH') throw err
      }
      await new Promise((r) => setTimeout(r, 50))
      if (Date.now() > deadline + 5000) break
    }
    await new Promise((r) => setTimeout(r, 25))
  }
}

/** Remove the member's etcd data (after it left the cluster and was stopped). */
export function removeEtcdData(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}
