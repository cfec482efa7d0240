import { spawn, type SpawnOptions, type ChildProcess } from 'node:child_process'
import { internal } from '../lib/errors.js'

export interface RunResult {
  code: number
  stdout: string
  stderr: string
}

/** Run a command to completion, capturing its output. Rejects on spawn failure, not on exit code. */
export function run(cmd: string, args: string[], opts: SpawnOptions & { input?: string | Buffer; signal?: AbortSignal } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...opts })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout?.on('data', (b: Buffer) => out.push(b))
    child.stderr?.on('data', (b: Buffer) => err.push(b))
    child.on('error', reject)
    child.on('close', (code, sig) =>
      resolve({ code: code ?? (sig ? 128 : 1), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }),
    )
    child.stdin?.on('error', () => {})
    child.stdin?.end(opts.input ?? '')
  })
}

/** Run a command and fail with its stderr when it exits non-zero. */
export async function runChecked(cmd: string, args: string[], opts: Parameters<typeof run>[2] = {}): Promise<string> {
  const r = await run(cmd, args, opts)
  if (r.code !== 0) throw internal('ERR_COMMAND_FAILED', `${cmd} ${args[0] ?? ''}: ${r.stderr.trim() || `exit status ${r.code}`}`)
  return r.stdout
}

export function waitExit(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null) return resolve(child.exitCode)
    child.on('error', reject)
    child.on('close', (code, sig) => resolve(code ?? (sig ? 128 : 1)))
  })
}
