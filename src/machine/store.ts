/**
 * Where `berth machine` keeps its machines, as docker-machine does:
 *
 *   <storage>/certs/{ca.pem,ca-key.pem,cert.pem,key.pem}    the client CA and client certificate
 *   <storage>/machines/<name>/config.json                    the machine record
 *   <storage>/machines/<name>/{ca.pem,cert.pem,key.pem}      what DOCKER_CERT_PATH points at
 *   <storage>/machines/<name>/{server.pem,server-key.pem}    the engine's certificate
 *   <storage>/machines/<name>/known_hosts                    the host key pinned at create
 *
 * <storage> is $BERTH_MACHINE_STORAGE_PATH or ~/.berth/machine. Keys are 0600, dirs 0700.
 */
import { mkdir, readFile, readdir, rename, rm, writeFile, chmod } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { EngineError } from '../lib/errors.js'

export const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9\-.]*$/

/** A machine record (config.json). */
export interface MachineConfig {
  Name: string
  DriverName: 'generic'
  Driver: {
    IPAddress: string
    SSHUser: string
    SSHPort: number
    SSHKeyPath: string
    EnginePort: number
  }
  Engine: {
    Labels: string[]
    Options: string[]
    /** The service manager the engine runs under on the host. */
    ServiceManager?: 'systemd' | 'supervisor'
    /** The extra Docker default socket berthd serves when it was free at create. */
    DockerSocket?: boolean
    /** The `docker` shim installed because the host had no docker CLI. */
    DockerShim?: boolean
  }
  Host: {
    Hostname?: string
    OS?: string
  }
  Created: string
  Version: string
}

export function storagePath(): string {
  return process.env.BERTH_MACHINE_STORAGE_PATH || join(homedir(), '.berth', 'machine')
}

export function machineDir(name: string, root = storagePath()): string {
  return join(root, 'machines', name)
}

export function certsDir(root = storagePath()): string {
  return join(root, 'certs')
}

export function validateMachineName(name: string): void {
  if (!NAME_RE.test(name)) {
    throw new EngineError('InvalidArgument', 'ERR_MACHINE_NAME', `Invalid machine name. Must be [a-zA-Z0-9][a-zA-Z0-9\\-.]* but was "${name}"`)
  }
}

export function hostNotFound(name: string): EngineError {
  return new EngineError('NotFound', 'ERR_MACHINE_NOT_FOUND', `Host does not exist: "${name}"`)
}

export async function loadMachine(name: string, root = storagePath()): Promise<MachineConfig> {
  let text: string
  try {
    text = await readFile(join(machineDir(name, root), 'config.json'), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw hostNotFound(name)
    throw err
  }
  return JSON.parse(text) as MachineConfig
}

export async function machineExists(name: string, root = storagePath()): Promise<boolean> {
  try {
    await readFile(join(machineDir(name, root), 'config.json'))
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw err
  }
}

export async function listMachineNames(root = storagePath()): Promise<string[]> {
  try {
    return (await readdir(join(root, 'machines'))).sort()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
}

/** Write a file atomically with a mode (keys 0600). */
export async function writeSecure(path: string, data: string | Buffer, mode = 0o600): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, data, { mode })
  await chmod(tmp, mode)
  await rename(tmp, path)
}

export async function saveMachine(cfg: MachineConfig, root = storagePath()): Promise<void> {
  const dir = machineDir(cfg.Name, root)
  await mkdir(dir, { recursive: true, mode: 0o700 })
  await writeSecure(join(dir, 'config.json'), JSON.stringify(cfg, null, '    ') + '\n', 0o600)
}

export async function removeMachineDir(name: string, root = storagePath()): Promise<void> {
  await rm(machineDir(name, root), { recursive: true, force: true })
}

/** The client CA and client certificate shared by every machine (made on first use). */
export async function ensureClientCerts(root = storagePath()): Promise<{ caPem: string; caKeyPem: string; certPem: string; keyPem: string }> {
  const dir = certsDir(root)
  const files = ['ca.pem', 'ca-key.pem', 'cert.pem', 'key.pem'].map((f) => join(dir, f))
  try {
    const [caPem, caKeyPem, certPem, keyPem] = await Promise.all(files.map((f) => readFile(f, 'utf8')))
    return { caPem: caPem!, caKeyPem: caKeyPem!, certPem: certPem!, keyPem: keyPem! }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  return regenerateClientCerts(root)
}

export async function regenerateClientCerts(root = storagePath()): Promise<{ caPem: string; caKeyPem: string; certPem: string; keyPem: string }> {
  const { createCA, createClientCert } = await import('../lib/pki.js')
  const dir = certsDir(root)
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const user = process.env.USER || 'berth'
  const ca = await createCA({ commonName: `${user} berth machine CA`, organization: user })
  const client = await createClientCert(ca, { commonName: user, organization: user })
  await writeSecure(join(dir, 'ca.pem'), ca.certPem, 0o644)
  await writeSecure(join(dir, 'ca-key.pem'), ca.keyPem)
  await writeSecure(join(dir, 'cert.pem'), client.certPem, 0o644)
  await writeSecure(join(dir, 'key.pem'), client.keyPem)
  return { caPem: ca.certPem, caKeyPem: ca.keyPem, certPem: client.certPem, keyPem: client.keyPem }
}
