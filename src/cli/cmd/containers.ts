import { readFileSync } from 'node:fs'
import { ApiError, demuxer, type EngineClient, type RequestOpts } from '../../client/client.js'
import { ramInBytes } from '../../lib/units.js'
import { realPlatform } from '../../platform/platform.js'
import { restoreTerminal as restoreTty, setRawTerminal as setRawTty } from '../../platform/tty.js'
import { CliExit, type CliContext } from '../context.js'
import { createdSince, eachArg, ellipsis, filtersParam, humanSizePrec, renderTable, truncId } from '../format.js'
import { networkFields } from '../network-flags.js'
import { displayWidth } from '../tabwriter.js'
import { familiarString, parseNormalizedNamed, tagNameOnly } from '../../distribution/reference.js'
import { pullForRun } from './registry.js'

type Wire = Record<string, unknown>

const list = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : [])

/** Parse `docker run`/`create` flags into the Engine API's create body. */
/** `--env-file` then `-e` values, as docker reads them: `NAME` alone takes this process's value. */
export function envFromFlags(f: CliContext['flags']): string[] {
  const env: string[] = []
  for (const file of list(f['env-file'])) {
    let text: string
    try { text = readFileSync(file, 'utf8') } catch { throw new CliExit(125, `open ${file}: no such file or directory`) }
    for (const line of text.split('\n')) {
      const l = line.trim()
      if (!l || l.startsWith('#')) continue
      env.push(l.includes('=') ? l : process.env[l] !== undefined ? `${l}=${process.env[l]}` : l)
    }
  }
  for (const e of list(f.env)) env.push(e.includes('=') ? e : process.env[e] !== undefined ? `${e}=${process.env[e]}` : e)
  return env
}

export function createBody(ctx: CliContext, image: string, cmd: string[]): Wire {
  const f = ctx.flags
  const env = envFromFlags(f)
  const labels: Record<string, string> = {}
  for (const l of list(f.label)) { const i = l.indexOf('='); labels[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1) }
  const attach = list(f.attach).map((a) => a.toLowerCase())
  for (const a of attach) if (!['stdin', 'stdout', 'stderr'].includes(a)) throw new CliExit(125, `invalid argument "${a}" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR`)
  const detached = !!f.detach
  const interactive = !!f.interactive
  const restart = parseRestart((f.restart as string | undefined) ?? '')
  const ulimits = list(f.ulimit).map((u) => {
    const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(u)
    if (!m) throw new CliExit(125, `invalid argument "${u}" for "--ulimit" flag: invalid ulimit argument: ${u}`)
    return { Name: m[1], Soft: Number(m[2]), Hard: Number(m[3] ?? m[2]) }
  })
  const bytes = (flag: string): number => {
    const v = f[flag] as string | undefined
    if (v === undefined || v === '') return 0
    if (v === '-1' && flag === 'memory-swap') return -1
    try { return ramInBytes(v) } catch (err) { throw new CliExit(125, `invalid argument "${v}" for "--${flag}" flag: ${(err as Error).message}`) }
  }
  let nanoCpus = 0
  if (f.cpus !== undefined) {
    const n = Number(f.cpus)
    if (!(n >= 0)) throw new CliExit(125, `invalid argument "${f.cpus}" for "--cpus" flag: failed to parse ${f.cpus} as a rational number`)
    nanoCpus = Math.round(n * 1e9)
  }
  const devices = list(f.device).map((d) => {
    const [host = '', ctr, perms] = d.split(':')
    return { PathOnHost: host, PathInContainer: ctr && !/^[rwm]+$/.test(ctr) ? ctr : host, CgroupPermissions: perms ?? (ctr && /^[rwm]+$/.test(ctr) ? ctr : 'rwm') }
  })
  const sysctls: Record<string, string> = {}
  for (const s of list(f.sysctl)) { const i = s.indexOf('='); if (i < 0) throw new CliExit(125, `invalid argument "${s}" for "--sysctl" flag: sysctl '${s}' is not allowed`); sysctls[s.slice(0, i)] = s.slice(i + 1) }
  const logOpts: Record<string, string> = {}
  for (const o of list(f['log-opt'])) { const i = o.indexOf('='); if (i < 0) throw new CliExit(125, `invalid argument "${o}" for "--log-opt" flag: invalid key/value pair format in logging options`); logOpts[o.slice(0, i)] = o.slice(i + 1) }
  const net = networkFields(f)
  const exposed = net.exposedPorts
  const health = healthConfig(ctx)
  const securityOpt = list(f['security-opt']).map((o) => {
    const m = /^seccomp[=:](.+)$/.exec(o)
    if (!m || m[1] === 'unconfined') return o
    try { return `seccomp=${JSON.stringify(JSON.parse(readFileSync(m[1]!, 'utf8')))}` } catch (err) { throw new CliExit(125, `opening seccomp profile (${m[1]}) failed: ${(err as Error).message}`) }
  })
  const tmpfs: Record<string, string> = {}
  for (const t of list(f.tmpfs)) { const i = t.indexOf(':'); tmpfs[i < 0 ? t : t.slice(0, i)] = i < 0 ? '' : t.slice(i + 1) }
  return {
    Hostname: (f.hostname as string) ?? '',
    Domainname: (f.domainname as string) ?? '',
    User: (f.user as string) ?? '',
    AttachStdin: !detached && (attach.length ? attach.includes('stdin') : interactive),
    AttachStdout: !detached && (attach.length ? attach.includes('stdout') : true),
    AttachStderr: !detached && (attach.length ? attach.includes('stderr') : true),
    Tty: !!f.tty,
    OpenStdin: interactive,
    StdinOnce: interactive && !detached,
    Env: env,
    Cmd: cmd.length ? cmd : null,
    Image: image,
    WorkingDir: (f.workdir as string) ?? '',
    Entrypoint: f.entrypoint !== undefined ? ((f.entrypoint as string) === '' ? [''] : [f.entrypoint as string]) : null,
    Labels: labels,
    ...(Object.keys(exposed).length ? { ExposedPorts: exposed } : {}),
    ...(f['stop-signal'] ? { StopSignal: f['stop-signal'] } : {}),
    ...(f['stop-timeout'] !== undefined ? { StopTimeout: f['stop-timeout'] } : {}),
    ...(health ? { Healthcheck: health } : {}),
    ...(net.networkingConfig ? { NetworkingConfig: net.networkingConfig } : {}),
    HostConfig: {
      ...net.hostConfig,
      AutoRemove: !!f.rm,
      RestartPolicy: restart,
      Privileged: !!f.privileged,
      ReadonlyRootfs: !!f['read-only'],
      CapAdd: list(f['cap-add']),
      CapDrop: list(f['cap-drop']),
      SecurityOpt: securityOpt,
      Init: f.init ? true : null,
      Memory: bytes('memory'),
      MemorySwap: bytes('memory-swap'),
      MemoryReservation: bytes('memory-reservation'),
      NanoCpus: nanoCpus,
      CpuShares: (f['cpu-shares'] as number) ?? 0,
      CpusetCpus: (f['cpuset-cpus'] as string) ?? '',
      PidsLimit: f['pids-limit'] !== undefined ? (f['pids-limit'] as number) : null,
      OomKillDisable: !!f['oom-kill-disable'],
      ShmSize: bytes('shm-size'),
      Ulimits: ulimits,
      Sysctls: sysctls,
      Devices: devices,
      LogConfig: { Type: (f['log-driver'] as string) ?? '', Config: logOpts },
      ExtraHosts: list(f['add-host']),
      Dns: list(f.dns),
      DnsSearch: list(f['dns-search']),
      DnsOptions: list(f['dns-option']),
      Runtime: (f.runtime as string) ?? '',
      ...(f.pid ? { PidMode: f.pid as string } : {}),
      ...(f.uts ? { UTSMode: f.uts as string } : {}),
      ...(f.cgroupns ? { CgroupnsMode: f.cgroupns as string } : {}),
      ...(f.isolation ? { Isolation: f.isolation as string } : {}),
      ...(list(f['group-add']).length ? { GroupAdd: list(f['group-add']) } : {}),
      ...(list(f['device-cgroup-rule']).length ? { DeviceCgroupRules: list(f['device-cgroup-rule']) } : {}),
      ...(f['memory-swappiness'] !== undefined ? { MemorySwappiness: f['memory-swappiness'] as number } : {}),
      ...(f['cpu-rt-period'] !== undefined ? { CpuRealtimePeriod: f['cpu-rt-period'] as number } : {}),
      ...(f['cpu-rt-runtime'] !== undefined ? { CpuRealtimeRuntime: f['cpu-rt-runtime'] as number } : {}),
      Binds: list(f.volume),
      Mounts: list(f.mount).map((m) => ({ raw: m })),
      Tmpfs: tmpfs,
      VolumesFrom: list(f['volumes-from']),
    },
  }
}

/** `--restart name[:count]`, split as the docker CLI does; the daemon judges the policy (one check, in create). */
function parseRestart(s: string): { Name: string; MaximumRetryCount: number } {
  if (s === '') return { Name: '', MaximumRetryCount: 0 }
  const colon = s.indexOf(':')
  const name = colon === -1 ? s : s.slice(0, colon)
  const count = colon === -1 ? '' : s.slice(colon + 1)
  if (colon !== -1 && name === '') throw new CliExit(125, 'invalid restart policy format: no policy provided before colon')
  if (count !== '' && !/^[+-]?\d+$/.test(count)) throw new CliExit(125, 'invalid restart policy format: maximum retry count must be an integer')
  return { Name: name, MaximumRetryCount: count === '' ? 0 : Number(count) }
}

function healthConfig(ctx: CliContext): Wire | undefined {
  const f = ctx.flags
  const dur = (flag: string): number => {
    const v = f[flag] as string | undefined
    if (!v) return 0
    let total = 0
    const re = /(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)/g
    let m: RegExpExecArray | null
    let matched = ''
    while ((m = re.exec(v))) { total += parseFloat(m[1]!) * { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 }[m[2]!]!; matched += m[0] }
    if (matched !== v) throw new CliExit(125, `invalid argument "${v}" for "--${flag}" flag: time: invalid duration "${v}"`)
    return Math.round(total)
  }
  if (f['no-healthcheck']) return { Test: ['NONE'] }
  const cmd = f['health-cmd'] as string | undefined
  const any = cmd || f['health-interval'] || f['health-timeout'] || f['health-retries'] !== undefined || f['health-start-period'] || f['health-start-interval']
  if (!any) return undefined
  return {
    ...(cmd ? { Test: ['CMD-SHELL', cmd] } : {}),
    Interval: dur('health-interval'), Timeout: dur('health-timeout'), StartPeriod: dur('health-start-period'), StartInterval: dur('health-start-interval'),
    Retries: (f['health-retries'] as number) ?? 0,
  }
}

/** Exit status for a failed run/start: 127 not found, 126 cannot invoke, else 125 (docker's rules). */
function runFailure(ctx: CliContext, err: unknown): never {
  const msg = err instanceof ApiError ? `Error response from daemon: ${err.message}` : (err as Error).message
  const status = /executable file not found|no such file or directory|system cannot find the file specified/.test(msg) ? 127 : /permission denied/.test(msg) ? 126 : 125
  throw new CliExit(status, `berth: ${msg}\n\nRun '${ctx.commandPath} --help' for more information`)
}

/**
 * As docker 28's `create`: an error from the daemon (or the pull) is printed as it comes,
 * `Error response from daemon: ...`, with exit status 1 (no `docker:` prefix, no help hint,
 * which are `run`'s; flag errors stay 125).
 */
function createFailure(err: unknown): never {
  if (err instanceof CliExit) throw err
  throw new CliExit(1, err instanceof ApiError ? `Error response from daemon: ${err.message}` : (err as Error).message)
}

async function createContainer(ctx: CliContext, image: string, cmd: string[], fail: (err: unknown) => never = (e) => runFailure(ctx, e)): Promise<string> {
  const client = ctx.client()
  const pull = (ctx.flags.pull as string | undefined) ?? 'missing'
  if (!['always', 'missing', 'never'].includes(pull)) throw new CliExit(125, `invalid pull option: '${pull}': must be one of "always", "missing" or "never"`)
  const body = createBody(ctx, image, cmd)
  const query = { ...(ctx.flags.name ? { name: ctx.flags.name as string } : {}), ...(ctx.flags.platform ? { platform: ctx.flags.platform as string } : {}) }
  const pullOpts = { platform: ctx.flags.platform as string | undefined, quiet: !!ctx.flags.quiet }
  if (pull === 'always') await pullForRun(ctx, image, pullOpts).catch(fail)
  const createIt = async () => {
    const out = await client.json<{ Id: string; Warnings?: string[] }>('POST', '/containers/create', { query, body })
    for (const w of out.Warnings ?? []) ctx.err.write(`WARNING: ${w}\n`)
    return out.Id
  }
  try {
    return await createIt()
  } catch (err) {
    if (err instanceof ApiError && err.status === 404 && /No such image/.test(err.message) && pull === 'missing') {
      // As docker: say so, pull, and create again.
      let shown = image
      try { shown = familiarString(tagNameOnly(parseNormalizedNamed(image))) } catch { /* the daemon names the problem */ }
      ctx.err.write(`Unable to find image '${shown}' locally\n`)
      await pullForRun(ctx, image, pullOpts).catch(fail)
      return createIt().catch(fail)
    }
    return fail(err)
  }
}

export async function create(ctx: CliContext): Promise<void> {
  const [image, ...cmd] = ctx.args as [string, ...string[]]
  ctx.out.write(`${await createContainer(ctx, image, cmd, createFailure)}\n`)
}

export async function run(ctx: CliContext): Promise<number> {
  const [image, ...cmd] = ctx.args as [string, ...string[]]
  const f = ctx.flags
  if (f.tty && !process.stdin.isTTY && f.interactive) throw new CliExit(1, 'the input device is not a TTY')
  const client = ctx.client()
  const id = await createContainer(ctx, image, cmd)
  if (f.detach) {
    await client.call('POST', `/containers/${id}/start`).catch((e) => runFailure(ctx, e))
    ctx.out.write(`${id}\n`)
    return 0
  }
  const body = createBody(ctx, image, cmd)
  const stream = await attachStream(client, id, { stdin: !!body.AttachStdin, stdout: !!body.AttachStdout, stderr: !!body.AttachStderr, tty: !!f.tty, detachKeys: await detachKeysOf(ctx) })
  const waiting = client.json<{ StatusCode: number; Error?: { Message: string } }>('POST', `/containers/${id}/wait`, { query: { condition: f.rm ? 'removed' : 'next-exit' } })
  waiting.catch(() => {})
  try {
    await client.call('POST', `/containers/${id}/start`)
  } catch (err) {
    stream.close()
    return runFailure(ctx, err)
  }
  if (f.tty && process.stdout.isTTY) void resizeTty(client, id)
  const sigProxy = f['sig-proxy'] !== false && !f.tty
  const proxy = (sig: NodeJS.Signals) => void client.call('POST', `/containers/${id}/kill`, { query: { signal: sig } }).catch(() => {})
  if (sigProxy) for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as NodeJS.Signals[]) process.on(s, proxy)
  const detached = await stream.done
  if (detached) return 0
  const res = await waiting
  if (res.Error?.Message) ctx.err.write(`${res.Error.Message}\n`)
  return res.StatusCode
}

async function resizeTty(client: EngineClient, id: string): Promise<void> {
  const send = () => client.call('POST', `/containers/${id}/resize`, { query: { h: process.stdout.rows ?? 24, w: process.stdout.columns ?? 80 } }).catch(() => {})
  await send()
  process.stdout.on('resize', () => void send())
}

/** `--detach-keys`, else the config file's `detachKeys` (docker's order). */
export async function detachKeysOf(ctx: CliContext): Promise<string | undefined> {
  const flag = ctx.flags['detach-keys'] as string | undefined
  if (flag !== undefined) return flag
  const { readConfigFile } = await import('../config-file.js')
  return (await readConfigFile(ctx.configDir)).detachKeys || undefined
}

export interface AttachHandle { done: Promise<boolean>; close(): void }

/**
 * Hijack an attach connection: demultiplex stdout/stderr (or raw TTY bytes) to this process's
 * streams, send stdin, put the terminal in raw mode for -t. `done` resolves when the stream
 * ends (true when the user detached with the detach keys).
 */
async function attachStream(client: EngineClient, id: string, o: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean; detachKeys?: string | undefined }): Promise<AttachHandle> {
  return hijackStream(client, `/containers/${id}/attach`, {
    query: { stream: true, stdin: o.stdin, stdout: o.stdout, stderr: o.stderr, ...(o.detachKeys ? { detachKeys: o.detachKeys } : {}) },
  }, o)
}

/** The same for any hijacked endpoint (attach, exec start). */
export async function hijackStream(client: EngineClient, path: string, req: RequestOpts, o: { stdin: boolean; tty: boolean }): Promise<AttachHandle> {
  const { socket, head } = await client.hijack('POST', path, req)
  // Raw mode as docker sets it (cfmakeraw: no output processing either; libuv's raw mode keeps
  // ONLCR, which would turn the container's \r\n into \r\r\n).
  let saved: string | undefined
  if (o.tty && o.stdin && process.stdin.isTTY) saved = setRawTerminal()
  const restore = () => { if (saved !== undefined) { restoreTerminal(saved); saved = undefined } }
  const onData = o.tty ? (chunk: Buffer) => { process.stdout.write(chunk) } : demuxer((stream, payload) => { (stream === 2 ? process.stderr : process.stdout).write(payload) })
  if (head.length) onData(head)
  socket.on('data', onData)
  if (o.stdin) {
    process.stdin.on('data', (b: Buffer) => socket.write(b))
    process.stdin.on('end', () => socket.end())
  }
  const done = new Promise<boolean>((resolve) => {
    // The daemon ends the stream when the container's output ends; our stdin may still be open.
    const finish = () => { restore(); process.stdin.pause(); socket.destroy(); resolve(false) }
    socket.on('end', finish)
    socket.on('close', finish)
    socket.on('error', () => {})
  })
  return { done, close: () => { restore(); socket.destroy() } }
}

function setRawTerminal(): string | undefined {
  const saved = setRawTty(realPlatform().spawner)
  if (saved !== undefined) process.stdin.resume()
  return saved
}

function restoreTerminal(saved: string): void {
  restoreTty(realPlatform().spawner, saved)
}

export async function start(ctx: CliContext): Promise<number> {
  const client = ctx.client()
  if (ctx.flags.attach || ctx.flags.interactive) {
    if (ctx.args.length > 1) throw new CliExit(1, 'you cannot start and attach multiple containers at once')
    const id = ctx.args[0]!
    const info = await client.json<{ Id: string; Config: { Tty: boolean } }>('GET', `/containers/${encodeURIComponent(id)}/json`)
    const stream = await attachStream(client, info.Id, { stdin: !!ctx.flags.interactive, stdout: true, stderr: true, tty: info.Config.Tty })
    const waiting = client.json<{ StatusCode: number }>('POST', `/containers/${info.Id}/wait`, { query: { condition: 'next-exit' } })
    await client.call('POST', `/containers/${info.Id}/start`)
    if (await stream.done) return 0
    return (await waiting).StatusCode
  }
  return eachArg(ctx, async (id) => { await client.call('POST', `/containers/${encodeURIComponent(id)}/start`) }, (id) => `${id}\n`)
}


export async function stop(ctx: CliContext): Promise<number> {
  const client = ctx.client()
  const query = { ...(ctx.flags.time !== undefined ? { t: ctx.flags.time as number } : {}), ...(ctx.flags.signal ? { signal: ctx.flags.signal as string } : {}) }
  return eachArg(ctx, async (id) => { await client.call('POST', `/containers/${encodeURIComponent(id)}/stop`, { query }) }, (id) => `${id}\n`)
}

export async function restart(ctx: CliContext): Promise<number> {
  const client = ctx.client()
  const query = { ...(ctx.flags.time !== undefined ? { t: ctx.flags.time as number } : {}), ...(ctx.flags.signal ? { signal: ctx.flags.signal as string } : {}) }
  return eachArg(ctx, async (id) => { await client.call('POST', `/containers/${encodeURIComponent(id)}/restart`, { query }) }, (id) => `${id}\n`)
}

export async function kill(ctx: CliContext): Promise<number> {
  const client = ctx.client()
  return eachArg(ctx, async (id) => { await client.call('POST', `/containers/${encodeURIComponent(id)}/kill`, { query: { signal: (ctx.flags.signal as string) || 'KILL' } }) }, (id) => `${id}\n`)
}

export async function remove(ctx: CliContext): Promise<number> {
  const client = ctx.client()
  return eachArg(ctx, async (id) => {
    await client.call('DELETE', `/containers/${encodeURIComponent(id)}`, { query: { force: !!ctx.flags.force, v: !!ctx.flags.volumes, link: !!ctx.flags.link } })
  }, (id) => `${id}\n`)
}

export async function pause(ctx: CliContext): Promise<number> {
  const client = ctx.client()
  return eachArg(ctx, async (id) => { await client.call('POST', `/containers/${encodeURIComponent(id)}/pause`) }, (id) => `${id}\n`)
}

export async function unpause(ctx: CliContext): Promise<number> {
  const client = ctx.client()
  return eachArg(ctx, async (id) => { await client.call('POST', `/containers/${encodeURIComponent(id)}/unpause`) }, (id) => `${id}\n`)
}

export async function wait(ctx: CliContext): Promise<number> {
  const client = ctx.client()
  return eachArg(ctx, async (id) => {
    const r = await client.json<{ StatusCode: number }>('POST', `/containers/${encodeURIComponent(id)}/wait`)
    ctx.out.write(`${r.StatusCode}\n`)
  }, () => '')
}

export async function rename(ctx: CliContext): Promise<void> {
  const [from, to] = ctx.args as [string, string]
  if (!to.trim() || !from.trim()) throw new CliExit(1, 'Error: Neither old nor new names may be empty')
  await ctx.client().call('POST', `/containers/${encodeURIComponent(from)}/rename`, { query: { name: to } })
}

export async function attach(ctx: CliContext): Promise<number> {
  const client = ctx.client()
  const info = await client.json<{ Id: string; Config: { Tty: boolean; OpenStdin: boolean }; State: { Running: boolean; Paused: boolean } }>('GET', `/containers/${encodeURIComponent(ctx.args[0]!)}/json`)
  if (!info.State.Running) throw new CliExit(1, 'You cannot attach to a stopped container, start it first')
  if (info.State.Paused) throw new CliExit(1, 'You cannot attach to a paused container, unpause it first')
  const stream = await attachStream(client, info.Id, { stdin: !ctx.flags['no-stdin'] && info.Config.OpenStdin, stdout: true, stderr: true, tty: info.Config.Tty, detachKeys: await detachKeysOf(ctx) })
  const waiting = client.json<{ StatusCode: number }>('POST', `/containers/${info.Id}/wait`)
  if (info.Config.Tty && process.stdout.isTTY) void resizeTty(client, info.Id)
  if (await stream.done) return 0
  return (await waiting).StatusCode
}

export async function logs(ctx: CliContext): Promise<void> {
  const f = ctx.flags
  const { parseTimestampArg } = await import('../timestamps.js')
  const client = ctx.client()
  const id = ctx.args[0]!
  const info = await client.json<{ Config: { Tty: boolean } }>('GET', `/containers/${encodeURIComponent(id)}/json`)
  const now = Date.now()
  const res = await client.call('GET', `/containers/${encodeURIComponent(id)}/logs`, {
    query: {
      stdout: true, stderr: true, follow: !!f.follow, timestamps: !!f.timestamps, details: !!f.details,
      ...(f.since ? { since: parseTimestampArg(f.since as string, now) } : {}),
      ...(f.until ? { until: parseTimestampArg(f.until as string, now) } : {}),
      tail: (f.tail as string) ?? 'all',
    },
  })
  const write = info.Config.Tty ? (chunk: Buffer) => { ctx.out.write(chunk) } : demuxer((stream, payload) => { (stream === 2 ? ctx.err : ctx.out).write(payload) })
  for await (const chunk of res) write(chunk as Buffer)
}

interface WireSummary { Id: string; Names: string[]; Image: string; ImageID: string; Command: string; Created: number; Ports: unknown[]; Labels: Record<string, string> | null; State: string; Status: string; SizeRw?: number; SizeRootFs?: number; Mounts?: Array<{ Name?: string; Source?: string; Driver?: string }>; HostConfig?: { NetworkMode?: string } }

interface WirePort { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }

/** docker ps's PORTS: `0.0.0.0:8080->80/tcp` for published ports, `80/tcp` for exposed ones, consecutive ports as ranges. */
export function formatPorts(ports: WirePort[] | undefined): string {
  const groups = new Map<string, WirePort[]>()
  for (const p of [...(ports ?? [])].sort((a, b) => a.PrivatePort - b.PrivatePort || (a.PublicPort ?? 0) - (b.PublicPort ?? 0))) {
    const key = p.PublicPort ? `${p.IP ?? ''}/${p.Type}/pub` : `/${p.Type}/exp`
    const list = groups.get(key) ?? []
    list.push(p)
    groups.set(key, list)
  }
  const out: string[] = []
  for (const list of groups.values()) {
    let start = 0
    for (let i = 1; i <= list.length; i++) {
      const prev = list[i - 1]!
      const cur = list[i]
      const consecutive = cur && cur.PrivatePort === prev.PrivatePort + 1 && (!cur.PublicPort || cur.PublicPort === (prev.PublicPort ?? 0) + 1)
      if (consecutive) continue
      const first = list[start]!
      const priv = first.PrivatePort === prev.PrivatePort ? `${first.PrivatePort}` : `${first.PrivatePort}-${prev.PrivatePort}`
      if (first.PublicPort) {
        const pub = first.PublicPort === prev.PublicPort ? `${first.PublicPort}` : `${first.PublicPort}-${prev.PublicPort}`
        const ip = first.IP?.includes(':') ? `[${first.IP}]` : first.IP ?? ''
        out.push(`${ip}:${pub}->${priv}/${first.Type}`)
      } else out.push(`${priv}/${first.Type}`)
      start = i
    }
  }
  return out.join(', ')
}

/**
 * Lines of cells as docker's table writer lays them out (tabwriter: minwidth 10, padding 3,
 * spaces): every column but the last as wide as its widest cell plus 3, at least 10. Undefined
 * when a cell holds a character the tabwriter would take for a cell or line break (the generic
 * path handles those).
 */
export function plainTable(lines: string[][]): string | undefined {
  const widths: number[] = []
  const cellWidths: number[][] = []
  for (const line of lines) {
    const ws: number[] = []
    for (let j = 0; j < line.length; j++) {
      const cell = line[j]!
      if (/[\t\n\v\f]/.test(cell)) return undefined
      const w = displayWidth(cell)
      ws.push(w)
      if (j < line.length - 1) widths[j] = Math.max(widths[j] ?? 10, w + 3)
    }
    cellWidths.push(ws)
  }
  let out = ''
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    for (let j = 0; j < line.length - 1; j++) out += line[j]! + ' '.repeat(widths[j]! - cellWidths[i]![j]!)
    out += `${line[line.length - 1] ?? ''}\n`
  }
  return out
}

export async function ps(ctx: CliContext): Promise<void> {
  const f = ctx.flags
  const filters = filtersParam(f.filter as string[] | undefined)
  const last = f.latest ? 1 : (f.last as number | undefined) ?? -1
  const rows = await ctx.client().json<WireSummary[]>('GET', '/containers/json', {
    query: { all: !!f.all || last > 0, ...(last > 0 ? { limit: last } : {}), size: !!f.size, ...(Object.keys(filters).length ? { filters: JSON.stringify(filters) } : {}) },
  })
  const trunc = !f['no-trunc']
  const { readConfigFile } = await import('../config-file.js')
  const format = (f.format as string | undefined) ?? (f.quiet ? undefined : (await readConfigFile(ctx.configDir)).psFormat)
  const size = (c: WireSummary) => ((c.SizeRootFs ?? 0) > 0 ? `${humanSizePrec(c.SizeRw ?? 0, 3)} (virtual ${humanSizePrec(c.SizeRootFs!, 3)})` : humanSizePrec(c.SizeRw ?? 0, 3))
  const names = (c: WireSummary) => c.Names.map((n) => n.replace(/^\//, '')).filter((n) => !trunc || !n.includes('/')).join(',')
  const command = (c: WireSummary) => (trunc ? `"${ellipsis(c.Command, 20)}"` : `"${c.Command}"`)
  const image = (c: WireSummary) => (trunc && /^sha256:/.test(c.Image) ? truncId(c.Image) : c.Image)
  if (format === undefined && !f.quiet) {
    // The default table, without the template engine: the same cells, laid out as docker's
    // tabwriter does (measured: most of `ps -a`'s time with 1000 containers went to running
    // the generic template and tabwriter once per cell).
    const head = ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES', ...(f.size ? ['SIZE'] : [])]
    const text = plainTable([head, ...rows.map((c) => [trunc ? truncId(c.Id) : c.Id, image(c), command(c), createdSince(c.Created), c.Status, formatPorts(c.Ports as WirePort[]), names(c), ...(f.size ? [size(c)] : [])])])
    if (text !== undefined) { ctx.out.write(text); return }
  }
  await renderTable(ctx, {
    format,
    quiet: !!f.quiet,
    quietFormat: '{{.ID}}',
    defaultFormat: `table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}${f.size ? '\t{{.Size}}' : ''}`,
    headers: { ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED', Status: 'STATUS', Ports: 'PORTS', Names: 'NAMES', Size: 'SIZE', Labels: 'LABELS', Mounts: 'MOUNTS', Networks: 'NETWORKS', State: 'STATE', LocalVolumes: 'LOCAL VOLUMES' },
    rows: rows.map((c) => ({
      ID: trunc ? truncId(c.Id) : c.Id,
      Image: image(c),
      Command: command(c),
      CreatedAt: new Date(c.Created * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000 UTC'),
      RunningFor: createdSince(c.Created),
      Status: c.Status,
      State: c.State,
      Ports: formatPorts(c.Ports as WirePort[]),
      Names: names(c),
      // docker's: the writable layer, and with the image's layers "(virtual ...)".
      Size: size(c),
      Labels: Object.entries(c.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(','),
      Mounts: (c.Mounts ?? []).map((m) => (m.Name ? (trunc ? ellipsis(m.Name, 15) : m.Name) : m.Source ?? '')).join(','),
      Networks: c.HostConfig?.NetworkMode ?? '',
      LocalVolumes: String((c.Mounts ?? []).filter((m) => m.Driver === 'local').length),
      Label: (k: string) => c.Labels?.[k] ?? '',
    })),
  })
}

export async function pruneContainers(ctx: CliContext): Promise<void> {
  const filters = filtersParam(ctx.flags.filter as string[] | undefined)
  if (!ctx.flags.force) {
    const { confirm } = await import('../format.js')
    if (!(await confirm(ctx, 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue?'))) return
  }
  const out = await ctx.client().json<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/containers/prune', { query: { filters: JSON.stringify(filters) } })
  const { humanSize } = await import('../format.js')
  if (out.ContainersDeleted?.length) ctx.out.write(`Deleted Containers:\n${out.ContainersDeleted.join('\n')}\n\n`)
  ctx.out.write(`Total reclaimed space: ${humanSize(out.SpaceReclaimed)}\n`)
}

export async function inspectContainers(ctx: CliContext): Promise<number> {
  const client = ctx.client()
  const found: unknown[] = []
  const errors: string[] = []
  for (const ref of ctx.args) {
    try {
      found.push(await client.json('GET', `/containers/${encodeURIComponent(ref)}/json`, { query: { size: !!ctx.flags.size } }))
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) { errors.push(`Error response from daemon: ${err.message}`); continue }
      throw err
    }
  }
  const { printInspect } = await import('../format.js')
  await printInspect(ctx, found, ctx.flags.format as string | undefined)
  if (errors.length) throw new CliExit(1, errors.join('\n'))
  return 0
}


export async function topCmd(ctx: CliContext): Promise<void> {
  const [id, ...psArgs] = ctx.args as [string, ...string[]]
  const out = await ctx.client().json<{ Titles: string[]; Processes: string[][] | null }>('GET', `/containers/${encodeURIComponent(id)}/top`, {
    query: psArgs.length ? { ps_args: psArgs.join(' ') } : {},
  })
  // docker prints top through a tabwriter with minwidth 20, padding 3.
  const { TabWriter } = await import('../tabwriter.js')
  const tw = new TabWriter(20, 1, 3, ' ', 0)
  tw.write(`${out.Titles.join('\t')}\n`)
  for (const p of out.Processes ?? []) tw.write(`${p.join('\t')}\n`)
  ctx.out.write(tw.flush())
}
