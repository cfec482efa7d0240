/**
 * Helpers shared by the container integration suites: the docker CLI under a hard timeout, and
 * a look at the host for what a daemon's containers left behind (mounts, conmon processes,
 * runtime state, cgroups), with a last-resort cleanup of those leftovers.
 */
import { after, before, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { constants as osConstants, tmpdir } from 'node:os'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { api, fixture, runCmd, startDaemon, type DaemonHandle, type RunResult } from './harness.js'
import { isNotFoundErrno } from '../../src/lib/errors.js'

/**
 * `docker args...` killed with SIGKILL after `seconds`: `docker run -i` forwards SIGTERM to the
 * container instead of exiting, so only SIGKILL bounds it. A killed command exits 137.
 */
export function dockerT(h: DaemonHandle, seconds: number, ...args: string[]): Promise<RunResult> {
  return runKilled(h, seconds, ['docker', ...args])
}

/** The same with input on stdin. */
export function dockerIn(h: DaemonHandle, seconds: number, input: Buffer | string, ...args: string[]): Promise<RunResult> {
  return runKilled(h, seconds, ['docker', ...args], { input })
}

/**
 * `argv` under `timeout -s KILL`, with DOCKER_HOST set. timeout signals its whole process group,
 * itself included, so a command that ran out of time comes back as exit code 137 with the
 * output it wrote until then.
 */
export function runKilled(h: DaemonHandle, seconds: number, argv: string[], { input, env = {} }: { input?: Buffer | string; env?: Record<string, string> } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('timeout', ['-s', 'KILL', String(seconds), ...argv], {
      env: { ...process.env, DOCKER_HOST: h.host, DOCKER_CONFIG: process.env.DOCKER_CONFIG ?? join(tmpdir(), 'berth-it-docker-config'), ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.stdin.on('error', () => {}) // the command may exit before reading all of it
    child.stdin.end(input)
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 + (osConstants.signals[signal] ?? 0) : -1), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }))
  })
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Whether this host has the cgroup v1 hierarchy the limits tests read. */
export const cgroupV1 = existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes') || existsSync('/sys/fs/cgroup/memory/cgroup.procs')

/** A container's cgroup directory for one controller (cgroup v1: `<controller>/berth/<id>`). */
export function cgroupDir(controller: string, id: string): string {
  return join('/sys/fs/cgroup', controller, 'berth', id)
}

async function readdirOrEmpty(p: string): Promise<string[]> {
  try {
    return await readdir(p)
  } catch (err) {
    if (isNotFoundErrno(err) || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return []
    throw err
  }
}

/** PIDs of conmon processes whose command line names this daemon's exec root. */
export async function conmonsOf(h: DaemonHandle): Promise<number[]> {
  const out: number[] = []
  for (const p of await readdirOrEmpty('/proc')) {
    if (!/^\d+$/.test(p)) continue
    let cmd: string
    try {
      cmd = await readFile(`/proc/${p}/cmdline`, 'utf8')
    } catch {
      continue // gone meanwhile
    }
    const argv = cmd.split('\0')
    if (/(^|\/)conmon$/.test(argv[0] ?? '') && argv.some((a) => a.startsWith(h.execRoot))) out.push(Number(p))
  }
  return out
}

/** Mount points under the daemon's roots (data root and exec root). */
export async function mountsOf(h: DaemonHandle): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8')
  return text.split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(`${h.root}/`))
}

/** Container state directories the OCI runtimes keep under the exec root. */
export async function runtimeStateOf(h: DaemonHandle): Promise<string[]> {
  const out: string[] = []
  const base = join(h.execRoot, 'runtime')
  for (const rt of await readdirOrEmpty(base)) for (const e of await readdirOrEmpty(join(base, rt))) out.push(join(base, rt, e))
  return out
}

/** cgroup directories left for these container IDs, over every v1 controller (or the v2 tree). */
export async function cgroupsOf(ids: Iterable<string>): Promise<string[]> {
  const out: string[] = []
  const controllers = await readdirOrEmpty('/sys/fs/cgroup')
  for (const id of ids) {
    if (existsSync(join('/sys/fs/cgroup/berth', id))) out.push(join('/sys/fs/cgroup/berth', id))
    for (const c of controllers) if (existsSync(cgroupDir(c, id))) out.push(cgroupDir(c, id))
  }
  return out
}

export interface Leftovers { mounts: string[]; conmons: number[]; runtimeState: string[]; cgroups: string[] }

export async function leftoversOf(h: DaemonHandle, ids: Iterable<string>): Promise<Leftovers> {
  return { mounts: await mountsOf(h), conmons: await conmonsOf(h), runtimeState: await runtimeStateOf(h), cgroups: await cgroupsOf(ids) }
}

export const isClean = (l: Leftovers) => !l.mounts.length && !l.conmons.length && !l.runtimeState.length && !l.cgroups.length

/** IDs of every container the daemon announced a `create` for (its event ring, this run). */
export async function createdIds(h: DaemonHandle): Promise<string[]> {
  const until = (Date.now() / 1000 + 1).toFixed(3)
  const filters = encodeURIComponent(JSON.stringify({ type: ['container'], event: ['create'] }))
  const r = await api(h, 'GET', `/events?since=0&until=${until}&filters=${filters}`)
  if (r.status !== 200) return []
  return r.body.toString().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { Actor?: { ID?: string } }).Actor?.ID ?? '').filter((id) => /^[a-f0-9]{64}$/.test(id))
}

/** Every container ID the daemon lists now (all states). */
export async function listedContainerIds(h: DaemonHandle): Promise<string[]> {
  const r = await api(h, 'GET', '/containers/json?all=1')
  if (r.status !== 200) return []
  return (r.json() as Array<{ Id: string }>).map((c) => c.Id)
}

/**
 * Remove every container through the daemon (rm -f), then, as a last resort for a daemon that
 * is gone or failed, kill what is left of THIS daemon's containers: runtime state by its own
 * `--root`, conmon processes whose command line names this exec root, and lazy-unmount its
 * mounts. Never touches anything outside the daemon's roots.
 */
export async function forceCleanup(h: DaemonHandle): Promise<void> {
  if (h.proc.exitCode === null && h.proc.signalCode === null) {
    for (const id of await listedContainerIds(h).catch(() => [])) await api(h, 'DELETE', `/containers/${id}?force=1`).catch(() => {})
  }
  for (const dir of await runtimeStateOf(h)) {
    const rt = dir.split('/').at(-2)!
    const id = dir.split('/').at(-1)!
    await runCmd(rt, [`--root=${join(h.execRoot, 'runtime', rt)}`, 'delete', '--force', id]).catch(() => {})
  }
  for (const pid of await conmonsOf(h)) {
    try { process.kill(pid, 'SIGKILL') } catch { /* already gone */ }
  }
  for (const m of (await mountsOf(h)).reverse()) await runCmd('umount', ['-l', m]).catch(() => {})
}

/**
 * The usual life of a container suite, as hooks of the calling suite: a private berthd with
 * busybox loaded (through the docker CLI), no container left from one test to the next, and
 * everything removed at the end. `daemon.h` is the handle once the suite's `before` has run.
 */
export function busyboxDaemon(): { readonly h: DaemonHandle } {
  const holder: { h: DaemonHandle } = { h: undefined as unknown as DaemonHandle }
  before(async () => {
    holder.h = await startDaemon()
    const r = await dockerT(holder.h, 60, 'load', '-i', await fixture('busybox'))
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout.trim(), 'Loaded image: busybox:latest')
  })
  beforeEach(async () => {
    for (const id of await listedContainerIds(holder.h)) await api(holder.h, 'DELETE', `/containers/${id}?force=1`)
  })
  after(async () => {
    if (!holder.h) return
    await forceCleanup(holder.h).catch(() => {})
    await holder.h.cleanup()
  })
  return holder
}
