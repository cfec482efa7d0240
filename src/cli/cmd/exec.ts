import { ApiError } from '../../client/client.js'
import { ramInBytes } from '../../lib/units.js'
import { CliExit, type CliContext } from '../context.js'
import { eachArg } from '../format.js'
import { detachKeysOf, envFromFlags, hijackStream } from './containers.js'

/** `berth exec`: create an exec session, start it attached (or detached), exit with its code. */
export async function exec(ctx: CliContext): Promise<number> {
  const [container, ...cmd] = ctx.args as [string, ...string[]]
  const f = ctx.flags
  const tty = !!f.tty
  const interactive = !!f.interactive
  const detach = !!f.detach
  if (tty && interactive && !process.stdin.isTTY) throw new CliExit(1, 'the input device is not a TTY')
  const client = ctx.client()
  const consoleSize = tty && process.stdout.isTTY ? [process.stdout.rows ?? 24, process.stdout.columns ?? 80] : undefined
  const body = {
    User: (f.user as string | undefined) ?? '',
    Privileged: !!f.privileged,
    Tty: tty,
    AttachStdin: interactive && !detach,
    AttachStdout: !detach,
    AttachStderr: !detach,
    DetachKeys: (await detachKeysOf(ctx)) ?? '',
    Env: envFromFlags(f),
    WorkingDir: (f.workdir as string | undefined) ?? '',
    Cmd: cmd,
    ...(consoleSize ? { ConsoleSize: consoleSize } : {}),
  }
  const { Id: id } = await client.json<{ Id: string }>('POST', `/containers/${encodeURIComponent(container)}/exec`, { body })
  if (detach) {
    await client.call('POST', `/exec/${id}/start`, { body: { Detach: true, Tty: tty, ...(consoleSize ? { ConsoleSize: consoleSize } : {}) } })
    return 0
  }
  const stream = await hijackStream(client, `/exec/${id}/start`, { body: { Detach: false, Tty: tty, ...(consoleSize ? { ConsoleSize: consoleSize } : {}) } }, { stdin: interactive, tty })
  if (tty && process.stdout.isTTY) {
    const resize = () => client.call('POST', `/exec/${id}/resize`, { query: { h: process.stdout.rows ?? 24, w: process.stdout.columns ?? 80 } }).catch(() => {})
    process.stdout.on('resize', () => void resize())
  }
  if (await stream.done) return 0
  try {
    const info = await client.json<{ ExitCode: number | null }>('GET', `/exec/${id}/json`)
    return info.ExitCode ?? 0
  } catch (err) {
    if (err instanceof ApiError) throw new CliExit(1, `Error response from daemon: ${err.message}`)
    throw err
  }
}

const intFlag = (v: unknown): number | undefined => (v === undefined ? undefined : Number(v))

/** `berth update`: new limits and restart policy for containers, running or not. */
export async function update(ctx: CliContext): Promise<number> {
  const f = ctx.flags
  const client = ctx.client()
  const bytes = (name: string): number | undefined => {
    const v = f[name] as string | undefined
    if (v === undefined) return undefined
    if (name === 'memory-swap' && v === '-1') return -1
    try { return ramInBytes(v) } catch { throw new CliExit(125, `invalid argument "${v}" for "--${name}" flag: invalid size: '${v}'`) }
  }
  let nanoCpus: number | undefined
  if (f.cpus !== undefined) {
    const n = Number(f.cpus)
    if (!Number.isFinite(n)) throw new CliExit(125, `invalid argument "${String(f.cpus)}" for "--cpus" flag: failed to parse ${String(f.cpus)} as a rational number`)
    nanoCpus = Math.round(n * 1e9)
  }
  let restartPolicy: { Name: string; MaximumRetryCount: number } | undefined
  if (f.restart !== undefined) {
    const [name = '', count] = String(f.restart).split(':')
    restartPolicy = { Name: name, MaximumRetryCount: count === undefined ? 0 : Number(count) }
  }
  const body: Record<string, unknown> = {}
  const set = (k: string, v: unknown) => { if (v !== undefined) body[k] = v }
  set('BlkioWeight', intFlag(f['blkio-weight']))
  set('CpuPeriod', intFlag(f['cpu-period']))
  set('CpuQuota', intFlag(f['cpu-quota']))
  set('CpuRealtimePeriod', intFlag(f['cpu-rt-period']))
  set('CpuRealtimeRuntime', intFlag(f['cpu-rt-runtime']))
  set('CpuShares', intFlag(f['cpu-shares']))
  set('NanoCpus', nanoCpus)
  set('CpusetCpus', f['cpuset-cpus'])
  set('CpusetMems', f['cpuset-mems'])
  set('Memory', bytes('memory'))
  set('MemoryReservation', bytes('memory-reservation'))
  set('MemorySwap', bytes('memory-swap'))
  set('PidsLimit', intFlag(f['pids-limit']))
  set('RestartPolicy', restartPolicy)
  if (Object.keys(body).length === 0) throw new CliExit(1, 'you must provide one or more flags when using this command')
  return eachArg(ctx, async (name) => {
    const r = await client.json<{ Warnings: string[] | null }>('POST', `/containers/${encodeURIComponent(name)}/update`, { body })
    for (const w of r.Warnings ?? []) ctx.err.write(`${w}\n`)
  })
}
