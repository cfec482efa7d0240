/**
 * The generic driver: an existing host reachable by SSH becomes a Berth engine host. `create`
 * runs named steps; a failed step is reported by name and rolled back (the host's Berth files
 * removed, the local record deleted), so a second create or an rm starts from a clean slate.
 */
import { createReadStream } from 'node:fs'
import { mkdir, writeFile, stat, readFile } from 'node:fs/promises'
import { isIP } from 'node:net'
import { join } from 'node:path'
import { homedir } from 'node:os'
import { EngineError } from '../lib/errors.js'
import { EngineClient } from '../client/client.js'
import { SshSession, shellQuote } from './ssh.js'
import { installTarball } from './bundle.js'
import * as R from './remote.js'
import {
  ensureClientCerts, loadMachine, machineDir, machineExists, removeMachineDir, saveMachine, storagePath,
  validateMachineName, writeSecure, type MachineConfig,
} from './store.js'

export interface CreateOptions {
  name: string
  ip: string
  sshUser: string
  sshPort: number
  sshKey?: string
  engineLabels: string[]
  engineOptions: string[]
  enginePort?: number
  /** Progress lines, as docker-machine prints them. */
  log: (line: string) => void
  signal?: AbortSignal
}

/** A create step failed: its name and cause. */
export class StepError extends EngineError {
  constructor(readonly step: string, cause: unknown) {
    super('Internal', 'ERR_MACHINE_STEP', `${step}: ${(cause as Error)?.message ?? String(cause)}`, { cause })
  }
}

async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    if (err instanceof StepError) throw err
    throw new StepError(name, err)
  }
}

export function defaultSshKey(): string {
  return join(homedir(), '.ssh', 'id_rsa')
}

export function machineUrl(cfg: MachineConfig): string {
  const host = isIP(cfg.Driver.IPAddress) === 6 ? `[${cfg.Driver.IPAddress}]` : cfg.Driver.IPAddress
  return `tcp://${host}:${cfg.Driver.EnginePort}`
}

export function sshTo(cfg: MachineConfig, root = storagePath()): Promise<SshSession> {
  return SshSession.connect({
    host: cfg.Driver.IPAddress,
    port: cfg.Driver.SSHPort,
    user: cfg.Driver.SSHUser,
    ...(cfg.Driver.SSHKeyPath ? { keyPath: cfg.Driver.SSHKeyPath } : {}),
    knownHostsFile: join(machineDir(cfg.Name, root), 'known_hosts'),
  })
}

/** A client for the machine's engine over TLS with the machine's certificates. */
export function engineClient(cfg: MachineConfig, root = storagePath()): EngineClient {
  const dir = machineDir(cfg.Name, root)
  return new EngineClient({ host: machineUrl(cfg), tls: { verify: true, ca: join(dir, 'ca.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') } })
}

/** The engine's version, or the error that kept us from it. */
export async function engineVersion(cfg: MachineConfig, timeoutMs = 10_000, root = storagePath()): Promise<{ version?: string; error?: string }> {
  const client = engineClient(cfg, root)
  try {
    const v = await client.json<{ Version: string }>('GET', '/version', { signal: AbortSignal.timeout(timeoutMs) })
    return { version: `v${v.Version}` }
  } catch (err) {
    return { error: `Unable to query docker version: ${(err as Error).message}` }
  }
}

async function waitForEngine(cfg: MachineConfig, ssh: SshSession, manager: 'systemd' | 'supervisor', timeoutMs = 60_000, root = storagePath()): Promise<string> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  while (Date.now() < deadline) {
    const r = await engineVersion(cfg, 3000, root)
    if (r.version) return r.version
    last = r.error ?? ''
    const st = (await ssh.exec(R.statusScript(manager))).stdout.trim()
    if (st !== 'running' && manager === 'supervisor') {
      // berthd exited: its log says why (the supervisor restarts it; no need to wait it out).
      const log = (await ssh.exec(R.logTailScript(manager))).stdout.trim()
      if (/exited with status/.test(log)) throw new Error(`the engine exited: ${log.split('\n').slice(-6).join('\n')}`)
    }
    await new Promise((r2) => setTimeout(r2, 250))
  }
  const log = (await ssh.exec(R.logTailScript(manager))).stdout.trim()
  throw new Error(`the engine did not answer within ${timeoutMs / 1000}s (${last})${log ? `\n${log}` : ''}`)
}

/** Write the server certificate for the host (SANs: its IP, its hostname, the machine name). */
async function makeServerCert(cfg: MachineConfig, root: string): Promise<void> {
  const { createServerCert } = await import('../lib/pki.js')
  const client = await ensureClientCerts(root)
  const dir = machineDir(cfg.Name, root)
  const alt = [cfg.Driver.IPAddress, cfg.Name, ...(cfg.Host.Hostname ? [cfg.Host.Hostname] : [])]
  const server = await createServerCert({ certPem: client.caPem, keyPem: client.caKeyPem }, { commonName: cfg.Name, organization: `${process.env.USER || 'berth'}.${cfg.Name}`, altNames: alt })
  await writeSecure(join(dir, 'ca.pem'), client.caPem, 0o644)
  await writeSecure(join(dir, 'cert.pem'), client.certPem, 0o644)
  await writeSecure(join(dir, 'key.pem'), client.keyPem)
  await writeSecure(join(dir, 'server.pem'), server.certPem, 0o644)
  await writeSecure(join(dir, 'server-key.pem'), server.keyPem)
}

async function uploadCerts(ssh: SshSession, cfg: MachineConfig, root: string): Promise<void> {
  const dir = machineDir(cfg.Name, root)
  await ssh.run(`mkdir -p ${R.ETC} && chmod 700 ${R.ETC}`)
  for (const [local, remote] of [['ca.pem', 'ca.pem'], ['server.pem', 'server.pem'], ['server-key.pem', 'server-key.pem']] as const) {
    await ssh.run(`umask 077 && cat > ${R.ETC}/${remote}.tmp && mv ${R.ETC}/${remote}.tmp ${R.ETC}/${remote}`, await readFile(join(dir, local)))
  }
}

async function writeRemote(ssh: SshSession, path: string, content: string, mode: string): Promise<void> {
  await ssh.run(`cat > ${shellQuote(path)}.tmp && chmod ${mode} ${shellQuote(path)}.tmp && mv ${shellQuote(path)}.tmp ${shellQuote(path)}`, content)
}

/** Copy this Berth to the host and its wrappers (and a docker shim where no docker exists). */
async function installBerth(ssh: SshSession, cfg: MachineConfig, root: string, log: (l: string) => void): Promise<void> {
  const tar = await installTarball(join(root, 'cache'))
  log(`Copying Berth to the machine (${(tar.size / 1048576).toFixed(1)} MB)...`)
  await ssh.run(R.installScript(), createReadStream(tar.path))
  await writeRemote(ssh, `${R.BIN}/berth`, R.wrapper('berth'), '755')
  await writeRemote(ssh, `${R.BIN}/berthd`, R.wrapper('berthd'), '755')
  const hasDocker = (await ssh.exec(`command -v docker`)).stdout.trim()
  if (!hasDocker || hasDocker === `${R.BIN}/docker` && (await ssh.exec(`grep -q '${R.SHIM_MARK}' ${R.BIN}/docker`)).code === 0) {
    await writeRemote(ssh, `${R.BIN}/docker`, R.DOCKER_SHIM, '755')
    cfg.Engine.DockerShim = true
  }
}

async function installPackages(ssh: SshSession, log: (l: string) => void): Promise<void> {
  const nodeOk = async () => {
    const v = (await ssh.exec(`node -p process.versions.node 2>/dev/null`)).stdout.trim()
    return { ok: !!v && Number(v.split('.')[0]) >= 20, v }
  }
  const wanted = [...R.PACKAGES]
  const node = await nodeOk()
  if (!node.ok) wanted.push('nodejs')
  const q = await ssh.exec(`dpkg-query -W -f='\${Package} \${Status}\\n' ${wanted.join(' ')} 2>/dev/null`)
  const installed = new Set(q.stdout.split('\n').filter((l) => / install ok installed$/.test(l)).map((l) => l.split(' ')[0]))
  const missing = wanted.filter((p) => !installed.has(p) || (p === 'nodejs' && !node.ok))
  if (missing.length) {
    log(`Installing packages: ${missing.join(' ')}...`)
    await ssh.run(`export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends ${missing.join(' ')}`)
  }
  const after = await nodeOk()
  if (!after.ok) throw new Error(`Node.js 20 or newer is required on the host (found ${after.v || 'none'}); install it there and create again`)
}

interface OsInfo { id: string; idLike: string; pretty: string }

function parseOsRelease(text: string): OsInfo {
  const get = (k: string) => (new RegExp(`^${k}=(.*)$`, 'm').exec(text)?.[1] ?? '').replace(/^"(.*)"$/, '$1')
  return { id: get('ID'), idLike: get('ID_LIKE'), pretty: get('PRETTY_NAME') }
}

/** Create a machine: every step, or nothing. */
export async function createMachine(o: CreateOptions): Promise<MachineConfig> {
  const root = storagePath()
  validateMachineName(o.name)
  if (await machineExists(o.name, root)) throw new EngineError('Conflict', 'ERR_MACHINE_EXISTS', `Host already exists: "${o.name}"`)
  if (!o.ip) throw new EngineError('InvalidArgument', 'ERR_MACHINE_IP', 'generic driver requires the --generic-ip-address option')
  const sshKey = o.sshKey ?? (await stat(defaultSshKey()).then(() => defaultSshKey(), () => ''))
  const cfg: MachineConfig = {
    Name: o.name,
    DriverName: 'generic',
    Driver: { IPAddress: o.ip, SSHUser: o.sshUser, SSHPort: o.sshPort, SSHKeyPath: sshKey, EnginePort: o.enginePort ?? 2376 },
    Engine: { Labels: o.engineLabels, Options: o.engineOptions },
    Host: {},
    Created: new Date().toISOString(),
    Version: '',
  }
  const dir = machineDir(o.name, root)
  await mkdir(dir, { recursive: true, mode: 0o700 })
  await writeFile(join(dir, 'known_hosts'), '', { mode: 0o600 })
  let ssh: SshSession | undefined
  try {
    o.log('Running pre-create checks...')
    o.log('Creating machine...')
    o.log('Waiting for SSH to be available...')
    ssh = await step('connecting by SSH', () => SshSession.connect({
      host: o.ip, port: o.sshPort, user: o.sshUser, ...(sshKey ? { keyPath: sshKey } : {}),
      knownHostsFile: join(dir, 'known_hosts'), acceptNewHostKey: true,
    }))
    const s = ssh
    o.log('Detecting the provisioner...')
    const os = await step('detecting the operating system', async () => {
      const info = parseOsRelease(await s.run('cat /etc/os-release'))
      const family = `${info.id} ${info.idLike}`
      if (!/\b(debian|ubuntu)\b/.test(family)) throw new Error(`${info.pretty || info.id || 'this OS'} is not supported: the generic driver provisions Debian and Ubuntu hosts (apt-get)`)
      if ((await s.exec('id -u')).stdout.trim() !== '0') {
        throw new Error(`the SSH user ${o.sshUser} is not root: berth machine needs root on the host to install and run the engine`)
      }
      cfg.Host.Hostname = (await s.run('hostname')).trim()
      cfg.Host.OS = info.pretty
      return info
    })
    o.log(`Provisioning with ${os.pretty}...`)
    await step('installing packages', () => installPackages(s, o.log))
    await step('installing Berth', () => installBerth(s, cfg, root, o.log))
    o.log('Copying certs to the local machine directory...')
    await step('generating certificates', () => makeServerCert(cfg, root))
    o.log('Copying certs to the remote machine...')
    await step('copying certificates', () => uploadCerts(s, cfg, root))
    o.log('Setting Berth configuration on the remote daemon...')
    const manager = await step('configuring the engine', async () => {
      const m = (await s.run(R.DETECT_SERVICE_MANAGER)).trim() as 'systemd' | 'supervisor'
      cfg.Engine.ServiceManager = m
      // An engine of ours from an earlier attempt is stopped first.
      await s.exec(R.stopScript(m))
      cfg.Engine.DockerSocket = (await s.exec(R.DOCKER_SOCKET_FREE)).code === 0
      // The data root is ours (removed by rm) when it is absent or empty now, or was ours before.
      await s.run(`if [ ! -e ${R.DATA_ROOT} ] || [ -z "$(ls -A ${R.DATA_ROOT} 2>/dev/null)" ]; then mkdir -p ${R.DATA_ROOT} && touch ${R.ETC}/created-data-root; fi`)
      if (cfg.Engine.DockerSocket) await s.run(`touch ${R.ETC}/docker-socket`)
      else await s.run(`rm -f ${R.ETC}/docker-socket`)
      await writeRemote(s, `${R.ETC}/berthd.sh`, R.engineScript({ port: cfg.Driver.EnginePort, dockerSocket: !!cfg.Engine.DockerSocket, labels: cfg.Engine.Labels, options: cfg.Engine.Options }), '755')
      if (m === 'systemd') await writeRemote(s, R.UNIT, R.systemdUnit(), '644')
      else await writeRemote(s, `${R.ETC}/supervise.sh`, R.SUPERVISOR, '755')
      return m
    })
    await step('starting the engine', () => s.run(R.startScript(manager)))
    o.log('Checking connection to Berth...')
    cfg.Version = await step('waiting for the engine', () => waitForEngine(cfg, s, manager, 60_000, root))
    await saveMachine(cfg, root)
    o.log('Berth is up and running!')
    return cfg
  } catch (err) {
    if (ssh) await ssh.exec(R.uninstallScript()).catch(() => undefined)
    await removeMachineDir(o.name, root)
    throw err
  } finally {
    ssh?.close()
  }
}

/** The machine's state: Running (engine answers), Stopped (host up, engine not), Error. */
export async function machineState(cfg: MachineConfig, timeoutMs = 10_000): Promise<{ state: 'Running' | 'Stopped' | 'Error' | 'Timeout'; version?: string; error?: string }> {
  const v = await engineVersion(cfg, timeoutMs)
  if (v.version) return { state: 'Running', version: v.version }
  let ssh: SshSession | undefined
  try {
    ssh = await sshTo(cfg)
    const st = (await ssh.exec(R.statusScript(cfg.Engine.ServiceManager ?? 'supervisor'))).stdout.trim()
    return st === 'running' ? { state: 'Running', ...(v.error ? { error: v.error } : {}) } : { state: 'Stopped' }
  } catch (err) {
    return { state: 'Error', error: (err as Error).message }
  } finally {
    ssh?.close()
  }
}

export async function withSsh<T>(cfg: MachineConfig, fn: (s: SshSession) => Promise<T>): Promise<T> {
  const s = await sshTo(cfg)
  try {
    return await fn(s)
  } finally {
    s.close()
  }
}

export async function startEngine(cfg: MachineConfig): Promise<void> {
  await withSsh(cfg, async (s) => {
    await s.run(R.startScript(cfg.Engine.ServiceManager ?? 'supervisor'))
    await waitForEngine(cfg, s, cfg.Engine.ServiceManager ?? 'supervisor')
  })
}

export async function stopEngine(cfg: MachineConfig): Promise<void> {
  await withSsh(cfg, (s) => s.run(R.stopScript(cfg.Engine.ServiceManager ?? 'supervisor')))
}

export async function restartEngine(cfg: MachineConfig): Promise<void> {
  await withSsh(cfg, async (s) => {
    const m = cfg.Engine.ServiceManager ?? 'supervisor'
    await s.run(R.stopScript(m))
    await s.run(R.startScript(m))
    await waitForEngine(cfg, s, m)
  })
}

/** New server certificate (and, with clientCerts, a new CA and client certificate), then restart. */
export async function regenerateCerts(cfg: MachineConfig, opts: { clientCerts: boolean }): Promise<void> {
  const root = storagePath()
  if (opts.clientCerts) {
    const { regenerateClientCerts } = await import('./store.js')
    await regenerateClientCerts(root)
  }
  await makeServerCert(cfg, root)
  await withSsh(cfg, async (s) => {
    await uploadCerts(s, cfg, root)
    const m = cfg.Engine.ServiceManager ?? 'supervisor'
    await s.run(R.stopScript(m))
    await s.run(R.startScript(m))
    await waitForEngine(cfg, s, m)
  })
}

/** Copy this Berth to the machine again and restart its engine. */
export async function upgradeMachine(cfg: MachineConfig, log: (l: string) => void): Promise<MachineConfig> {
  const root = storagePath()
  return withSsh(cfg, async (s) => {
    const m = cfg.Engine.ServiceManager ?? 'supervisor'
    log('Stopping machine to do the upgrade...')
    await s.run(R.stopScript(m))
    log('Upgrading Berth...')
    await installBerth(s, cfg, root, log)
    log('Restarting Berth...')
    await s.run(R.startScript(m))
    cfg.Version = await waitForEngine(cfg, s, m)
    await saveMachine(cfg, root)
    return cfg
  })
}

/** Take Berth off the host (containers, engine, files) and forget the machine. */
export async function removeMachine(name: string, opts: { force: boolean }): Promise<void> {
  const root = storagePath()
  const cfg = await loadMachine(name, root)
  try {
    await withSsh(cfg, (s) => s.run(R.uninstallScript()))
  } catch (err) {
    if (!opts.force) throw err
  }
  await removeMachineDir(name, root)
}
