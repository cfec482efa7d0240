import type { SeqpacketSocket } from 'node-unix-socket'
import { closeSync, constants, openSync } from 'node:fs'
import { basename, dirname } from 'node:path'

/**
 * Connect to a unix socket whose path may not fit `sun_path` (108 bytes, e.g. under a deep
 * exec root): go through `/proc/self/fd/<fd of its directory>`, as conmon does to bind it.
 * The path is resolved by the connect(2) that `connect` makes at once (it throws when the
 * socket is missing), so the directory fd can be closed when it returns.
 */
export function connectSeqpacket(s: SeqpacketSocket, path: string, cb: () => void): void {
  if (Buffer.byteLength(path) < 100) return s.connect(path, cb)
  const dirFd = openSync(dirname(path), constants.O_RDONLY | constants.O_DIRECTORY)
  try {
    s.connect(`/proc/self/fd/${dirFd}/${basename(path)}`, cb)
  } finally {
    closeSync(dirFd)
  }
}
