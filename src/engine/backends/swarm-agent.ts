import { chown, mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { LABEL, type AgentEngine, type TaskContainer, type TaskContainerSpec, type TaskMount } from '../../cluster/agent.js'
import type { OverlayNetworks } from '../../cluster/context.js'
import { credentialsOf } from '../../distribution/auth-header.js'
import { parseNormalizedNamed } from '../../distribution/reference.js'
import { codedError } from '../../lib/error-codes.js'
import { isKind } from '../../lib/errors.js'
import { isMountPoint, mountFs, unmount } from '../../platform/mount.js'
import { newContainerConfig, newHostConfig } from '../containers/create.js'
import type { ContainerService } from '../containers/service.js'
import type { ContainerConfig, ContainerRecord, EndpointSettings, HostConfig } from '../containers/types.js'
import { pullImage } from '../images/pull.js'
import type { ImageService } from '../images/service.js'
import { registrySettingsOf, type RegistryConfig } from './registry.js'

export interface SwarmAgentEngineDeps {
  containers: ContainerService
  images: ImageService
  /** The daemon's registry settings (mirrors, insecure registries) for the pulls. */
  registry: RegistryConfig
  /** The daemon's exec root: secrets and configs are written under <execRoot>/swarm/task-files/<task id>/. */
  execRoot: string
  /** The overlay driver; without it a task on a swarm network cannot be created (Docker's words). */
  overlay?: OverlayNetworks
  log?: (msg: string) => void
}

/** libnetwork's words when the overlay driver is not there. */
export const NO_OVERLAY_DRIVER = 'could not find plugin overlay in v1 plugin registry: plugin not found'

const isUp = (s: string) => s === 'running' || s === 'paused' || s === 'restarting'

function hasHealthcheck(c: ContainerConfig): boolean {
  const test = c.healthcheck?.test
  return !!test && test.length > 0 && test[0] !== 'NONE'
}

const defined = <T extends object>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>

/** A swarm mount as a `--mount` (HostConfig.Mounts wire form), its per-type options included. */
export function wireMount(m: TaskMount): Record<string, unknown> {
  const b = m.bindOptions
  const v = m.volumeOptions
  const t = m.tmpfsOptions
  return {
    Type: m.type,
    ...(m.source ? { Source: m.source } : {}),
    Target: m.target,
    ...(m.readOnly ? { ReadOnly: true } : {}),
    ...(m.consistency ? { Consistency: m.consistency } : {}),
    ...(b ? { BindOptions: defined({ Propagation: b.propagation, NonRecursive: b.nonRecursive, CreateMountpoint: b.createMountpoint, ReadOnlyNonRecursive: b.readOnlyNonRecursive, ReadOnlyForceRecursive: b.readOnlyForceRecursive }) } : {}),
    ...(v ? { VolumeOptions: defined({ NoCopy: v.noCopy, Labels: v.labels, Subpath: v.subpath, DriverConfig: v.driverConfig ? defined({ Name: v.driverConfig.name, Options: v.driverConfig.options }) : undefined }) } : {}),
    ...(t ? { TmpfsOptions: defined({ SizeBytes: t.sizeBytes, Mode: t.mode, Options: t.options }) } : {}),
  }
}

function taskContainerOf(rec: ContainerRecord): TaskContainer {
  return {
    id: rec.id,
    name: rec.name,
    labels: { ...rec.config.labels },
    state: rec.state.status,
    exitCode: rec.state.exitCode,
    pid: rec.state.pid,
    ...(rec.state.error ? { error: rec.state.error } : {}),
    ...(hasHealthcheck(rec.config) ? { health: rec.state.health?.status ?? 'starting' } : {}),
  }
}

/**
 * The agent's engine over berthd's container and image services, as dockerd's swarm executor
 * (daemon/cluster/executor/container) builds a task's container:
 * - the image is pulled when it is not here, with the service's registry credentials (a failed
 *   pull is logged and create then answers "No such image", as dockerd);
 * - restart policy `no` (the orchestrator restarts tasks, not the engine); the task's labels, env,
 *   command/args, hostname, dir, user, tty, stop signal, healthcheck, init and limits;
 * - mounts with `--mount` semantics and options (a bind source must exist; a volume without
 *   source is anonymous); read-only rootfs, groups, hosts, DNS, capabilities, sysctls, ulimits;
 * - host-mode published ports as ordinary port bindings (no published port: a random one);
 * - swarm networks through OverlayNetworks.ensure, joined with the task's address and aliases;
 * - secrets and configs written as files (mode, uid, gid) on a tmpfs of the task's own under
 *   the exec root, each bind-mounted read-only at its target; unmounted and removed with the
 *   container.
 */
export function swarmAgentEngine(d: SwarmAgentEngineDeps): AgentEngine {
  const svc = d.containers
  const log = d.log ?? (() => undefined)
  const filesDir = (taskId: string) => join(d.execRoot, 'swarm', 'task-files', taskId.replace(/[^A-Za-z0-9_.-]/g, '_'))

  const present = (image: string): boolean => {
    try {
      d.images.resolve(image)
      return true
    } catch {
      return false
    }
  }

  async function pullIfAbsent(spec: TaskContainerSpec, signal?: AbortSignal): Promise<void> {
    if (present(spec.image)) return
    try {
      const ref = parseNormalizedNamed(spec.image)
      const credentials = credentialsOf(spec.registryAuth)
      await pullImage(d.images.deps, ref, {
        settings: registrySettingsOf(d.registry),
        progress: () => undefined,
        ...(credentials ? { credentials } : {}),
        ...(signal ? { signal } : {}),
      })
    } catch (err) {
      // dockerd logs the failed pull and lets create answer (a local image may still do).
      log(`swarm task ${spec.name}: pulling image ${spec.image} failed: ${(err as Error).message}`)
    }
  }

  async function writeFiles(spec: TaskContainerSpec, dir: string): Promise<Array<Record<string, unknown>>> {
    if (spec.files.length === 0) return []
    await mkdir(dir, { recursive: true, mode: 0o700 })
    // As dockerd: the files live on a tmpfs of their own (never on disk), root's only.
    if (!(await isMountPoint(dir))) await mountFs('tmpfs', dir, { type: 'tmpfs', options: 'nodev,nosuid,noexec,mode=0700' })
    const mounts: Array<Record<string, unknown>> = []
    for (const [i, f] of spec.files.entries()) {
      const path = join(dir, `${f.kind}-${i}-${f.id}`)
      await writeFile(path, f.data, { mode: f.mode & 0o7777 })
      await chown(path, f.uid, f.gid)
      mounts.push({ Type: 'bind', Source: path, Target: f.target, ReadOnly: true })
    }
    return mounts
  }

  const removeFiles = async (dir: string) => {
    await unmount(dir)
    await rm(dir, { recursive: true, force: true })
  }

  /** The swarm networks made usable here (each local network ID goes into `ensured` as soon as it exists). */
  async function attachNetworks(spec: TaskContainerSpec, ensured: string[]): Promise<{ networkMode: string; endpointsConfig?: Record<string, EndpointSettings> }> {
    if (spec.networks.length === 0) return { networkMode: 'default' }
    if (!d.overlay) throw codedError('ERR_SWARM_NO_OVERLAY', NO_OVERLAY_DRIVER)
    const endpointsConfig: Record<string, EndpointSettings> = {}
    let primary = ''
    for (const a of spec.networks) {
      const localId = await d.overlay.ensure(a.network)
      ensured.push(localId)
      if (!primary) primary = localId
      endpointsConfig[localId] = { aliases: a.aliases, ipv4Address: a.address.split('/')[0] ?? '', ipv6Address: '', macAddress: '', links: [] }
    }
    return { networkMode: primary, endpointsConfig }
  }

  return {
    async listContainers(labels: Record<string, string>): Promise<TaskContainer[]> {
      return svc.store.all()
        .filter((rec) => Object.entries(labels).every(([k, v]) => rec.config.labels[k] === v))
        .map(taskContainerOf)
    },

    async createContainer(spec: TaskContainerSpec, signal?: AbortSignal): Promise<string> {
      await pullIfAbsent(spec, signal)
      const taskId = spec.labels[LABEL.taskId] ?? spec.name
      const dir = filesDir(taskId)
      const ensured: string[] = []
      try {
        const fileMounts = await writeFiles(spec, dir)
        const networks = await attachNetworks(spec, ensured)
        const exposedPorts: Record<string, object> = {}
        const portBindings: HostConfig['portBindings'] = {}
        for (const p of spec.hostPorts) {
          const key = `${p.targetPort}/${p.protocol}`
          exposedPorts[key] = {}
          portBindings[key] = [{ hostIp: '', hostPort: p.publishedPort ? String(p.publishedPort) : '' }]
        }
        const hc = spec.healthCheck
        const config = newContainerConfig({
          image: spec.image,
          labels: { ...spec.labels },
          env: [...spec.env],
          entrypoint: spec.entrypoint ? [...spec.entrypoint] : null,
          cmd: spec.cmd ? [...spec.cmd] : null,
          hostname: spec.hostname ?? '',
          workingDir: spec.workingDir ?? '',
          user: spec.user ?? '',
          tty: spec.tty,
          openStdin: spec.openStdin,
          exposedPorts,
          ...(spec.stopSignal ? { stopSignal: spec.stopSignal } : {}),
          ...(hc ? {
            healthcheck: {
              ...(hc.test ? { test: [...hc.test] } : {}),
              ...(hc.interval ? { interval: hc.interval } : {}),
              ...(hc.timeout ? { timeout: hc.timeout } : {}),
              ...(hc.startPeriod ? { startPeriod: hc.startPeriod } : {}),
              ...(hc.retries ? { retries: hc.retries } : {}),
            },
          } : {}),
        })
        const hostConfig = newHostConfig({
          restartPolicy: { name: 'no', maximumRetryCount: 0 },
          networkMode: networks.networkMode,
          init: spec.init ?? false,
          memory: spec.memoryBytes ?? 0,
          memoryReservation: spec.memoryReservationBytes ?? 0,
          nanoCpus: spec.nanoCpus ?? 0,
          pidsLimit: spec.pidsLimit ?? null,
          mounts: [...spec.mounts.map(wireMount), ...fileMounts],
          portBindings,
          readonlyRootfs: spec.readOnly ?? false,
          ...(spec.groups ? { groupAdd: [...spec.groups] } : {}),
          extraHosts: [...(spec.extraHosts ?? [])],
          dns: [...(spec.dns?.nameservers ?? [])],
          dnsSearch: [...(spec.dns?.search ?? [])],
          dnsOptions: [...(spec.dns?.options ?? [])],
          capAdd: [...(spec.capAdd ?? [])],
          capDrop: [...(spec.capDrop ?? [])],
          sysctls: { ...(spec.sysctls ?? {}) },
          ulimits: (spec.ulimits ?? []).map((u) => ({ ...u })),
          oomScoreAdj: spec.oomScoreAdj ?? 0,
        })
        const { id } = await svc.create({ name: spec.name, config, hostConfig, ...(networks.endpointsConfig ? { endpointsConfig: networks.endpointsConfig } : {}) })
        return id
      } catch (err) {
        await removeFiles(dir).catch((e: Error) => log(`swarm task ${spec.name}: ${e.message}`))
        for (const localId of ensured) await d.overlay?.release(localId).catch(() => undefined)
        throw err
      }
    },

    async startContainer(id: string): Promise<void> {
      await svc.start(id)
    },

    async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
      try {
        const rec = svc.resolve(id)
        if (!isUp(rec.state.status)) return
        await svc.stop(id, { timeout: timeoutSeconds })
      } catch (err) {
        if (!isKind(err, 'NotFound')) throw err
      }
    },

    async removeContainer(id: string): Promise<void> {
      const rec = svc.store.get(id)
      if (!rec) return
      try {
        await svc.remove(id, { force: true, volumes: true })
      } catch (err) {
        if (!isKind(err, 'NotFound')) throw err
      }
      const taskId = rec.config.labels[LABEL.taskId]
      if (taskId) await removeFiles(filesDir(taskId))
      if (d.overlay) {
        for (const localId of Object.keys(rec.endpointsConfig ?? {})) {
          await d.overlay.release(localId).catch((e: Error) => log(`swarm task ${rec.name}: releasing network ${localId}: ${e.message}`))
        }
      }
    },

    async inspectContainer(id: string): Promise<TaskContainer | undefined> {
      const rec = svc.store.get(id)
      return rec ? taskContainerOf(rec) : undefined
    },
  }
}
