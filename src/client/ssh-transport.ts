/**
 * ssh:// engine hosts, as the docker CLI reaches them: one SSH connection per command, and per
 * HTTP connection one channel to the remote daemon: a direct stream to its unix socket (OpenSSH's
 * streamlocal forwarding: no process on the far side), or, where the server refuses that or the
 * socket is elsewhere, an exec channel running `berth system dial-stdio` there, which relays the
 * channel to the remote daemon's socket. Commands share one connection across processes through
 * ssh-mux.ts.
 *
 * Authentication honours the ssh-agent (SSH_AUTH_SOCK), ~/.ssh/config (Host blocks: HostName,
 * User, Port, IdentityFile, UserKnownHostsFile, StrictHostKeyChecking) and the default keys
 * (~/.ssh/id_ed25519, id_ecdsa, id_rsa). The host key is checked against known_hosts (plain
 * and hashed entries, `[host]:port` for other ports, /etc/ssh/ssh_known_hosts too): an unknown
 * host is refused unless StrictHostKeyChecking is `no` or `accept-new`, a changed key always.
 */
import { createHmac } from 'node:crypto'
import { readFileSync, appendFileSync, mkdirSync } from 'node:fs'
import { connect as netConnect, type Socket } from 'node:net'
import { homedir } from 'node:os'
import { join, dirname } from 'node:path'
import type { Duplex } from 'node:stream'

/** ssh://[user@]host[:port][/socket/path] */
export interface SshUrl {
  user?: string
  host: string
  port?: number
  /** The remote daemon socket, when the URL has a path. */
  socketPath?: string
}

export class SshError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SshError'
  }
}

export function parseSshUrl(url: string): SshUrl {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new SshError(`invalid SSH URL: ${url}`)
  }
  if (u.protocol !== 'ssh:') throw new SshError(`expected scheme ssh, got "${u.protocol.replace(/:$/, '')}"`)
  if (u.password) throw new SshError('plain-text password is not supported')
  if (u.search) throw new SshError(`extra query after the host: "${u.search.slice(1)}"`)
  if (u.hash) throw new SshError(`extra fragment after the host: "${u.hash.slice(1)}"`)
  if (!u.hostname) throw new SshError('no host specified')
  return {
    ...(u.username ? { user: decodeURIComponent(u.username) } : {}),
    host: u.hostname.replace(/^\[|\]$/g, ''),
    ...(u.port ? { port: Number(u.port) } : {}),
    ...(u.pathname && u.pathname !== '/' ? { socketPath: decodeURIComponent(u.pathname) } : {}),
  }
}

/** What ~/.ssh/config says for a host (first value wins, as in ssh). */
export interface SshHostConfig {
  hostName?: string
  user?: string
  port?: number
  identityFiles: string[]
  userKnownHostsFiles: string[]
  strictHostKeyChecking?: string
}

function globMatch(pattern: string, s: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i')
  return re.test(s)
}

function expandHome(p: string, home: string): string {
  return p === '~' ? home : p.startsWith('~/') ? join(home, p.slice(2)) : p
}

export function readSshConfig(host: string, home = homedir(), file = join(home, '.ssh', 'config')): SshHostConfig {
  const out: SshHostConfig = { identityFiles: [], userKnownHostsFiles: [] }
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out
    throw err
  }
  let active = true
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    const m = /^(\S+?)(?:\s*=\s*|\s+)(.+)$/.exec(line)
    if (!m) continue
    const key = m[1]!.toLowerCase()
    const value = m[2]!.replace(/^"(.*)"$/, '$1')
    if (key === 'host') {
      const pats = value.split(/\s+/)
      const neg = pats.filter((p) => p.startsWith('!')).some((p) => globMatch(p.slice(1), host))
      active = !neg && pats.some((p) => !p.startsWith('!') && globMatch(p, host))
      continue
    }
    if (key === 'match') { active = false; continue }
    if (!active) continue
    switch (key) {
      case 'hostname': out.hostName ??= value.replace(/%h/g, host); break
      case 'user': out.user ??= value; break
      case 'port': out.port ??= Number(value); break
      case 'identityfile': out.identityFiles.push(expandHome(value, home)); break
      case 'userknownhostsfile': if (!out.userKnownHostsFiles.length) out.userKnownHostsFiles.push(...value.split(/\s+/).map((v) => expandHome(v, home))); break
      case 'stricthostkeychecking': out.strictHostKeyChecking ??= value.toLowerCase(); break
    }
  }
  return out
}

/** The known_hosts name of a host: `host`, or `[host]:port` when the port is not 22. */
export function knownHostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`
}

function hostMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|')
    if (!salt || !hash) return false
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash
  }
  const pats = field.split(',')
  if (pats.some((p) => p.startsWith('!') && globMatch(p.slice(1), name))) return false
  return pats.some((p) => !p.startsWith('!') && globMatch(p, name))
}

/** 'match', 'mismatch' (the host is known with other keys of that type) or 'unknown'. */
export function checkKnownHost(files: string[], names: string[], keyType: string, keyBlob: Buffer): 'match' | 'mismatch' | 'unknown' {
  const b64 = keyBlob.toString('base64')
  let sameType = false
  for (const f of files) {
    let text: string
    try {
      text = readFileSync(f, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue
      throw err
    }
    for (const raw of text.split('\n')) {
      const line = raw.trim()
      if (!line || line.startsWith('#')) continue
      let parts = line.split(/\s+/)
      if (parts[0]?.startsWith('@')) {
        if (parts[0] === '@revoked' && parts[3] === b64) return 'mismatch'
        if (parts[0] === '@cert-authority') continue
        parts = parts.slice(1)
      }
      const [hosts, type, key] = parts
      if (!hosts || !type || !key) continue
      if (!names.some((n) => hostMatches(hosts, n))) continue
      if (key === b64) return 'match'
      if (type === keyType) sameType = true
    }
  }
  return sameType ? 'mismatch' : 'unknown'
}

export interface SshConnectOptions {
  debug?: boolean
  /** The remote command; default `berth system dial-stdio` (with `--host unix://PATH` for a URL path). */
  command?: string
  /** The remote socket tried first by streamlocal forwarding (default: the URL's path, else berthd's default); `false`: exec only. */
  socketPath?: string | false
}

/** berthd's default socket on the far side when an ssh:// URL names none. */
export const REMOTE_DEFAULT_SOCKET = '/run/berth/berth.sock'

export interface Conn {
  client: import('ssh2').Client
  sock: Socket
  open: number
}

/**
 * A factory of connections to the daemon behind an ssh:// URL: the first call connects,
 * each call opens an exec channel on that one SSH connection. The TCP socket is unref'd
 * while no channel is open, so a finished command exits without closing anything by hand.
 */
export function sshConnectionFactory(url: string, opts: SshConnectOptions = {}): () => Promise<Duplex> {
  const target = parseSshUrl(url)
  let conn: Promise<Conn> | undefined
  const open = channelOpener(url, target, opts)
  return async () => {
    conn ??= connectSsh(target, opts)
    return open(await conn)
  }
}

/**
 * Opens daemon channels on a connection: streamlocal to the remote socket first; once that is
 * refused (forwarding disabled, socket elsewhere), exec `berth system dial-stdio` from then on.
 */
export function channelOpener(url: string, target: SshUrl, opts: SshConnectOptions = {}): (c: Conn) => Promise<Duplex> {
  const command = opts.command ?? (target.socketPath ? `berth --host unix://${target.socketPath} system dial-stdio` : 'berth system dial-stdio')
  let socketPath: string | false = opts.command ? false : opts.socketPath ?? target.socketPath ?? REMOTE_DEFAULT_SOCKET
  return async (c) => {
    if (socketPath) {
      try {
        return await openStreamLocal(c, socketPath)
      } catch {
        socketPath = false
      }
    }
    return openChannel(c, command, url)
  }
}

function openStreamLocal(c: Conn, path: string): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    c.open++
    c.sock.ref()
    c.client.openssh_forwardOutStreamLocal(path, (err, ch) => {
      if (err) {
        release(c)
        return reject(err)
      }
      ch.on('close', () => release(c))
      resolve(ch as unknown as Duplex)
    })
  })
}

function openChannel(c: Conn, command: string, url: string): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    c.open++
    c.sock.ref()
    c.client.exec(command, (err, ch) => {
      if (err) {
        release(c)
        return reject(new SshError(`error during connect: ${url}: ${err.message}`))
      }
      let stderr = ''
      let gotData = false
      ch.stderr.on('data', (d: Buffer) => { if (stderr.length < 4096) stderr += d.toString() })
      ch.on('data', () => { gotData = true })
      ch.on('exit', (code: number | null) => {
        if (code && !gotData) (ch as unknown as Duplex).destroy(new SshError(`error during connect: command [${command}] on ${url} has exited with exit status ${code}, make sure the URL is valid, and Berth is installed on the remote host: stderr=${stderr.trim()}`))
      })
      ch.on('close', () => release(c))
      resolve(ch as unknown as Duplex)
    })
  })
}

function release(c: Conn): void {
  c.open--
  if (c.open <= 0) {
    c.open = 0
    c.sock.unref()
  }
}

/**
 * ssh2 is loaded by a computed name so the CLI bundler leaves it (and its optional native
 * addons) to node's own resolution from node_modules.
 */
export async function loadSsh2(): Promise<typeof import('ssh2')> {
  const name = 'ssh2'
  return (await import(name)) as typeof import('ssh2')
}

/** Open and authenticate one SSH connection (the library loads here, not at start-up). */
export async function connectSsh(target: SshUrl, opts: { debug?: boolean } = {}): Promise<Conn> {
  const { Client, utils } = await loadSsh2()
  const home = homedir()
  const cfg = readSshConfig(target.host, home)
  const hostName = cfg.hostName ?? target.host
  const port = target.port ?? cfg.port ?? 22
  const user = target.user ?? cfg.user ?? process.env.USER ?? 'root'
  const keyFiles = cfg.identityFiles.length ? cfg.identityFiles : ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => join(home, '.ssh', f))
  const knownFiles = cfg.userKnownHostsFiles.length ? cfg.userKnownHostsFiles : [join(home, '.ssh', 'known_hosts')]
  const strict = cfg.strictHostKeyChecking ?? 'ask'
  const names = [knownHostName(target.host, port), ...(hostName !== target.host ? [knownHostName(hostName, port)] : [])]

  const keys: Array<{ file: string; key: Buffer }> = []
  for (const f of keyFiles) {
    try {
      keys.push({ file: f, key: readFileSync(f) })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
  }
  const agent = process.env.SSH_AUTH_SOCK
  const methods: Array<Record<string, unknown>> = []
  if (agent) methods.push({ type: 'agent', username: user, agent })
  for (const k of keys) {
    const parsed = utils.parseKey(k.key)
    if (parsed instanceof Error) continue // encrypted or unsupported: the agent may hold it
    methods.push({ type: 'publickey', username: user, key: k.key })
  }
  if (!methods.length) throw new SshError(`${user}@${hostName}: Permission denied (publickey): no SSH agent and no key in ${keyFiles.join(', ')}`)

  let hostKeyError: Error | undefined
  const sock = netConnect({ host: hostName, port })
  const client = new Client()
  await new Promise<void>((resolve, reject) => {
    const fail = (err: Error) => {
      sock.destroy()
      reject(hostKeyError ?? new SshError(`error during connect: ssh://${user}@${hostName}:${port}: ${err.message}`))
    }
    sock.once('error', fail)
    client.once('error', fail)
    client.once('ready', () => {
      sock.off('error', fail)
      client.off('error', fail)
      sock.on('error', () => undefined)
      client.on('error', () => undefined)
      resolve()
    })
    client.connect({
      sock,
      username: user,
      readyTimeout: 20_000,
      ...(opts.debug ? { debug: (m: string) => process.stderr.write(`ssh: ${m}\n`) } : {}),
      authHandler: ((_left: unknown, _partial: unknown, next: (m: unknown) => void) => {
        const m = methods.shift()
        next(m ?? false)
      }) as never,
      hostVerifier: ((blob: Buffer) => {
        const type = blob.readUInt32BE(0) <= blob.length ? blob.subarray(4, 4 + blob.readUInt32BE(0)).toString() : 'unknown'
        const state = checkKnownHost([...knownFiles, '/etc/ssh/ssh_known_hosts'], names, type, blob)
        if (state === 'match') return true
        if (state === 'mismatch') {
          hostKeyError = new SshError(`error during connect: ssh: the host key of ${names[0]} has changed (it does not match ${knownFiles[0]}): Host key verification failed.`)
          return false
        }
        if (strict === 'no' || strict === 'off' || strict === 'accept-new') {
          if (strict === 'accept-new') {
            mkdirSync(dirname(knownFiles[0]!), { recursive: true, mode: 0o700 })
            appendFileSync(knownFiles[0]!, `${names[0]} ${type} ${blob.toString('base64')}\n`, { mode: 0o600 })
          }
          return true
        }
        hostKeyError = new SshError(`error during connect: ssh: no host key for ${names[0]} in ${knownFiles[0]}: Host key verification failed. (add it with ssh-keyscan, or set StrictHostKeyChecking accept-new for this host in ~/.ssh/config)`)
        return false
      }) as never,
    })
  })
  sock.unref()
  return { client, sock, open: 0 }
}

