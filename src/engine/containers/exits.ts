import { watch } from 'node:fs'
import { mkdir, readFile, rm, stat } from 'node:fs/promises'
import { isNotFoundErrno } from '../../lib/errors.js'
import type { Ctx } from './deps.js'
import { removeContainer } from './remove.js'
import { restartInDependencyOrder } from './boot-order.js'
import { startContainer } from './start.js'
import { isActive, isRunning } from './state.js'
import type { ContainerRecord } from './types.js'
import { exists } from './util.js'
import { traceMark } from './trace.js'

/**
 * Start-up: watch the exit directory, finish removals a crash interrupted, clean up starts cut
 * short, record the exits of containers that ended while berthd was away, and restart those
 * whose policy asks for it.
 */
export async function initContainers(ctx: Ctx): Promise<void> {
  const { deps, layout, state, store } = ctx
  await mkdir(layout.exitDir, { recursive: true })
  await mkdir(layout.bundlesDir, { recursive: true })
  for (const rt of Object.values(deps.runtimes)) await mkdir(rt.root, { recursive: true })
  const dropped = await store.init()
  for (const rec of dropped) await finishRemoval(ctx, rec).catch((e) => deps.log(`cleanup of ${rec.id}: ${String(e)}`))
  state.watcher = watch(layout.exitDir, (_event, file) => {
    if (file && /^[a-f0-9]{64}$/.test(file)) void onExitFile(ctx, file)
  })
  const pendingRestart = new Set<string>()
  // Exits recorded now (containers that died while berthd was away) owe their policy's restart
  // too: collected here and started below in dependency order, not each on its own timer.
  const owed = new Set<string>()
  booting.set(ctx, owed)
  for (const rec of store.all()) {
    if (rec.state.status === 'restarting' && !ctx.runtime.alive(rec.state.monitorPid)) {
      // berthd stopped during a restart policy's back-off: the restart is still owed.
      rec.state.status = 'exited'
      pendingRestart.add(rec.id)
    }
    if (!isActive(rec)) {
      // berthd may have died inside a start: its monitor and runtime container go. A monitor
      // can take seconds to exit, so this runs in the background; start and remove of that
      // container wait for it. A stopped container never keeps its rootfs mounted, nor endpoints.
      inBackground(ctx, rec.id, () => reapStale(ctx, rec))
      await ctx.mounts.unmount(layout.merged(rec.id)).catch(() => {})
      if (rec.network && (rec.network.endpoints.length || rec.network.netns)) {
        rec.network = { endpoints: [], ports: [], ...(rec.network.detached?.length ? { detached: rec.network.detached } : {}) }
        await store.save(rec)
      }
      continue
    }
    if (await exists(layout.exitFile(rec.id))) await onExitFile(ctx, rec.id)
    else if (!ctx.runtime.alive(rec.state.monitorPid)) await recordExit(ctx, rec, 255, 'container monitor exited unexpectedly')
    else state.running(rec)
  }
  booting.delete(ctx)
  // A container its user stopped stays stopped until started again, whatever the policy.
  const due = store.all().filter((rec) => {
    const p = rec.hostConfig.restartPolicy.name
    if (owed.has(rec.id)) return rec.state.status === 'restarting'
    return rec.state.status === 'exited' && !rec.state.stoppedByUser && (pendingRestart.has(rec.id) || p === 'always' || p === 'unless-stopped')
  })
  void restartInDependencyOrder(due, {
    start: async (id) => { await startContainer(ctx, id, { policy: true }) },
    get: (id) => store.get(id),
    sleep: (ms) => new Promise((resolve) => ctx.clock.setTimeout(resolve, ms)),
    now: () => ctx.clock.now(),
    log: deps.log,
  })
}

/** berthd stopping: no more exit events or restarts; the running containers' listeners stop. */
export function closeContainers(ctx: Ctx): void {
  ctx.state.watcher?.close()
  for (const t of ctx.state.restartTimers.values()) ctx.clock.clearTimeout(t)
  for (const rec of ctx.store.all()) if (isRunning(rec)) ctx.state.stopped(rec)
}

/** conmon wrote an exit file: record the exit. */
export async function onExitFile(ctx: Ctx, id: string): Promise<void> {
  const rec = ctx.store.get(id)
  if (!rec) return
  let code = 255
  try {
    const text = (await readFile(ctx.layout.exitFile(id), 'utf8')).trim()
    if (text === '') return // being written; the next event has it
    code = Number(text)
  } catch (err) {
    if (isNotFoundErrno(err)) return
    throw err
  }
  await recordExit(ctx, rec, code)
}

/**
 * A container's process ended: tear down its network, volumes' mounts, runtime state, rootfs
 * mount and bundle, record the exit, tell the waiters, then auto-remove or apply the policy.
 */
export async function recordExit(ctx: Ctx, rec0: ContainerRecord, code: number, error = ''): Promise<void> {
  const { deps, layout, state, store } = ctx
  traceMark(`exit ${rec0.id.slice(0, 12)}`)
  await using _ = await state.locks.acquire(rec0.id)
  const rec = store.get(rec0.id)
  if (!rec || !isActive(rec)) return
  // The exit watcher can report one exit file twice: an exit already recorded (the policy's
  // back-off under way, or its start waiting for this lock) is not recorded again.
  if (rec.state.status === 'restarting') return
  const oomKilled = await exists(layout.oomFile(rec.id))
  let finishedAt = new Date(ctx.clock.now()).toISOString()
  try { finishedAt = (await stat(layout.exitFile(rec.id))).mtime.toISOString() } catch (err) { if (!isNotFoundErrno(err)) throw err }
  state.stopped(rec)
  // What only the runtime, the monitor and berthd see (the runtime's state, the rootfs mount,
  // the exit file, the bundle: a `<runtime> delete` and an `umount`, the two slowest steps)
  // goes in the background, tracked in `reaping`, which the next start, a remove, a copy's
  // rootfs mount and berthd's own start-up (reapStale, after a crash) wait for or redo. The
  // network and the volumes' mounts, which others can see, are torn down before the exit is
  // recorded, side by side.
  const rt = state.runtimeOf(rec)
  inBackground(ctx, rec.id, async () => {
    await Promise.all([
      ctx.runtime.delete(rt, rec.id, true).catch((e) => deps.log(`runtime delete ${rec.id}: ${String(e)}`)),
      // A copy that holds the rootfs of a container that ran unmounts it when done.
      state.rootfsUsers.has(rec.id) ? undefined : ctx.mounts.unmount(layout.merged(rec.id)).catch((e) => deps.log(`unmount ${rec.id}: ${String(e)}`)),
    ])
    // The bundle goes after the runtime's delete, which may still read it.
    await Promise.all([rm(layout.exitFile(rec.id), { force: true }), rm(layout.bundle(rec.id), { recursive: true, force: true })])
  })
  const network = deps.network
  const [net] = await Promise.all([
    network?.tearDown(rec).catch((e) => { deps.log(`network teardown ${rec.id}: ${String(e)}`); return undefined }),
    (async () => { for (const m of rec.mountPoints ?? []) if (m.type === 'volume' && m.name) await deps.volumes?.unmountFor(m.name, rec.id) })(),
  ])
  if (net) rec.network = net
  rec.state = { ...rec.state, status: 'exited', pid: 0, monitorPid: 0, exitCode: code, oomKilled, finishedAt, error }
  // The policy's decision is recorded with the exit: a container it restarts is `restarting`
  // from its exit on (never `exited` in between, where a stop or kill would miss it).
  const delay = rec.hostConfig.autoRemove ? undefined : restartDue(rec)
  if (delay !== undefined) {
    // As Docker: the count goes up when the restart is decided.
    rec.restartCount++
    rec.state.status = 'restarting'
    // Its start waits for this exit's lock.
    scheduleRestart(ctx, rec, delay)
  }
  await store.save(rec, { durable: !state.removals.has(rec.id) })
  traceMark(`exit recorded ${rec.id.slice(0, 12)}`)
  if (oomKilled) state.emit(rec, 'oom')
  const started = Date.parse(rec.state.startedAt)
  state.emit(rec, 'die', { exitCode: String(code), execDuration: String(Math.max(0, Math.round((Date.parse(finishedAt) - started) / 1000))) })
  state.exited(rec.id, code)
  if (rec.hostConfig.autoRemove) {
    void removeContainer(ctx, rec.id, { force: true, internal: true }).catch((e) => deps.log(`auto-remove ${rec.id}: ${String(e)}`))
    return
  }
}

/** Per container service while initContainers runs: the restarts owed by exits recorded at start-up. */
const booting = new WeakMap<Ctx, Set<string>>()

/**
 * A container's clean-up run in the background, after any already under way, and kept in
 * `state.reaping` until done: start and remove wait for it.
 */
function inBackground(ctx: Ctx, id: string, work: () => Promise<void>): void {
  const { deps, state } = ctx
  const before = state.reaping.get(id)
  const p: Promise<void> = (async () => {
    await before
    await work()
  })().catch((e) => deps.log(`cleanup of ${id}: ${String(e)}`))
  state.reaping.set(id, p)
  void p.finally(() => { if (state.reaping.get(id) === p) state.reaping.delete(id) })
}

/** Docker's restart back-off: 100 ms doubling, reset after 10 s of running, at most 1 minute. */
export function restartDelay(restartCount: number, ranForMs: number): number {
  return ranForMs > 10_000 ? 100 : Math.min(60_000, 100 * 2 ** Math.min(restartCount, 10))
}

/** The restart policy's answer to an exit: the back-off before the restart, or undefined for none. */
function restartDue(rec: ContainerRecord): number | undefined {
  const p = rec.hostConfig.restartPolicy
  if (rec.state.stoppedByUser || p.name === '' || p.name === 'no') return undefined
  if (p.name === 'on-failure' && (rec.state.exitCode === 0 || (p.maximumRetryCount > 0 && rec.restartCount >= p.maximumRetryCount))) return undefined
  return restartDelay(rec.restartCount, Date.parse(rec.state.finishedAt) - Date.parse(rec.state.startedAt))
}

/** The policy's start after the back-off; a policy restart is a plain `start` event (`restart` is for `docker restart`). */
function scheduleRestart(ctx: Ctx, rec: ContainerRecord, delay: number): void {
  const owed = booting.get(ctx)
  if (owed) {
    owed.add(rec.id)
    return
  }
  ctx.state.restartTimers.set(rec.id, ctx.clock.setTimeout(() => {
    ctx.state.restartTimers.delete(rec.id)
    // As Docker: the container stays `restarting` until the start is done (ps lists it, rm
    // without force refuses it); a start that fails leaves it exited.
    void startContainer(ctx, rec.id, { policy: true }).catch((e) => ctx.deps.log(`restart ${rec.id}: ${String(e)}`))
  }, delay))
}

/**
 * A user stop, kill or remove: the restart policy stops here. Under the container's lock (so
 * no policy start is half-way): the container is marked stopped by the user (persisted, as
 * Docker's HasBeenManuallyStopped), a pending back-off is cancelled and a container caught
 * between two runs is left exited. A policy start that was already waiting for the lock sees
 * the mark and does nothing; the exit of a run that had started is not restarted either.
 * Returns whether the container was between two runs.
 */
export async function cancelRestart(ctx: Ctx, rec0: ContainerRecord, durable = true): Promise<boolean> {
  await using _ = await ctx.state.locks.acquire(rec0.id)
  const rec = ctx.store.get(rec0.id)
  if (!rec) return false
  const t = ctx.state.restartTimers.get(rec.id)
  if (t) {
    ctx.clock.clearTimeout(t)
    ctx.state.restartTimers.delete(rec.id)
  }
  const between = rec.state.status === 'restarting'
  if (between) rec.state.status = 'exited'
  if (between || isRunning(rec) || !rec.state.stoppedByUser) {
    rec.state.stoppedByUser = true
    await ctx.store.save(rec, { durable })
  }
  return between
}

/**
 * Undo what a start that never finished left (berthd died between creating the monitor and
 * recording the start): the runtime container, its monitor, the monitor's exit file and the
 * bundle. The monitor is waited for, so its exit file cannot land after the next start and be
 * taken for that run's exit.
 */
export async function reapStale(ctx: Ctx, rec: ContainerRecord): Promise<void> {
  const { layout } = ctx
  const bundle = layout.bundle(rec.id)
  const rt = ctx.deps.runtimes[rec.runtime]
  if (rt && ((await exists(bundle)) || (await ctx.runtime.hasState(rt, rec.id)))) await ctx.runtime.delete(rt, rec.id, true)
  if (!(await exists(bundle))) {
    await rm(layout.exitFile(rec.id), { force: true })
    return
  }
  let monitorPid = 0
  try {
    monitorPid = Number((await readFile(layout.monitorPidFile(rec.id), 'utf8')).trim())
  } catch (err) {
    if (!isNotFoundErrno(err)) throw err
  }
  for (const deadline = ctx.clock.now() + 5000; ctx.runtime.alive(monitorPid) && ctx.clock.now() < deadline;) await ctx.clock.sleep(20)
  await rm(layout.exitFile(rec.id), { force: true })
  await rm(bundle, { recursive: true, force: true })
}

/** The end of a removal: runtime state, mount, bundle, network, record; the waiters are told. */
export async function finishRemoval(ctx: Ctx, rec: ContainerRecord): Promise<void> {
  const { deps, layout, state } = ctx
  await state.reaping.get(rec.id)
  const rt = deps.runtimes[rec.runtime]
  // The runtime's state is usually gone already (deleted when the exit was recorded).
  await Promise.all([
    rt && (await ctx.runtime.hasState(rt, rec.id)) ? ctx.runtime.delete(rt, rec.id, true).catch(() => {}) : undefined,
    ctx.mounts.unmount(layout.merged(rec.id)),
  ])
  await rm(layout.bundle(rec.id), { recursive: true, force: true })
  await deps.network?.removed(rec).catch((e) => deps.log(`network removal ${rec.id}: ${String(e)}`))
  await ctx.store.delete(rec)
  state.emit(rec, 'destroy')
  state.removed(rec.id, rec.state.exitCode)
}
