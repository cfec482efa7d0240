import { existsSync, readFileSync, readlinkSync } from 'node:fs'
import { errno } from '../lib/errors.js'

/**
 * The kernel files the OCI spec builder probes once (src/runtime/spec.ts probeHost): the
 * daemon's own status, uid map and network namespace, the cgroup controllers, the CPUs.
 * Synchronous, as the probe is.
 */

/** A kernel file's text, or undefined when absent or not readable. */
export function readKernelText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    if (errno(err) === 'ENOENT' || errno(err) === 'EACCES' || errno(err) === 'EPERM') return undefined
    throw err
  }
}

export function kernelPathExists(path: string): boolean {
  return existsSync(path)
}

/** The target of a /proc link (a namespace: `net:[4026531840]`), or undefined when there is none. */
export function readKernelLink(path: string, absent: readonly string[] = ['ENOENT', 'EACCES']): string | undefined {
  try {
    return readlinkSync(path)
  } catch (err) {
    if (absent.includes(errno(err) ?? '')) return undefined
    throw err
  }
}

const CGROUP_ROOT = '/sys/fs/cgroup'

/** The kernel files of the spec builder's host probe, by what they tell. */
export const hostKernel = {
  /** /proc/self/status (capabilities, seccomp). */
  selfStatus: (): string | undefined => readKernelText('/proc/self/status'),
  selfUidMap: (): string | undefined => readKernelText('/proc/self/uid_map'),
  /** The daemon's network namespace (`net:[...]`); undefined without /proc. */
  selfNetns: (): string | undefined => readKernelLink('/proc/self/ns/net'),
  /** A file of the cgroup root (`cgroup.controllers`, `memory/memory.limit_in_bytes`...). */
  cgroupText: (rel: string): string | undefined => readKernelText(`${CGROUP_ROOT}/${rel}`),
  cgroupHas: (rel: string): boolean => kernelPathExists(`${CGROUP_ROOT}/${rel}`),
  possibleCpus: (): string | undefined => readKernelText('/sys/devices/system/cpu/possible'),
  /** A CPU's thermal_throttle directory, when it exists (Docker masks it). */
  thermalThrottle: (cpu: number): string | undefined => {
    const p = `/sys/devices/system/cpu/cpu${cpu}/thermal_throttle`
    return kernelPathExists(p) ? p : undefined
  },
  /** Whether a sysctl (dotted name) exists on this kernel. */
  sysctlExists: (name: string): boolean => kernelPathExists(`/proc/sys/${name.replaceAll('.', '/')}`),
}
