/**
 * `berth swarm init|join|join-token|leave|update|unlock|unlock-key|ca`, as the docker CLI 28.
 *
 * The join command printed after `init` and by `join-token` reads `docker swarm join ...`,
 * word for word docker's output: the command works the same with `berth` (same flags), scripts
 * that parse docker's output keep working, and the worker may well run the docker CLI.
 */
import { readFileSync } from 'node:fs'
import { CliExit, type CliContext } from '../context.js'
import { flagHelp } from '../flags.js'
import { flagError, parseGoDuration, readStream, type Json } from './swarm-util.js'

const DEFAULT_LISTEN = '0.0.0.0:2377'

/** opts.ParseTCPAddr against the default listen address: a missing host or port is the default's. */
export function nodeAddr(value: string, def = DEFAULT_LISTEN): string {
  let v = value.replace(/^tcp:\/\//, '')
  if (/^[a-z]+:\/\//i.test(v)) throw new Error(`Invalid proto, expected tcp: ${value}`)
  v = v.replace(/\/$/, '')
  const last = v.lastIndexOf(':')
  if (last >= 0 && !/^\[/.test(v) && !/^[0-9a-fA-F:.]+$/.test(v) && !/^\d*$/.test(v.slice(last + 1))) throw new Error(`parse "tcp://${v}": invalid port "${v.slice(last)}" after host`)
  const [dh, dp] = splitHostPort(def)
  let [h, p] = splitHostPort(v)
  if (!h) h = dh
  if (!p) p = dp
  if (!/^\d+$/.test(p) || Number(p) > 65535) throw new Error(`invalid bind address (${value}): invalid port`)
  return h.includes(':') ? `[${h}]:${p}` : `${h}:${p}`
}

function splitHostPort(s: string): [string, string] {
  const m = /^\[([^\]]*)\](?::(\d*))?$/.exec(s)
  if (m) return [m[1]!, m[2] ?? '']
  const i = s.lastIndexOf(':')
  if (i < 0) return [s, '']
  if (s.indexOf(':') !== i) return [s, ''] // a bare IPv6 address
  return [s.slice(0, i), s.slice(i + 1)]
}

function uintFlag(ctx: CliContext, name: string, bits = 64): number | undefined {
  const v = ctx.flags[name] as string | undefined
  if (v === undefined) return undefined
  if (!/^\d+$/.test(v.trim())) throw flagError(ctx, `--${name}`, v, `strconv.ParseUint: parsing ${JSON.stringify(v)}: invalid syntax`)
  const n = Number(v.trim())
  if (bits === 32 && n > 0xffffffff) throw flagError(ctx, `--${name}`, v, `strconv.ParseUint: parsing ${JSON.stringify(v)}: value out of range`)
  return n
}

function durFlag(ctx: CliContext, name: string): number | undefined {
  const v = ctx.flags[name] as string | undefined
  if (v === undefined) return undefined
  try { return parseGoDuration(v) } catch (err) { throw flagError(ctx, `--${name}`, v, (err as Error).message) }
}

function availability(ctx: CliContext): string | undefined {
  const a = ctx.flags.availability as string | undefined
  if (a === undefined) return undefined
  const l = a.toLowerCase()
  if (!['active', 'pause', 'drain'].includes(l)) throw new CliExit(1, `invalid availability "${a}", only active, pause and drain are supported`)
  return l
}

/** CIDRs as net.IPNet.String() prints them (the network address). */
function cidrList(ctx: CliContext): string[] {
  const out: string[] = []
  for (const raw of (ctx.flags['default-addr-pool'] as string[] | undefined) ?? []) {
    for (const v of raw.split(',')) {
      const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(v.trim())
      if (!m || m.slice(1, 5).some((x) => Number(x) > 255) || Number(m[5]) > 32) throw flagError(ctx, '--default-addr-pool', raw, `invalid CIDR address: ${v}`)
      const ip = m.slice(1, 5).reduce((a, x) => a * 256 + Number(x), 0)
      const bits = Number(m[5])
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0
      const net = (ip & mask) >>> 0
      out.push(`${[net >>> 24, (net >>> 16) & 255, (net >>> 8) & 255, net & 255].join('.')}/${bits}`)
    }
  }
  return out
}

/** parseExternalCA: `protocol=cfssl,url=https://...[,cacert=file]`. */
function externalCAs(ctx: CliContext): Json[] | undefined {
  const list = ctx.flags['external-ca'] as string[] | undefined
  if (!list) return undefined
  return list.map((spec) => {
    const ca: Json = { Options: {} }
    let proto = false
    let url = false
    for (const field of spec.split(',')) {
      const eq = field.indexOf('=')
      if (eq < 0) throw flagError(ctx, '--external-ca', spec, `invalid field '${field}' must be a key=value pair`)
      const k = field.slice(0, eq).toLowerCase()
      const v = field.slice(eq + 1)
      if (k === 'protocol') {
        if (v.toLowerCase() !== 'cfssl') throw flagError(ctx, '--external-ca', spec, `unrecognized external CA protocol ${v}`)
        ca.Protocol = 'cfssl'
        proto = true
      } else if (k === 'url') { ca.URL = v; url = true } else if (k === 'cacert') {
        let pem: string
        try { pem = readFileSync(v, 'utf8') } catch (err) { throw flagError(ctx, '--external-ca', spec, `unable to read CA cert for external CA: ${(err as Error).message}`) }
        if (!pem.includes('-----BEGIN')) throw flagError(ctx, '--external-ca', spec, 'CA cert for external CA must be in PEM format')
        ca.CACert = pem
      } else ca.Options[k] = v
    }
    if (!proto) throw flagError(ctx, '--external-ca', spec, 'the external-ca option needs a protocol= parameter')
    if (!url) throw flagError(ctx, '--external-ca', spec, 'the external-ca option needs a url= parameter')
    return ca
  })
}

/** swarmOptions.mergeSwarmSpec: only the settings a flag names change. */
export function mergeSwarmSpec(spec: Json, ctx: CliContext, caCert?: string): Json {
  const f = ctx.flags
  const th = f['task-history-limit'] as string | undefined
  if (th !== undefined) {
    if (!/^-?\d+$/.test(th)) throw flagError(ctx, '--task-history-limit', th, `strconv.ParseInt: parsing ${JSON.stringify(th)}: invalid syntax`)
    ;(spec.Orchestration ??= {}).TaskHistoryRetentionLimit = Number(th)
  }
  const hb = durFlag(ctx, 'dispatcher-heartbeat')
  if (hb !== undefined) (spec.Dispatcher ??= {}).HeartbeatPeriod = hb
  const ms = uintFlag(ctx, 'max-snapshots')
  if (ms !== undefined) (spec.Raft ??= {}).KeepOldSnapshots = ms
  const si = uintFlag(ctx, 'snapshot-interval')
  if (si !== undefined) (spec.Raft ??= {}).SnapshotInterval = si
  if (f.autolock !== undefined) (spec.EncryptionConfig ??= {}).AutoLockManagers = !!f.autolock
  const ce = durFlag(ctx, 'cert-expiry')
  if (ce !== undefined) (spec.CAConfig ??= {}).NodeCertExpiry = ce
  const ext = externalCAs(ctx)
  if (ext) {
    for (const ca of ext) if (!ca.CACert && caCert) ca.CACert = caCert
    ;(spec.CAConfig ??= {}).ExternalCAs = ext
  }
  return spec
}

/** The zero swarm.Spec as Go marshals it (what `swarm init` sends when no setting is given). */
export function emptySwarmSpec(): Json {
  return { Labels: null, Orchestration: {}, Raft: { ElectionTick: 0, HeartbeatTick: 0 }, Dispatcher: {}, CAConfig: {}, TaskDefaults: {}, EncryptionConfig: { AutoLockManagers: false } }
}

function printUnlockCommand(ctx: CliContext, key: string): void {
  if (!key) return
  ctx.out.write(`To unlock a swarm manager after it restarts, run the \`docker swarm unlock\`\ncommand and provide the following key:\n\n    ${key}\n\nRemember to store this key in a password manager, since without it you\nwill not be able to restart the manager.\n`)
}

async function printJoinCommand(ctx: CliContext, nodeId: string, worker: boolean, manager: boolean): Promise<void> {
  const client = ctx.client()
  const node = await client.json<Json>('GET', `/nodes/${encodeURIComponent(nodeId)}`)
  const sw = await client.json<Json>('GET', '/swarm')
  if (!node.ManagerStatus) return
  const addr = node.ManagerStatus.Addr as string
  if (worker) ctx.out.write(`To add a worker to this swarm, run the following command:\n\n    docker swarm join --token ${sw.JoinTokens?.Worker} ${addr}\n\n`)
  if (manager) ctx.out.write(`To add a manager to this swarm, run the following command:\n\n    docker swarm join --token ${sw.JoinTokens?.Manager} ${addr}\n\n`)
}

async function unlockKeyOf(ctx: CliContext): Promise<string> {
  try {
    const r = await ctx.client().json<Json>('GET', '/swarm/unlockkey')
    return (r?.UnlockKey as string | undefined) ?? ''
  } catch (err) {
    throw new CliExit(1, `could not fetch unlock key: Error response from daemon: ${(err as Error).message}`)
  }
}

export async function init(ctx: CliContext): Promise<void> {
  const f = ctx.flags
  let listen: string
  try { listen = nodeAddr((f['listen-addr'] as string | undefined) ?? DEFAULT_LISTEN) } catch (err) { throw flagError(ctx, '--listen-addr', f['listen-addr'] as string, (err as Error).message) }
  const avail = availability(ctx)
  const req: Json = {
    ListenAddr: listen,
    AdvertiseAddr: (f['advertise-addr'] as string | undefined) ?? '',
    DataPathAddr: (f['data-path-addr'] as string | undefined) ?? '',
    DataPathPort: uintFlag(ctx, 'data-path-port', 32) ?? 0,
    ForceNewCluster: !!f['force-new-cluster'],
    Spec: mergeSwarmSpec(emptySwarmSpec(), ctx),
    AutoLockManagers: !!f.autolock,
    Availability: avail ?? '',
    DefaultAddrPool: cidrList(ctx),
    SubnetSize: uintFlag(ctx, 'default-addr-pool-mask-length', 32) ?? 24,
  }
  let nodeId: string
  try {
    nodeId = await ctx.client().json<string>('POST', '/swarm/init', { body: req })
  } catch (err) {
    const msg = (err as Error).message
    if (/could not choose an IP address to advertise|could not find the system's IP address/.test(msg)) throw new CliExit(1, `Error response from daemon: ${msg} - specify one with --advertise-addr`)
    throw err
  }
  ctx.out.write(`Swarm initialized: current node (${nodeId}) is now a manager.\n\n`)
  await printJoinCommand(ctx, nodeId, true, false)
  ctx.out.write("To add a manager to this swarm, run 'docker swarm join-token manager' and follow the instructions.\n")
  if (req.AutoLockManagers) printUnlockCommand(ctx, await unlockKeyOf(ctx))
}

export async function join(ctx: CliContext): Promise<void> {
  const f = ctx.flags
  let listen: string
  try { listen = nodeAddr((f['listen-addr'] as string | undefined) ?? DEFAULT_LISTEN) } catch (err) { throw flagError(ctx, '--listen-addr', f['listen-addr'] as string, (err as Error).message) }
  const avail = availability(ctx)
  const client = ctx.client()
  await client.call('POST', '/swarm/join', {
    body: {
      ListenAddr: listen,
      AdvertiseAddr: (f['advertise-addr'] as string | undefined) ?? '',
      DataPathAddr: (f['data-path-addr'] as string | undefined) ?? '',
      RemoteAddrs: [ctx.args[0]],
      JoinToken: (f.token as string | undefined) ?? '',
      Availability: avail ?? '',
    },
  }).then((r) => r.resume())
  const info = await client.json<Json>('GET', '/info')
  ctx.out.write(info.Swarm?.ControlAvailable ? 'This node joined a swarm as a manager.\n' : 'This node joined a swarm as a worker.\n')
}

async function swarmUpdate(ctx: CliContext, sw: Json, flags: { rotateWorkerToken?: boolean; rotateManagerToken?: boolean; rotateManagerUnlockKey?: boolean } = {}): Promise<void> {
  await ctx.client().call('POST', '/swarm/update', {
    query: {
      version: String(sw.Version?.Index ?? 0),
      rotateWorkerToken: String(!!flags.rotateWorkerToken),
      rotateManagerToken: String(!!flags.rotateManagerToken),
      rotateManagerUnlockKey: String(!!flags.rotateManagerUnlockKey),
    },
    body: sw.Spec ?? {},
  }).then((r) => r.resume())
}

export async function joinToken(ctx: CliContext): Promise<void> {
  const role = ctx.args[0]!
  const worker = role === 'worker'
  const manager = role === 'manager'
  if (!worker && !manager) throw new CliExit(1, `unknown role ${role}`)
  const client = ctx.client()
  if (ctx.flags.rotate) {
    const sw = await client.json<Json>('GET', '/swarm')
    await swarmUpdate(ctx, sw, { rotateWorkerToken: worker, rotateManagerToken: manager })
    if (!ctx.flags.quiet) ctx.out.write(`Successfully rotated ${role} join token.\n\n`)
  }
  const sw = await client.json<Json>('GET', '/swarm')
  if (ctx.flags.quiet) {
    ctx.out.write(`${worker ? sw.JoinTokens?.Worker : sw.JoinTokens?.Manager}\n`)
    return
  }
  const info = await client.json<Json>('GET', '/info')
  await printJoinCommand(ctx, info.Swarm?.NodeID ?? '', worker, manager)
}

export async function leave(ctx: CliContext): Promise<void> {
  await ctx.client().call('POST', '/swarm/leave', { query: { force: !!ctx.flags.force } }).then((r) => r.resume())
  ctx.out.write('Node left the swarm.\n')
}

export async function update(ctx: CliContext): Promise<void> {
  const f = ctx.flags
  if (!['autolock', 'task-history-limit', 'dispatcher-heartbeat', 'max-snapshots', 'snapshot-interval', 'cert-expiry', 'external-ca'].some((k) => f[k] !== undefined)) {
    // docker's PreRunE answers pflag.ErrHelp when no flag is given: the usage
    const spec = (await import('../specs/swarm.js')).GROUPS.find((g) => g.name === 'swarm')!.subcommands!.find((c) => c.name === 'update')!
    ctx.out.write(`\nUsage:  berth swarm update [OPTIONS]\n\n${spec.description}\n\nOptions:\n${flagHelp(spec.flags ?? [])}\n`)
    return
  }
  const client = ctx.client()
  const sw = await client.json<Json>('GET', '/swarm')
  const prevAutoLock = !!sw.Spec?.EncryptionConfig?.AutoLockManagers
  sw.Spec = mergeSwarmSpec(sw.Spec ?? {}, ctx, sw.ClusterInfo?.TLSInfo?.TrustRoot)
  const curAutoLock = !!sw.Spec.EncryptionConfig?.AutoLockManagers
  await swarmUpdate(ctx, sw)
  ctx.out.write('Swarm updated.\n')
  if (curAutoLock && !prevAutoLock) printUnlockCommand(ctx, await unlockKeyOf(ctx))
}

/** The key from the terminal (not echoed) or one line of stdin. */
async function readKey(ctx: CliContext, prompt: string): Promise<string> {
  if (process.stdin.isTTY) {
    ctx.out.write(prompt)
    process.stdin.setRawMode(true)
    try {
      const key = await new Promise<string>((resolve) => {
        let buf = ''
        const onData = (b: Buffer) => {
          for (const c of b.toString('utf8')) {
            if (c === '\r' || c === '\n') { process.stdin.off('data', onData); process.stdin.pause(); resolve(buf); return }
            if (c === '\u0003') { process.stdin.off('data', onData); process.stdin.pause(); resolve(buf); return }
            if (c === '\u007f') buf = buf.slice(0, -1)
            else buf += c
          }
        }
        process.stdin.on('data', onData)
        process.stdin.resume()
      })
      return key
    } finally {
      process.stdin.setRawMode(false)
      ctx.out.write('\n')
    }
  }
  const data = await readStream(process.stdin)
  const s = data.toString('utf8')
  const nl = s.indexOf('\n')
  return (nl < 0 ? s : s.slice(0, nl)).trim()
}

export async function unlock(ctx: CliContext): Promise<void> {
  const client = ctx.client()
  const info = await client.json<Json>('GET', '/info')
  switch (info.Swarm?.LocalNodeState) {
    case 'inactive': case undefined: case '':
      throw new CliExit(1, 'Error: This node is not part of a swarm')
    case 'locked':
      break
    default:
      throw new CliExit(1, 'Error: swarm is not locked')
  }
  const key = await readKey(ctx, 'Enter unlock key: ')
  await client.call('POST', '/swarm/unlock', { body: { UnlockKey: key } }).then((r) => r.resume())
}

export async function unlockKey(ctx: CliContext): Promise<void> {
  const client = ctx.client()
  if (ctx.flags.rotate) {
    const sw = await client.json<Json>('GET', '/swarm')
    if (!sw.Spec?.EncryptionConfig?.AutoLockManagers) throw new CliExit(1, 'cannot rotate because autolock is not turned on')
    await swarmUpdate(ctx, sw, { rotateManagerUnlockKey: true })
    if (!ctx.flags.quiet) ctx.out.write('Successfully rotated manager unlock key.\n')
  }
  const key = await unlockKeyOf(ctx)
  if (!key) throw new CliExit(1, 'no unlock key is set')
  if (ctx.flags.quiet) { ctx.out.write(`${key}\n`); return }
  printUnlockCommand(ctx, key)
}

function pemFile(ctx: CliContext, name: string): string | undefined {
  const p = ctx.flags[name] as string | undefined
  if (p === undefined) return undefined
  let text: string
  try { text = readFileSync(p, 'utf8') } catch (err) { throw flagError(ctx, `--${name}`, p, `open ${p}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`) }
  if (!/-----BEGIN [A-Z ]+-----/.test(text)) throw flagError(ctx, `--${name}`, p, 'file contents must be in PEM format')
  return text
}

function displayTrustRoot(ctx: CliContext, sw: Json): void {
  const root = sw.ClusterInfo?.TLSInfo?.TrustRoot as string | undefined
  if (!root) throw new CliExit(1, 'No CA information available')
  ctx.out.write(`${root.trim()}\n`)
}

export async function ca(ctx: CliContext): Promise<void> {
  const f = ctx.flags
  const client = ctx.client()
  const sw = await client.json<Json>('GET', '/swarm')
  if (!f.rotate) {
    for (const k of ['ca-cert', 'ca-key', 'cert-expiry', 'external-ca']) if (f[k] !== undefined) throw new CliExit(1, `\`--${k}\` flag requires the \`--rotate\` flag to update the CA`)
    displayTrustRoot(ctx, sw)
    return
  }
  const caCert = pemFile(ctx, 'ca-cert')
  const caKey = pemFile(ctx, 'ca-key')
  const ext = f['external-ca'] as string[] | undefined
  if (ext?.length && caCert === undefined) throw new CliExit(1, "rotating to an external CA requires the `--ca-cert` flag to specify the external CA's cert - to add an external CA with the current root CA certificate, use the `update` command instead")
  if (caCert !== undefined && !ext?.length && caKey === undefined) throw new CliExit(1, 'the --ca-cert flag requires that a --ca-key flag and/or --external-ca flag be provided as well')
  const spec = sw.Spec ?? {}
  const c: Json = (spec.CAConfig ??= {})
  const ce = durFlag(ctx, 'cert-expiry')
  if (ce !== undefined) c.NodeCertExpiry = ce
  const cas = externalCAs(ctx)
  if (cas) { for (const x of cas) if (!x.CACert && caCert) x.CACert = caCert; c.ExternalCAs = cas }
  if (caCert) c.SigningCACert = caCert; else delete c.SigningCACert
  if (caKey) c.SigningCAKey = caKey; else delete c.SigningCAKey
  if (!caCert && !caKey) c.ForceRotate = Number(c.ForceRotate ?? 0) + 1
  await swarmUpdate(ctx, { ...sw, Spec: spec })
  if (f.detach) return
  // RootRotationProgress: wait until the cluster's root rotation is over. Its lines carry
  // progress bars, which docker's non-terminal display leaves out; -q prints nothing at all.
  for (;;) {
    const cur = await client.json<Json>('GET', '/swarm')
    if (!cur.ClusterInfo?.RootRotationInProgress) {
      if (!f.quiet) displayTrustRoot(ctx, cur)
      return
    }
    await new Promise((r) => setTimeout(r, 200))
  }
}
