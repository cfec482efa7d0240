/**
 * SSH connection sharing across commands (OpenSSH's ControlMaster/ControlPersist, for berth's
 * own ssh:// transport): the first command to an ssh:// host connects by itself and starts a
 * detached mux process, which holds one authenticated SSH connection and listens on a unix
 * socket in ~/.berth/ssh-mux/ (directory 0700, socket 0600: only this user reaches it). Later
 * commands connect to that socket; per connection the mux opens one daemon channel on its SSH
 * connection and relays bytes. So a warm command pays neither the SSH handshake nor a process
 * on the far side.
 *
 * Wire protocol on the mux socket: the mux first writes one line, `OK` or `ERR <message>`, then
 * the daemon's bytes. The mux exits after `BERTH_SSH_MUX_PERSIST` seconds (default 600) without
 * connections, or when its SSH connection ends; `BERTH_SSH_MUX=0` turns sharing off.
 */
import { createHash } from 'node:crypto'
import { chmodSync, mkdirSync, unlinkSync } from 'node:fs'
import { connect, createServer, type Socket } from 'node:net'
import { homedir } from 'node:os'
import { join } from 'node:path'
import type { Duplex } from 'node:stream'
import { channelOpener, connectSsh, parseSshUrl, sshConnectionFactory, SshError, type SshConnectOptions } from './ssh-transport.js'

const DEFAULT_PERSIST_S = 600

export function muxDir(home = homedir()): string {
  return join(home, '.berth', 'ssh-mux')
}

/** The mux socket of one ssh:// URL (short: unix socket paths are limited to 107 bytes). */
export function muxSocketPath(url: string, home = homedir()): string {
  return join(muxDir(home), `${createHash('sha256').update(url).digest('hex').slice(0, 20)}.sock`)
}

export function muxEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.BERTH_SSH_MUX !== '0'
}

/**
 * A connection to the daemon through the mux, or undefined when no mux listens there (none
 * started, or a dead one's socket, which is removed). A mux that cannot open a channel answers
 * `ERR`: that is the command's error.
 */
export function connectMux(socketPath: string): Promise<Duplex | undefined> {
  return new Promise((resolve, reject) => {
    const sock = connect({ path: socketPath })
    let head = Buffer.alloc(0)
    const onData = (b: Buffer) => {
      head = Buffer.concat([head, b])
      const nl = head.indexOf(10)
      if (nl < 0) {
        if (head.length > 4096) fail(new SshError('ssh mux: malformed answer'))
        return
      }
      sock.off('data', onData)
      sock.off('error', onError)
      sock.off('close', onClose)
      sock.pause()
      const line = head.subarray(0, nl).toString()
      const rest = head.subarray(nl + 1)
      if (line === 'OK') {
        if (rest.length) sock.unshift(rest)
        resolve(sock)
      } else {
        sock.destroy()
        reject(new SshError(line.replace(/^ERR /, '')))
      }
    }
    const fail = (err: Error) => {
      sock.destroy()
      reject(err)
    }
    const onError = (err: NodeJS.ErrnoException) => {
      sock.destroy()
      if (err.code === 'ECONNREFUSED') {
        try { unlinkSync(socketPath) } catch { /* raced with another command */ }
      }
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') resolve(undefined)
      else reject(err)
    }
    // The mux went away between accept and its answer (idle exit): no mux.
    const onClose = () => resolve(undefined)
    sock.on('data', onData)
    sock.on('error', onError)
    sock.on('close', onClose)
  })
}

/**
 * The connection factory a command uses for an ssh:// host: through a running mux when there
 * is one; otherwise its own SSH connection, after starting a mux for the commands that follow
 * (`startMux` spawns it detached; it is the caller's because spawning is the platform's).
 */
export function sharedSshConnectionFactory(url: string, opts: SshConnectOptions & { startMux?: (url: string) => void } = {}): () => Promise<Duplex> {
  parseSshUrl(url)
  const path = muxSocketPath(url)
  let mode: Promise<'mux' | (() => Promise<Duplex>)> | undefined
  // The probe's connection is the command's first one.
  let pendingFirst: Duplex | undefined
  return async () => {
    mode ??= (async () => {
      const first = await connectMux(path)
      if (first) {
        pendingFirst = first
        return 'mux' as const
      }
      opts.startMux?.(url)
      return sshConnectionFactory(url, opts)
    })()
    const m = await mode
    if (m !== 'mux') return m()
    if (pendingFirst) {
      const d = pendingFirst
      pendingFirst = undefined
      return d
    }
    const d = await connectMux(path)
    if (!d) throw new SshError(`error during connect: ${url}: the shared SSH connection closed`)
    return d
  }
}

/**
 * The mux process: connect once, listen on the socket, relay each connection over a new
 * channel. Resolves when it exits (idle, or SSH connection gone). A second mux for the same
 * URL (two commands raced to start one) finds the socket taken and exits at once.
 */
export async function runMux(url: string, opts: { persistSeconds?: number; log?: (m: string) => void } = {}): Promise<void> {
  const target = parseSshUrl(url)
  const path = muxSocketPath(url)
  mkdirSync(muxDir(), { recursive: true, mode: 0o700 })
  chmodSync(muxDir(), 0o700)
  if (await connectMux(path).then((d) => { d?.destroy(); return d !== undefined }, () => true)) return
  const conn = await connectSsh(target)
  conn.sock.ref()
  const open = channelOpener(url, target)
  const persistMs = (opts.persistSeconds ?? (Number(process.env.BERTH_SSH_MUX_PERSIST) || DEFAULT_PERSIST_S)) * 1000
  let active = 0
  let idle: NodeJS.Timeout | undefined
  let armIdle = (): void => undefined
  const server = createServer((client: Socket) => {
    active++
    if (idle) clearTimeout(idle)
    let done = false
    const finish = () => {
      if (done) return
      done = true
      if (--active === 0) armIdle()
    }
    client.on('close', finish)
    client.on('error', () => client.destroy())
    open(conn).then((ch) => {
      if (client.destroyed) return ch.destroy()
      client.write('OK\n')
      client.pipe(ch)
      ch.pipe(client)
      ch.on('error', () => client.destroy())
      ch.on('close', () => client.destroy())
      client.on('close', () => ch.destroy())
    }, (err: Error) => {
      client.end(`ERR ${err.message.replace(/\n/g, ' ')}\n`)
    })
  })
  const closed = new Promise<void>((resolve) => {
    const stop = () => {
      server.close()
      try { unlinkSync(path) } catch { /* gone already */ }
      conn.client.end()
      resolve()
    }
    conn.client.on('close', stop)
    conn.client.on('end', stop)
    process.once('SIGTERM', stop)
    process.once('SIGINT', stop)
    server.on('close', resolve)
    armIdle = () => {
      idle = setTimeout(() => { opts.log?.('ssh mux: idle, exiting'); stop() }, persistMs)
    }
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ path }, () => {
      chmodSync(path, 0o600)
      resolve()
    })
  }).catch((err: NodeJS.ErrnoException) => {
    conn.client.end()
    if (err.code === 'EADDRINUSE') return
    throw err
  })
  if (!server.listening) return
  armIdle()
  await closed
}
