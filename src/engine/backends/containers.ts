import type { Readable } from 'node:stream'
import { invalid, notImplemented } from '../../lib/errors.js'
import { parseTimestampNano } from '../../lib/filters.js'
import { archiveContainerPath, exportContainer, extractToContainer, statContainerPath } from '../containers/archive.js'
import { attachContainer, execStream, resizeContainer, resizeTerminal } from '../containers/attach.js'
import { containerChanges } from '../containers/changes.js'
import { listContainers, type ContainerFilterValues } from '../containers/list.js'
import { logAttributes } from '../containers/log-rotate.js'
import { readLogFrames } from '../containers/logs.js'
import { pruneContainers, type PruneValues } from '../containers/prune.js'
import type { ContainerService, CreateRequest, UpdateRequest } from '../containers/service.js'
import { containerStats } from '../containers/stats.js'
import { topContainer } from '../containers/top.js'
import type { ContainerRecord } from '../containers/types.js'
import type { EventBus } from '../events/bus.js'
import type { ExecConfig, ExecService } from '../exec/service.js'
import { commitContainer } from '../images/commit.js'
import type { ContainerConfigFields } from '../images/types.js'
import type { ImageService } from '../images/service.js'
import type { Procs } from '../../platform/procs.js'

export interface ContainerBackendDeps {
  containers: ContainerService
  images: ImageService
  exec: ExecService
  events: EventBus
  /** For top; the host's by default. */
  procs?: Procs
}

type ConsoleSize = { height: number; width: number }
const WAIT_CONDITIONS = ['not-running', 'next-exit', 'removed', '']
const isUp = (s: string) => s === 'running' || s === 'paused' || s === 'restarting'

/**
 * The API's ContainerBackend over the container, exec and image services: each method is one
 * verb of the container domain (list.ts, prune.ts, attach.ts, top.ts, archive.ts...).
 */
export function containerBackend(d: ContainerBackendDeps) {
  const svc = d.containers
  const withSize = async (rec: ContainerRecord, size: boolean) => (size ? { record: rec, size: await svc.sizes(rec) } : { record: rec })
  return {
    async list(opts: { all: boolean; limit: number; size: boolean; filters: ContainerFilterValues }) {
      const list = listContainers({
        all: () => svc.store.all(),
        resolve: (ref) => svc.resolve(ref),
        imageIdOf: (ref) => { try { return d.images.resolve(ref).record.id } catch { return undefined } },
      }, opts)
      return Promise.all(list.map((c) => withSize(c, opts.size)))
    },

    async create(req: CreateRequest & { platform?: string }) {
      const { platform, ...create } = req
      if (platform && !platform.startsWith('linux')) throw invalid('ERR_PLATFORM', `image with reference ${req.config.image} was found but does not match the specified platform: wanted ${platform}`)
      return svc.create(create)
    },

    async inspect(ref: string, opts: { size: boolean }) {
      const rec = svc.resolve(ref)
      return { container: await withSize(rec, opts.size), execIds: d.exec.idsOf(rec.id) }
    },

    async start(ref: string, opts: { signal: AbortSignal }): Promise<'started' | 'already-running'> {
      const done: string = await svc.start(ref, { signal: opts.signal })
      return done === 'started' ? 'started' : 'already-running'
    },

    stop: (ref: string, opts: { timeout?: number; signal?: string }) => svc.stop(ref, opts),
    restart: (ref: string, opts: { timeout?: number; signal?: string }) => svc.restart(ref, opts),
    kill: (ref: string, signal: string) => svc.kill(ref, signal),
    pause: (ref: string) => svc.pause(ref, true),
    unpause: (ref: string) => svc.pause(ref, false),

    async wait(ref: string, opts: { condition: string; signal: AbortSignal }) {
      if (!WAIT_CONDITIONS.includes(opts.condition)) throw invalid('ERR_INVALID_CONDITION', `invalid condition: "${opts.condition}"`)
      const rec = svc.resolve(ref)
      return { done: svc.wait(rec.id, opts.condition, opts.signal) }
    },

    remove: (ref: string, opts: { force: boolean; volumes: boolean }) => svc.remove(ref, opts),
    removeLink: (name: string) => svc.removeLink(name),
    rename: (ref: string, name: string) => svc.rename(ref, name),
    update: (ref: string, u: UpdateRequest) => svc.update(ref, u),
    resize: (ref: string, size: ConsoleSize) => resizeContainer(svc, ref, size.height, size.width),

    prune: (f: PruneValues) => pruneContainers({
      all: () => svc.store.all(),
      remove: (id) => svc.remove(id),
      size: (id) => svc.writableSize(svc.resolve(id)),
      emit: (action, attrs) => d.events.emit('container', action, '', attrs),
    }, f),

    top: async (ref: string, psArgs: string) => topContainer(svc.resolve(ref), psArgs, d.procs),

    async attach(ref: string, opts: { stdin: boolean; stdout: boolean; stderr: boolean; logs: boolean; stream: boolean; detachKeys: string }) {
      return attachContainer(svc, ref, opts)
    },

    async logs(ref: string, o: { stdout: boolean; stderr: boolean; follow: boolean; timestamps: boolean; details: boolean; since?: string; until?: string; tail?: number; signal: AbortSignal }) {
      const rec = svc.resolve(ref)
      if (rec.hostConfig.logConfig.type === 'none') throw notImplemented('ERR_LOGS_NOT_SUPPORTED', 'configured logging driver does not support reading')
      const toNano = (v: string | undefined) => (!v || v === '0' ? undefined : parseTimestampNano(v))
      const sinceNano = toNano(o.since)
      const untilNano = toNano(o.until)
      const tty = rec.config.tty
      const details = o.details ? logAttributes(rec) : undefined
      const chunks = readLogFrames(rec.logPath, {
        stdout: o.stdout, stderr: o.stderr,
        ...(sinceNano !== undefined ? { sinceNano } : {}),
        ...(untilNano !== undefined ? { untilNano } : {}),
        ...(o.tail !== undefined ? { tail: o.tail } : {}),
        follow: o.follow,
        signal: o.signal,
        stopped: () => !isUp(svc.store.get(rec.id)?.state.status ?? 'removed'),
      }, { raw: tty, timestamps: o.timestamps, ...(details !== undefined ? { details } : {}) })
      return { tty, chunks }
    },

    async stats(ref: string, opts: { stream: boolean; oneShot: boolean; signal: AbortSignal }) {
      const rec = svc.resolve(ref)
      return containerStats({ get: (id) => svc.store.get(id) }, rec.id, opts)
    },

    statPath: (ref: string, path: string) => statContainerPath(svc, ref, path),
    archivePath: (ref: string, path: string, send: Parameters<typeof archiveContainerPath>[3], signal: AbortSignal) => archiveContainerPath(svc, ref, path, send, signal),
    extractTo: (ref: string, path: string, body: AsyncIterable<Buffer>, opts: { noOverwriteDirNonDir: boolean; copyUIDGID: boolean; signal: AbortSignal }) => extractToContainer(svc, ref, path, body, opts),
    changes: async (ref: string) => containerChanges(svc.layerPaths(svc.resolve(ref))),
    export: (ref: string, send: (tar: Readable) => Promise<void>, signal: AbortSignal) => exportContainer(svc, ref, send, signal),

    async commit(req: { container: string; repo: string; tag: string; comment: string; author: string; pause: boolean; changes: string[]; config?: ContainerConfigFields; signal: AbortSignal }): Promise<string> {
      const { container, ...opts } = req
      return commitContainer(svc, d.images, container, opts)
    },

    execCreate: async (ref: string, config: ExecConfig) => d.exec.create(ref, config),

    async execInspect(id: string) {
      const s = d.exec.get(id)
      return { id: s.id, containerId: s.containerId, running: s.running, exitCode: s.exitCode, pid: s.pid, config: s.config }
    },

    async execResize(id: string, size: ConsoleSize) {
      const s = d.exec.get(id)
      if (!s.running) return
      await resizeTerminal(d.exec.controlPath(s.id), size.height, size.width)
    },

    async execStartDetached(id: string, opts: { consoleSize?: ConsoleSize }) {
      const s = d.exec.get(id)
      await d.exec.start(s.id, opts.consoleSize ? { consoleSize: opts.consoleSize } : {})
    },

    execStream: async (id: string, opts: { consoleSize?: ConsoleSize }) => execStream(d.exec, id, opts),
  }
}

