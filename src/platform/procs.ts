import { readFileSync } from 'node:fs'
import { readdir, readFile, statfs } from 'node:fs/promises'
import { isNotFoundErrno } from '../lib/errors.js'
import { run, type RunResult } from './exec.js'

/** What `docker top` needs of the host: a cgroup's processes and the host's `ps`. */
export interface Procs {
  /** PIDs (host namespace) in a cgroup (`/berth/<id>`), from the first v1 controller or v2 that has it; [] when none does. */
  cgroupPids(cgroupsPath: string): Promise<number[]>
  /** Run the host's `ps` with these arguments. */
  ps(args: string[]): Promise<RunResult>
}

/** The host's /sys/fs/cgroup and ps. */
export const hostProcs: Procs = {
  async cgroupPids(cgroupsPath) {
    for (const controller of ['pids', 'memory', 'cpu', 'unified']) {
      try {
        const text = await readFile(`/sys/fs/cgroup/${controller}${cgroupsPath}/cgroup.procs`, 'utf8')
        return text.split('\n').filter(Boolean).map(Number)
      } catch (err) {
        if (!isNotFoundErrno(err)) throw err
      }
    }
    return []
  },
  ps: (args) => run('ps', args),
}

/** /proc/sys/net/ipv4/ip_forward is 1 (undefined when the file is missing). */
export async function ipv4ForwardingEnabled(): Promise<boolean | undefined> {
  try {
    return (await readFile('/proc/sys/net/ipv4/ip_forward', 'utf8')).trim() === '1'
  } catch (err) {
    if (!isNotFoundErrno(err)) throw err
    return undefined
  }
}

/** Open file descriptors of this process (undefined without /proc). */
export async function openFdCount(): Promise<number | undefined> {
  try {
    return (await readdir('/proc/self/fd')).length
  } catch (err) {
    if (!isNotFoundErrno(err)) throw err
    return undefined
  }
}

/** The command line of a process ('' when it is gone or unreadable). */
export function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
  } catch {
    return ''
  }
}

/** The cgroup version the host mounts at /sys/fs/cgroup: '2' for cgroup2fs, else '1'. */
export async function hostCgroupVersion(): Promise<'1' | '2'> {
  try {
    const st = await statfs('/sys/fs/cgroup')
    return st.type === 0x63677270 ? '2' : '1'
  } catch (err) {
    if (!isNotFoundErrno(err)) throw err
    return '1'
  }
}
