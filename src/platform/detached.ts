import { spawn } from 'node:child_process'

/**
 * Start a long-lived helper that outlives the command starting it (its own session, no stdio,
 * not waited for): the ssh mux. Errors are the helper's to handle; a spawn failure is ignored
 * (the command goes on without it).
 */
export function spawnDetached(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  try {
    const child = spawn(cmd, args, { detached: true, stdio: 'ignore', env })
    child.on('error', () => undefined)
    child.unref()
  } catch {
    // The next command connects by itself again.
  }
}
