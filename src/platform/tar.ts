/**
 * GNU tar and the decompressors, as streaming tools over a Spawner. Arguments live here so the
 * engine never spells a command line.
 */
import type { Spawner, ToolProcess } from './platform.js'

/**
 * Extract an uncompressed tar read from stdin into `dir`, keeping numeric owners, permissions and
 * all xattrs (layer extraction as root).
 */
export function startTarExtract(spawner: Spawner, dir: string, opts: { signal?: AbortSignal } = {}): ToolProcess {
  return spawner.start('tar', [
    '--extract', '--file=-', `--directory=${dir}`,
    '--numeric-owner', '--same-owner', '--preserve-permissions',
    '--xattrs', '--xattrs-include=*', '--delay-directory-restore',
    '--warning=no-unknown-keyword', '--warning=no-timestamp',
  ], { stdout: 'ignore', ...(opts.signal ? { signal: opts.signal } : {}) })
}

/**
 * Write a POSIX tar of `members` to stdout, working inside the open directory `dirFd` (handed
 * to tar as its fd 3, so a path swapped meanwhile cannot redirect it). `transform` is a GNU tar
 * --transform expression. Exit code 1 means files changed while read.
 */
export function startTarCreate(spawner: Spawner, dirFd: number, members: string[], opts: { transform?: string; signal?: AbortSignal } = {}): ToolProcess {
  const args = [
    '--create', '--file=-', '--directory=/proc/self/fd/3',
    '--numeric-owner', '--format=posix', '--pax-option=delete=atime,delete=ctime', '--xattrs',
    '--warning=no-file-changed', '--warning=no-file-removed', '--warning=no-file-shrank',
    ...(opts.transform ? [`--transform=${opts.transform}`] : []),
    '--', ...members,
  ]
  return spawner.start('tar', args, { stdin: 'ignore', extraFds: [dirFd], ...(opts.signal ? { signal: opts.signal } : {}) })
}

/** Any tar invocation of the CLI (docker cp's local side): stdin piped only when `input`. */
export function startTar(spawner: Spawner, args: string[], opts: { input: boolean }): ToolProcess {
  return spawner.start('tar', args, { stdin: opts.input ? 'pipe' : 'ignore' })
}

export type ToolCompression = 'bzip2' | 'xz' | 'zstd'

/** A decompressor reading stdin and writing stdout (`-d -c -q`). */
export function startDecompressor(spawner: Spawner, kind: ToolCompression, opts: { signal?: AbortSignal } = {}): ToolProcess {
  return spawner.start(kind, ['-d', '-c', '-q'], opts.signal ? { signal: opts.signal } : {})
}

/** The first lines of a tool's stderr, joined, without tar's closing "Exiting with failure status". */
export function firstStderrLines(stderr: string, n = 3, sep = '; '): string {
  return stderr.trim().split('\n').filter((l) => l && !/Exiting with failure status/.test(l)).slice(0, n).join(sep)
}
