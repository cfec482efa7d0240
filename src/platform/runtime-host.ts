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
