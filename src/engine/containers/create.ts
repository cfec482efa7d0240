import { mkdir, rm } from 'node:fs/promises'
import { newId } from '../../lib/digest.js'
import { invalid } from '../../lib/errors.js'
import { Rollback } from '../../lib/rollback.js'
import { verifyResources, type HostInfo } from '../../runtime/spec.js'
import type { Ctx } from './deps.js'
import { resolveLogConfig } from './log-rotate.js'
import { resolveMounts } from './mount-points.js'
import { generateName } from './names.js'
import { parseSignal } from './signals.js'
import { specResources, verifyModes } from './spec-input.js'
import { ZERO_TIME, type ContainerConfig, type ContainerRecord, type HostConfig, type RestartPolicy } from './types.js'

export interface CreateRequest {
  name?: string
  config: ContainerConfig
  hostConfig: HostConfig
  endpointsConfig?: ContainerRecord['endpointsConfig']
}

/** A created container and Docker's warnings about what the host will not enforce. */
export interface CreateResult {
  id: string
  warnings: string[]
}

const POLICIES = ['', 'no', 'always', 'on-failure', 'unless-stopped']

/**
 * Docker's check of a restart policy (the one place it is checked): a known name, a retry count
 * only with `on-failure` and never negative, and none with AutoRemove (at create).
 */
export function validateRestartPolicy(p: { name: string; maximumRetryCount: number }, autoRemove = false): RestartPolicy {
  const fail = (m: string) => invalid('ERR_RESTART_POLICY', `invalid restart policy: ${m}`)
  if (!POLICIES.includes(p.name)) throw fail(`unknown policy '${p.name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`)
  const count = p.maximumRetryCount
  // An empty name with a count is allowed, as Docker allows it (old clients send one).
  if (p.name !== '' && p.name !== 'on-failure' && count !== 0) throw fail(`maximum retry count can only be used with 'on-failure'${count < 0 ? ' and cannot be negative' : ''}`)
  if (p.name === 'on-failure' && count < 0) throw fail('maximum retry count cannot be negative')
  if (autoRemove && p.name !== '' && p.name !== 'no') throw invalid('ERR_AUTOREMOVE', `can't create 'AutoRemove' container with restart policy`)
  return { name: p.name as RestartPolicy['name'], maximumRetryCount: count }
}

/**
 * Docker's checks of a host config's resources and platform settings at create and update
 * (verifyPlatformContainerResources + verifyPlatformContainerSettings): throws Docker's error,
 * returns Docker's warnings. `update` relaxes the checks as `docker update` does.
 */
export function verifyHostConfig(hc: HostConfig, host: HostInfo, opts: { update?: boolean; blkioWeight?: number } = {}): string[] {
  const checked = verifyResources({
    ...specResources(hc),
    ...(hc.pidsLimit ? { pidsLimit: hc.pidsLimit } : {}),
    ...(opts.blkioWeight ? { blkioWeight: opts.blkioWeight } : {}),
  }, hc.nanoCpus || undefined, host, opts.update ? { update: true } : {})
  const warnings = [...checked.warnings]
  if (opts.update) return warnings
  if (hc.shmSize < 0) throw invalid('ERR_INVALID_SHM_SIZE', 'SHM size can not be less than 0')
  if (hc.oomScoreAdj < -1000 || hc.oomScoreAdj > 1000) throw invalid('ERR_INVALID_OOM_SCORE_ADJ', `Invalid value ${hc.oomScoreAdj}, range for oom score adj is [-1000, 1000]`)
  if (hc.networkMode === 'host' && Object.keys(hc.portBindings).length > 0) warnings.push('Published ports are discarded when using host network mode')
  return warnings
}

/** A port or range Go's nat package parses: each number in 0-65535, a range in order. */
function validPort(p: string, range: boolean): boolean {
  if (p === '') return true
  const m = (range ? /^(\d+)(?:-(\d+))?$/ : /^(\d+)$/).exec(p)
  if (!m) return false
  const a = Number(m[1]); const b = m[2] === undefined ? a : Number(m[2])
  return a <= 65535 && b <= 65535 && a <= b
}

/**
 * Docker's check of the ports at create (daemon/container.go): every exposed and published
 * port, and every host port, parses as a port (or a range), else `invalid port specification: "..."`.
 */
export function verifyPorts(c: ContainerConfig, hc: HostConfig): void {
  const bad = (p: string) => invalid('ERR_BAD_PORT', `invalid port specification: ${JSON.stringify(p)}`)
  const portOf = (k: string) => k.split('/')[0] ?? ''
  for (const k of Object.keys(c.exposedPorts ?? {})) if (!validPort(portOf(k), true)) throw bad(portOf(k))
  for (const [k, bindings] of Object.entries(hc.portBindings ?? {})) {
    if (!validPort(portOf(k), true)) throw bad(portOf(k))
    for (const b of bindings) if (!validPort(portOf(b.hostPort), true)) throw bad(b.hostPort)
  }
}

/** A container config with Docker's empty defaults, for callers inside the engine (the builder). */
export function newContainerConfig(c: Partial<ContainerConfig> & { image: string }): ContainerConfig {
  return {
    hostname: '', domainname: '', user: '', attachStdin: false, attachStdout: false, attachStderr: false, tty: false, openStdin: false, stdinOnce: false,
    env: [], cmd: null, entrypoint: null, workingDir: '', labels: {}, exposedPorts: {}, volumes: {}, onBuild: null,
    ...c,
  }
}

/** A host config with Docker's defaults (default network, no limits, no restart), for callers inside the engine. */
export function newHostConfig(h: Partial<HostConfig> = {}): HostConfig {
  return {
    autoRemove: false, networkMode: 'default', restartPolicy: { name: '', maximumRetryCount: 0 }, privileged: false, readonlyRootfs: false,
    capAdd: [], capDrop: [], securityOpt: [], init: false, memory: 0, memorySwap: 0, memoryReservation: 0, nanoCpus: 0, cpuShares: 0,
    cpuQuota: 0, cpuPeriod: 0, cpusetCpus: '', cpusetMems: '', pidsLimit: null, oomKillDisable: false, shmSize: 0, ulimits: [], sysctls: {},
    devices: [], logConfig: { type: '', config: {} }, extraHosts: [], dns: [], dnsSearch: [], dnsOptions: [], runtime: '', oomScoreAdj: 0,
    binds: [], mounts: [], tmpfs: {}, volumesFrom: [], portBindings: {}, publishAllPorts: false, links: [],
    ...h,
  }
}

/** The image's defaults under the request's config, as Docker merges them: a given entrypoint drops the image's cmd. */
function withImageDefaults(req: ContainerConfig, imgCfg: NonNullable<ReturnType<Ctx['deps']['images']['resolve']>['config']['config']>): ContainerConfig {
  const c = { ...req }
  if (c.entrypoint === null || c.entrypoint === undefined) {
    c.entrypoint = imgCfg.Entrypoint ?? null
    if (!c.cmd || c.cmd.length === 0) c.cmd = imgCfg.Cmd ?? null
  } else if (!c.cmd) {
    c.cmd = null
  }
  const env = new Map<string, string>()
  for (const e of [...(imgCfg.Env ?? []), ...c.env]) env.set(e.split('=')[0]!, e)
  c.env = [...env.values()]
  if (!c.workingDir) c.workingDir = imgCfg.WorkingDir ?? ''
  if (!c.user) c.user = imgCfg.User ?? ''
  if (!c.stopSignal && imgCfg.StopSignal) c.stopSignal = imgCfg.StopSignal
  c.labels = { ...(imgCfg.Labels ?? {}), ...c.labels }
  c.exposedPorts = { ...(imgCfg.ExposedPorts ?? {}), ...c.exposedPorts }
  c.volumes = { ...(imgCfg.Volumes ?? {}), ...c.volumes }
  if (!c.healthcheck && imgCfg.Healthcheck) {
    const h = imgCfg.Healthcheck
    c.healthcheck = { ...(h.Test ? { test: h.Test } : {}), ...(h.Interval ? { interval: h.Interval } : {}), ...(h.Timeout ? { timeout: h.Timeout } : {}), ...(h.StartPeriod ? { startPeriod: h.StartPeriod } : {}), ...(h.Retries ? { retries: h.Retries } : {}) }
  }
  return c
}

/**
 * Create a container: Docker's create-time checks (restart policy, resources, platform
 * settings, runtime, mounts, network), the image's defaults, a name, the directories, the
 * volumes it needs; all undone if a step fails. Returns its ID and Docker's warnings.
 */
export async function createContainer(ctx: Ctx, req: CreateRequest): Promise<CreateResult> {
  const { deps, store, layout } = ctx
  const restartPolicy = validateRestartPolicy(req.hostConfig.restartPolicy, req.hostConfig.autoRemove)
  const warnings = verifyHostConfig(req.hostConfig, ctx.host())
  verifyPorts(req.config, req.hostConfig)
  verifyModes(req.hostConfig)
  const img = deps.images.resolve(req.config.image)
  const c = withImageDefaults(req.config, img.config.config ?? {})
  const hc: HostConfig = { ...req.hostConfig, restartPolicy, logConfig: resolveLogConfig(req.hostConfig.logConfig, deps.logDefaults) }
  const runtime = hc.runtime || deps.defaultRuntime
  if (!deps.runtimes[runtime]) throw invalid('ERR_UNKNOWN_RUNTIME', `unknown or invalid runtime name: ${runtime}`)
  const argv = [...(c.entrypoint ?? []), ...(c.cmd ?? [])]
  if (argv.length === 0) throw invalid('ERR_NO_COMMAND', 'No command specified')
  if (c.stopSignal) parseSignal(c.stopSignal)
  const id = newId()
  if (!c.hostname) c.hostname = hc.networkMode === 'host' || hc.utsMode === 'host' ? ctx.hostname() : id.slice(0, 12)
  // As Docker: the daemon's default cgroup namespace mode is recorded (private on cgroup v2).
  if (!hc.cgroupnsMode) hc.cgroupnsMode = ctx.host().cgroup2 ? 'private' : 'host'
  const name = req.name ? req.name.replace(/^\//, '') : generateName((n) => store.hasName(n))
  store.reserveName(name, id)
  const rb = new Rollback((e) => deps.log(`create rollback: ${String(e)}`))
  rb.defer(() => store.releaseName(name, id))
  try {
    const dir = layout.dir(id)
    await mkdir(layout.upper(id), { recursive: true, mode: 0o755 })
    rb.defer(() => rm(dir, { recursive: true, force: true }))
    await mkdir(layout.work(id), { recursive: true })
    await mkdir(layout.merged(id), { recursive: true })
    const rec: ContainerRecord = {
      id,
      name,
      created: new Date(ctx.clock.now()).toISOString(),
      imageRef: req.config.image,
      imageId: img.record.id,
      imageTopLayer: img.record.layers.at(-1) ?? '',
      path: argv[0]!,
      args: argv.slice(1),
      config: c,
      hostConfig: { ...hc, runtime },
      state: { status: 'created', pid: 0, exitCode: 0, error: '', oomKilled: false, startedAt: ZERO_TIME, finishedAt: ZERO_TIME, monitorPid: 0, stoppedByUser: false },
      restartCount: 0,
      runtime,
      logPath: layout.log(id),
      ...(req.endpointsConfig ? { endpointsConfig: req.endpointsConfig } : {}),
    }
    rec.mountPoints = await resolveMounts(ctx, rec, rb)
    if (deps.network) {
      const { extraHosts } = await deps.network.validate(rec)
      rec.hostConfig.extraHosts = extraHosts
    }
    await store.save(rec)
    rb.commit()
    ctx.state.emit(rec, 'create')
    return { id, warnings }
  } finally {
    await rb.close()
  }
}
