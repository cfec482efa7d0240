/**
 * One SSH session to a machine (ssh2): commands with their output and status, uploads through
 * stdin, SFTP for `scp`, and an interactive shell for `machine ssh`. The host key is pinned in
 * the machine's own known_hosts: recorded at create (trust on first use, as docker-machine's
 * generic driver does), checked on every later connection.
 */
import { readFile, appendFile } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import { EngineError } from '../lib/errors.js'
import { checkKnownHost, knownHostName, loadSsh2 } from '../client/ssh-transport.js'

export interface SshTarget {
  host: string
  port: number
  user: string
  /** A private key file; without one the agent (SSH_AUTH_SOCK) is used. */
  keyPath?: string
  knownHostsFile: string
  /** Record an unknown host key instead of refusing it (create). */
  acceptNewHostKey?: boolean
  timeoutMs?: number
}

export interface ExecResult {
  code: number
  stdout: string
  stderr: string
}

/** A failed remote command: its status and stderr. */
export class RemoteCommandError extends EngineError {
  constructor(readonly command: string, readonly result: ExecResult) {
    super('Internal', 'ERR_MACHINE_REMOTE', `${(result.stderr || result.stdout).trim() || `exit status ${result.code}`}`)
  }
}

export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_\/.:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`
}

export class SshSession {
  private constructor(private readonly client: import('ssh2').Client, readonly target: SshTarget) {}

  static async connect(t: SshTarget): Promise<SshSession> {
    const { Client } = await loadSsh2()
    let key: Buffer | undefined
    if (t.keyPath) {
      try {
        key = await readFile(t.keyPath)
      } catch (err) {
        throw new EngineError('InvalidArgument', 'ERR_MACHINE_SSH_KEY', `cannot read SSH key ${t.keyPath}: ${(err as Error).message}`)
      }
    }
    const agent = process.env.SSH_AUTH_SOCK
    if (!key && !agent) throw new EngineError('InvalidArgument', 'ERR_MACHINE_SSH_KEY', 'no SSH key given (--generic-ssh-key) and no SSH agent (SSH_AUTH_SOCK)')
    const name = knownHostName(t.host, t.port)
    let pinned: { type: string; blob: Buffer } | undefined
    let hostKeyError: Error | undefined
    const client = new Client()
    await new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve())
      client.once('error', (err) => reject(hostKeyError ?? new EngineError('Unavailable', 'ERR_MACHINE_SSH', `ssh ${t.user}@${t.host}:${t.port}: ${err.message}`)))
      client.connect({
        host: t.host,
        port: t.port,
        username: t.user,
        readyTimeout: t.timeoutMs ?? 20_000,
        keepaliveInterval: 15_000,
        ...(key ? { privateKey: key } : {}),
        ...(agent ? { agent } : {}),
        hostVerifier: ((blob: Buffer) => {
          const len = blob.readUInt32BE(0)
          const type = blob.subarray(4, 4 + len).toString()
          const state = checkKnownHost([t.knownHostsFile], [name], type, blob)
          if (state === 'match') return true
          if (state === 'unknown' && t.acceptNewHostKey) {
            pinned = { type, blob }
            return true
          }
          hostKeyError = new EngineError('Forbidden', 'ERR_MACHINE_HOST_KEY', state === 'mismatch'
            ? `ssh ${name}: the host key has changed since the machine was created (pinned in ${t.knownHostsFile}): Host key verification failed.`
            : `ssh ${name}: the host key is not in ${t.knownHostsFile}: Host key verification failed.`)
          return false
        }) as never,
      })
    })
    client.on('error', () => undefined)
    if (pinned) await appendFile(t.knownHostsFile, `${name} ${pinned.type} ${pinned.blob.toString('base64')}\n`, { mode: 0o600 })
    return new SshSession(client, t)
  }

  /** Run a command; stdin may be given (an upload). Never throws on a non-zero status. */
  exec(command: string, opts: { stdin?: Buffer | string | Readable; onStdout?: (b: Buffer) => void; onStderr?: (b: Buffer) => void; pty?: boolean } = {}): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      this.client.exec(command, opts.pty ? { pty: { term: process.env.TERM || 'xterm', rows: process.stdout.rows || 24, cols: process.stdout.columns || 80 } } : {}, (err, ch) => {
        if (err) return reject(new EngineError('Unavailable', 'ERR_MACHINE_SSH', `ssh exec: ${err.message}`))
        const out: Buffer[] = []
        const errs: Buffer[] = []
        let code = -1
        ch.on('data', (d: Buffer) => (opts.onStdout ? opts.onStdout(d) : out.push(d)))
        ch.stderr.on('data', (d: Buffer) => (opts.onStderr ? opts.onStderr(d) : errs.push(d)))
        ch.on('exit', (c: number | null, signal?: string) => { code = c ?? (signal ? 128 : -1) })
        ch.on('close', () => resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(errs).toString() }))
        const input = opts.stdin
        if (input === undefined) ch.end()
        else if (typeof input === 'string' || Buffer.isBuffer(input)) ch.end(input)
        else {
          input.on('error', (e) => (ch as unknown as import("node:stream").Duplex).destroy(e))
          input.pipe(ch)
        }
      })
    })
  }

  /** Run a command and return its stdout; a non-zero status throws with its stderr. */
  async run(command: string, stdin?: Buffer | string | Readable): Promise<string> {
    const r = await this.exec(command, stdin === undefined ? {} : { stdin })
    if (r.code !== 0) throw new RemoteCommandError(command, r)
    return r.stdout
  }

  /** An interactive shell (or command with a terminal) wired to this process's stdio. */
  interactive(command?: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const tty = !!process.stdin.isTTY
      const opened = (err: Error | undefined, ch: import('ssh2').ClientChannel) => {
        if (err) return reject(new EngineError('Unavailable', 'ERR_MACHINE_SSH', `ssh: ${err.message}`))
        if (tty) process.stdin.setRawMode(true)
        process.stdin.pipe(ch)
        ch.pipe(process.stdout)
        ch.stderr.pipe(process.stderr)
        let code = 0
        ch.on('exit', (c: number | null) => { code = c ?? 255 })
        ch.on('close', () => {
          if (tty) process.stdin.setRawMode(false)
          process.stdin.unpipe(ch)
          process.stdin.pause()
          resolve(code)
        })
      }
      const pty = { term: process.env.TERM || 'xterm', rows: process.stdout.rows || 24, cols: process.stdout.columns || 80 }
      if (command === undefined) this.client.shell(pty, opened)
      else this.client.exec(command, tty ? { pty } : {}, opened)
    })
  }

  sftp(): Promise<import('ssh2').SFTPWrapper> {
    return new Promise((resolve, reject) => this.client.sftp((err, s) => (err ? reject(err) : resolve(s))))
  }

  close(): void {
    this.client.end()
  }
}
