/**
 * Paths through /proc/<pid>/fd: a directory opened (and checked) once is named by its file
 * descriptor, so an entry created or linked "inside" it cannot be redirected by a symlink swapped
 * into its path afterwards (openat(2) semantics for APIs that take paths).
 */
import { readlink } from 'node:fs/promises'

/** `name` inside the directory open as `fd` in this process. */
export function pathInDirFd(fd: number, name: string): string {
  return `/proc/${process.pid}/fd/${fd}/${name}`
}

/** The path the kernel holds for an open file descriptor (where it really is). */
export function fdTarget(fd: number): Promise<string> {
  return readlink(`/proc/self/fd/${fd}`)
}

/** `name` inside the working directory of process `pid` (conmon's bundle: its control FIFO). */
export function pathInProcessCwd(pid: number | undefined, name: string): string {
  return `/proc/${pid}/cwd/${name}`
}
