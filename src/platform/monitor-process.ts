import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { isNotFoundErrno } from '../lib/errors.js'

/**
 * The OS side of the container monitor: start a detached `conmon` (it double-forks and outlives
 * berthd) with the pipes the caller asks for, and read what the runtime left in its state dir.
 */
export function spawnConmon(args: string[], opts: { cwd: string; stdio: StdioOptions; env: Record<string, string> }): ChildProcess {
  return spawn('conmon', args, { cwd: opts.cwd, stdio: opts.stdio, env: opts.env, detached: true })
}

/** A file of a runtime's state dir, or undefined when absent. */
export async function readStateFile(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path)
  } catch (err) {
    if (isNotFoundErrno(err)) return undefined
    throw err
  }
}

/** Whether a process is alive (signal 0; EPERM: alive, someone else's). */
export function processAlive(pid: number): boolean {
  if (!(pid > 0)) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
