import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { conflict, EngineError, internal, notFound } from '../../lib/errors.js'
import { Rollback } from '../../lib/rollback.js'
import type { NetworkSetUp } from '../../network/types.js'
import { buildSpec, serializeSpec } from '../../runtime/spec.js'
import type { Ctx } from './deps.js'
import { reapStale } from './exits.js'
import { monitorLogOptions } from './log-rotate.js'
import { prepareVolumes } from './mount-points.js'
import { removeContainer } from './remove.js'
import { mountRootfs } from './rootfs.js'
import { specInput } from './spec-input.js'
import { ZERO_TIME } from './types.js'
import { traceMark } from './trace.js'

/** `started`, or `already` when it was running (the API answers 304). */
export type StartResult = 'started' | 'already'

/**
 * Start a container: mount its rootfs, prepare its volumes, set up its network, write the
 * runtime spec and /etc files, create it under conmon, connect the streams attached before
 * start, start it and record it running. A failing step undoes the done ones (nothing is left
 * mounted, attached or created) and the error is recorded in the container's state. As Docker,
 * an auto-remove container that cannot start is removed.
 */
export async function startContainer(ctx: Ctx, ref: string, opts: { signal?: AbortSignal; policy?: boolean } = {}): Promise<StartResult> {
  try {
    return await start(ctx, ref, opts)
  } catch (err) {
    const rec = ctx.store.get(ctx.store.resolve(ref).id)
    if (rec?.hostConfig.autoRemove && rec.state.status !== 'running') {
      await removeContainer(ctx, rec.id, { force: true, internal: true }).catch((e) => ctx.deps.log(`auto-remove ${rec.id}: ${String(e)}`))
    }
    throw err
  }
}

async function start(ctx: Ctx, ref: string, { signal, policy = false }: { signal?: AbortSignal; policy?: boolean }): Promise<StartResult> {
  const { deps, layout, state, store } = ctx
  const rec0 = store.resolve(ref)
  traceMark(`start ${rec0.id.slice(0, 12)}`)
  await using _ = await state.locks.acquire(rec0.id, signal)
  const rec = store.get(rec0.id)
  if (!rec) throw notFound('ERR_CONTAINER_NOT_FOUND', `No such container: ${ref}`)
  if (rec.state.status === 'running') return 'already'
  // A restart policy's start: not after a user's stop, kill or remove (which took the lock
  // before this start got it), nor over a start the user asked for meanwhile.
  if (policy && (rec.state.stoppedByUser || rec.state.status === 'created')) return 'already'
  const pending = state.restartTimers.get(rec.id)
  if (pending) {
    // A user's start during the back-off: the policy's own start is no longer owed.
    ctx.clock.clearTimeout(pending)
    state.restartTimers.delete(rec.id)
  }
  if (rec.state.status === 'paused') throw conflict('ERR_CONTAINER_PAUSED', 'cannot start a paused container, try unpause instead')
  if (rec.state.status === 'removing' || rec.state.status === 'dead') throw conflict('ERR_CONTAINER_REMOVING', `container is marked for removal and cannot be started`)
  const rt = state.runtimeOf(rec)
  const bundle = layout.bundle(rec.id)
  const merged = layout.merged(rec.id)
  const rb = new Rollback((e) => deps.log(`start rollback ${rec.id}: ${String(e)}`))
  try {
    await state.reaping.get(rec.id)
    await reapStale(ctx, rec)
    await mkdir(bundle, { recursive: true })
    rb.defer(() => rm(bundle, { recursive: true, force: true }))
    if (await mountRootfs(ctx, rec)) rb.defer(() => ctx.mounts.unmount(merged))
    await prepareVolumes(ctx, rec, merged, rb)
    let net: NetworkSetUp = {}
    const network = deps.network
    if (network) {
      net = await network.setUp(rec)
      rb.defer(async () => { await network.tearDown(rec) })
    }
    const spec = buildSpec(await specInput(ctx, rec, merged, net), ctx.host())
    const seccomp = ctx.seccomp.lookup(rt, spec)
    if (seccomp.bpf) spec.annotations = { ...spec.annotations, 'run.oci.seccomp_bpf_data': seccomp.bpf }
    // Unlimited rlimits are bigints: the spec has its own serialiser. The bundle is this run's
    // alone (a start cut short is reaped, the next start writes its own): no fsync, no rename.
    await writeFile(layout.specFile(rec.id), serializeSpec(spec))
    await mkdir(layout.persistDir(rec.id), { recursive: true })
    const { pid } = await ctx.runtime.create({
      id: rec.id,
      bundle,
      runtime: rt,
      exitDir: layout.exitDir,
      persistDir: layout.persistDir(rec.id),
      logPath: rec.logPath,
      ...monitorLogOptions(rec.hostConfig.logConfig),
      terminal: rec.config.tty,
      stdin: rec.config.openStdin,
      leaveStdinOpen: !rec.config.stdinOnce,
      conmonPidFile: layout.monitorPidFile(rec.id),
      containerPidFile: layout.containerPidFile(rec.id),
    }).catch((err: EngineError) => {
      throw translateRuntimeError(err, rec.path)
    })
    rb.defer(() => ctx.runtime.delete(rt, rec.id, true))
    if (seccomp.key && !seccomp.bpf) void ctx.seccomp.learn(ctx, rt, rec.id, seccomp.key)
    const monitorPid = Number((await readFile(layout.monitorPidFile(rec.id), 'utf8').catch(() => '0')).trim())
    for (const hook of state.attachHooks.get(rec.id) ?? []) await hook.connect(layout.attachSocket(rec.id))
    await ctx.runtime.start(rt, rec.id)
    const { health: _previousRun, ...prev } = rec.state
    rec.state = { ...prev, status: 'running', pid, monitorPid, exitCode: 0, error: '', oomKilled: false, startedAt: new Date(ctx.clock.now()).toISOString(), finishedAt: ZERO_TIME, stoppedByUser: false }
    if (net.state) rec.network = net.state
    await store.save(rec)
    rb.commit()
    state.running(rec)
  } catch (err) {
    const e = err instanceof EngineError ? err : internal('ERR_START', (err as Error).message, err)
    rec.state = { ...rec.state, status: rec.state.status === 'running' || rec.state.status === 'restarting' ? 'exited' : rec.state.status, error: e.message, exitCode: exitCodeFor(e.message) }
    await store.save(rec).catch(() => {})
    throw e
  } finally {
    await rb.close()
  }
  state.emit(rec, 'start')
  traceMark(`started ${rec.id.slice(0, 12)}`)
  return 'started'
}

/** Exit status Docker records when a start fails: 127 not found, 126 cannot invoke. */
function exitCodeFor(message: string): number {
  if (/executable file not found|no such file or directory/i.test(message)) return 127
  if (/permission denied/i.test(message)) return 126
  return 128
}

/** Turn the runtime's words into Docker's, which clients parse (docker run maps them to 126/127). */
function translateRuntimeError(err: EngineError, path: string): EngineError {
  let m = err.message
  const notFoundExe = /executable file `([^`]*)` not found in \$PATH/.exec(m)
  if (notFoundExe) m = `exec: "${notFoundExe[1]}": executable file not found in $PATH`
  // crun cannot open a file that is not executable (or a directory); runc says `permission denied`.
  else if (/open executable: (Permission denied|Operation not permitted)/i.test(m)) m = `exec: ${JSON.stringify(path)}: permission denied`
  else if (/cannot find|No such file or directory/i.test(m) && /exec/i.test(m)) m = m.replace(/^.*?: /, '')
  return new EngineError(err.kind === 'Internal' ? 'InvalidArgument' : err.kind, err.code, `failed to create task for container: OCI runtime create failed: ${m}: unknown`)
}
