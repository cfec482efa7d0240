import { readFile, statfs } from 'node:fs/promises'
import { hostCgroupVersion } from '../../platform/procs.js'
import { cpus, hostname, release, totalmem, arch } from 'node:os'
import { run } from '../../platform/exec.js'
import { isNotFoundErrno } from '../../lib/errors.js'

export const BERTH_VERSION = '0.1.0'

export interface HostFacts {
  kernelVersion: string
  operatingSystem: string
  osVersion: string
  architecture: string
  ncpu: number
  memTotal: number
  hostname: string
  cgroupVersion: '1' | '2'
  backingFs: string
  runtimes: Record<string, { path: string; version: string }>
  conmonVersion: string
  initBinary?: string
}

async function readOsRelease(): Promise<Record<string, string>> {
  try {
    const text = await readFile('/etc/os-release', 'utf8')
    return Object.fromEntries(
      text.split('\n').filter((l) => l.includes('=')).map((l) => {
        const i = l.indexOf('=')
        return [l.slice(0, i), l.slice(i + 1).replace(/^"|"$/g, '')]
      }),
    )
  } catch (err) {
    if (isNotFoundErrno(err)) return {}
    throw err
  }
}

async function firstLine(cmd: string, args: string[]): Promise<string> {
  try {
    const r = await run(cmd, args)
    return r.code === 0 ? r.stdout.split('\n')[0]!.trim() : ''
  } catch {
    return ''
  }
}

const FS_MAGIC: Record<number, string> = { 0xef53: 'extfs', 0x58465342: 'xfs', 0x9123683e: 'btrfs', 0x01021994: 'tmpfs', 0x794c7630: 'overlayfs', 0x2fc12fc1: 'zfs' }

/** Facts about the host that do not change while the daemon runs (read once at start-up). */
export async function readHostFacts(dataRoot: string): Promise<HostFacts> {
  const [osr, crunV, runcV, conmonV, fs] = await Promise.all([
    readOsRelease(),
    firstLine('crun', ['--version']),
    firstLine('runc', ['--version']),
    firstLine('conmon', ['--version']),
    statfs(dataRoot).catch(() => undefined),
  ])
  const cgroupVersion = await hostCgroupVersion()
  const runtimes: HostFacts['runtimes'] = {}
  if (crunV) runtimes.crun = { path: 'crun', version: crunV.replace(/^crun version /, '') }
  if (runcV) runtimes.runc = { path: 'runc', version: runcV.replace(/^runc version /, '') }
  const a = arch()
  return {
    kernelVersion: release(),
    operatingSystem: osr.PRETTY_NAME ?? 'Linux',
    osVersion: osr.VERSION_ID ?? '',
    architecture: a === 'x64' ? 'x86_64' : a === 'arm64' ? 'aarch64' : a,
    ncpu: cpus().length,
    memTotal: totalmem(),
    hostname: hostname(),
    cgroupVersion,
    backingFs: fs ? FS_MAGIC[fs.type] ?? `0x${fs.type.toString(16)}` : 'unknown',
    runtimes,
    conmonVersion: conmonV.replace(/^conmon version /, ''),
  }
}
