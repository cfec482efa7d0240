/**
 * docker commit: a new image from a container's changes. The upper dir's reported changes (see
 * containers/changes.ts) become one layer tar, overlay whiteouts written back as `.wh.` entries;
 * the tar is stored as a blob and unpacked as a layer on top of the container's image, and the
 * config is the container's (or the caller's) with `--change` instructions applied and Docker's
 * merge with the container config.
 */
import { createReadStream } from 'node:fs'
import { readlink } from 'node:fs/promises'
import { posix } from 'node:path'
import * as tarStream from 'tar-stream'
import { chainIds, sha256, type Digest } from '../../lib/digest.js'
import { invalid, notFound } from '../../lib/errors.js'
import { Rollback } from '../../lib/rollback.js'
import { familiarString, isValidTag, parseNormalizedNamed, referenceString, tagNameOnly, withTag, type Reference } from '../../distribution/reference.js'
import type { ContainerService } from '../containers/service.js'
import type { ContainerConfig, ContainerRecord } from '../containers/types.js'
import { upperChanges, type UpperEntry } from '../containers/changes.js'
import { applyChanges } from './changes.js'
import { labelsOf } from './load.js'
import type { ImageService } from './service.js'
import { MEDIA_TYPE_LAYER, type ContainerConfigFields, type HistoryEntry, type ImageConfigFile, type ImageRecord } from './types.js'

export interface CommitOptions {
  repo?: string
  tag?: string
  comment?: string
  author?: string
  /** Pause a running container while its changes are read (Docker's default). */
  pause?: boolean
  /** Dockerfile instructions (`--change`). */
  changes?: string[]
  /** Replaces the container's config as the base of the image's (the API body). */
  config?: ContainerConfigFields
  signal?: AbortSignal
}

/** The diff ID of a tar with no entries: Docker's empty layer. */
const EMPTY = Buffer.alloc(0)

export const EMPTY_LAYER_DIFF_ID = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef'

/** A container's config in the image config's (PascalCase) form, as Docker stores container_config. */
export function imageConfigOf(c: ContainerConfig): ContainerConfigFields {
  return {
    Hostname: c.hostname, Domainname: c.domainname, User: c.user,
    AttachStdin: c.attachStdin, AttachStdout: c.attachStdout, AttachStderr: c.attachStderr,
    ...(Object.keys(c.exposedPorts).length ? { ExposedPorts: c.exposedPorts } : {}),
    Tty: c.tty, OpenStdin: c.openStdin, StdinOnce: c.stdinOnce,
    Env: c.env, Cmd: c.cmd,
    ...(c.healthcheck ? { Healthcheck: { Test: c.healthcheck.test, Interval: c.healthcheck.interval, Timeout: c.healthcheck.timeout, StartPeriod: c.healthcheck.startPeriod, StartInterval: c.healthcheck.startInterval, Retries: c.healthcheck.retries } } : {}),
    ...(c.argsEscaped ? { ArgsEscaped: true } : {}),
    Image: c.image, ...(Object.keys(c.volumes).length ? { Volumes: c.volumes } : {}), WorkingDir: c.workingDir,
    Entrypoint: c.entrypoint, OnBuild: c.onBuild, Labels: c.labels,
    ...(c.stopSignal ? { StopSignal: c.stopSignal } : {}),
    ...(c.shell ? { Shell: c.shell } : {}),
  }
}

/** Docker's commit merge: what the user config leaves empty comes from the container's. */
export function mergeConfig(user: ContainerConfigFields, base: ContainerConfigFields): ContainerConfigFields {
  const u: ContainerConfigFields = structuredClone(user)
  if (!u.User) u.User = base.User ?? ''
  if (!u.ExposedPorts || Object.keys(u.ExposedPorts).length === 0) u.ExposedPorts = base.ExposedPorts
  else for (const p of Object.keys(base.ExposedPorts ?? {})) u.ExposedPorts[p] ??= {}
  if (!u.Env || u.Env.length === 0) u.Env = base.Env ?? []
  else {
    const keys = new Set(u.Env.map((e) => e.split('=')[0]))
    for (const e of base.Env ?? []) if (!keys.has(e.split('=')[0])) u.Env.push(e)
  }
  u.Labels = { ...(base.Labels ?? {}), ...(u.Labels ?? {}) }
  if (!u.Entrypoint || u.Entrypoint.length === 0) {
    if (!u.Cmd || u.Cmd.length === 0) {
      u.Cmd = base.Cmd ?? null
      if (base.ArgsEscaped) u.ArgsEscaped = base.ArgsEscaped
    }
    if (u.Entrypoint === undefined || u.Entrypoint === null) u.Entrypoint = base.Entrypoint ?? null
  }
  if (base.Healthcheck) {
    if (!u.Healthcheck) u.Healthcheck = base.Healthcheck
    else {
      const h = { ...u.Healthcheck }
      if (!h.Test || h.Test.length === 0) h.Test = base.Healthcheck.Test
      if (!h.Interval) h.Interval = base.Healthcheck.Interval
      if (!h.Timeout) h.Timeout = base.Healthcheck.Timeout
      if (!h.StartPeriod) h.StartPeriod = base.Healthcheck.StartPeriod
      if (!h.Retries) h.Retries = base.Healthcheck.Retries
      u.Healthcheck = h
    }
  }
  if (!u.WorkingDir) u.WorkingDir = base.WorkingDir ?? ''
  if (!u.Volumes || Object.keys(u.Volumes).length === 0) u.Volumes = base.Volumes
  else u.Volumes = { ...u.Volumes, ...(base.Volumes ?? {}) }
  if (!u.StopSignal && base.StopSignal) u.StopSignal = base.StopSignal
  for (const k of Object.keys(u)) if (u[k] === undefined) delete u[k]
  return u
}

function parseTarget(repo: string | undefined, tag: string | undefined): Reference | undefined {
  if (!repo) {
    if (tag) throw invalid('ERR_INVALID_REFERENCE', 'invalid reference format: repository name must be given with a tag')
    return undefined
  }
  let ref = parseNormalizedNamed(repo)
  if (ref.digest !== undefined) throw invalid('ERR_INVALID_REFERENCE', 'refusing to create a tag with a digest reference')
  if (tag) {
    if (!isValidTag(tag)) throw invalid('ERR_INVALID_TAG', 'invalid tag format')
    ref = withTag(ref, tag)
  }
  return tagNameOnly(ref)
}

/** Write the reported changes of an upper dir as a layer tar (whiteouts as `.wh.` entries). */
async function packChanges(upper: string, entries: UpperEntry[], pack: tarStream.Pack): Promise<void> {
  const links = new Map<string, string>()
  // Entries without data still get an empty buffer: an entry without one waits for its stream to end.
  const add = (header: Partial<tarStream.Header> & { name: string }) => new Promise<void>((resolve, reject) => pack.entry(header as tarStream.Header, EMPTY, (err) => (err ? reject(err) : resolve())))
  for (const e of entries) {
    const name = e.path.slice(1)
    const st = e.stat
    const common = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime }
    if (e.whiteout) {
      await add({ name: posix.join(posix.dirname(name), `.wh.${posix.basename(name)}`), type: 'file', size: 0, mode: 0o644, mtime: st.mtime })
    } else if (st.isDirectory()) {
      await add({ ...common, name: `${name}/`, type: 'directory' })
      if (e.opaque) await add({ name: `${name}/.wh..wh..opq`, type: 'file', size: 0, mode: 0o644, mtime: st.mtime })
    } else if (st.isSymbolicLink()) {
      await add({ ...common, name, type: 'symlink', linkname: await readlink(upper + e.path) })
    } else if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`
      const first = st.nlink > 1 ? links.get(key) : undefined
      if (first !== undefined) {
        await add({ ...common, name, type: 'link', linkname: first })
        continue
      }
      if (st.nlink > 1) links.set(key, name)
      await new Promise<void>((resolve, reject) => {
        const entry = pack.entry({ ...common, name, type: 'file', size: st.size } as tarStream.Header, (err) => (err ? reject(err) : resolve()))
        const src = createReadStream(upper + e.path)
        src.on('error', (err) => { entry.destroy(err); reject(err) })
        src.pipe(entry)
      })
    } else if (st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO()) {
      const major = (st.rdev >> 8) & 0xfff
      const minor = (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00)
      await add({ ...common, name, type: st.isFIFO() ? 'fifo' : st.isCharacterDevice() ? 'character-device' : 'block-device', devmajor: major, devminor: minor })
    }
    // Sockets are not archived, as Docker skips them.
  }
  pack.finalize()
}

/**
 * POST /commit. Returns the new image's ID. A running container is paused while its changes
 * are read unless `pause` is false.
 */
export async function commitContainer(containers: ContainerService, images: ImageService, ref: string, opts: CommitOptions = {}): Promise<Digest> {
  const target = parseTarget(opts.repo, opts.tag)
  const rec: ContainerRecord = containers.resolve(ref)
  const parent = images.store.get(rec.imageId)
  if (!parent) throw notFound('ERR_IMAGE_NOT_FOUND', `No such image: ${rec.imageId} (the image of container ${rec.name} was removed)`)
  const containerConfig = imageConfigOf(rec.config)
  const newConfig = mergeConfig(applyChanges(opts.config ?? containerConfig, opts.changes ?? []), containerConfig)
  let paused = false
  if (opts.pause !== false && rec.state.status === 'running') {
    // As Docker: only a running container is paused; one that has just exited (between the
    // look and the pause) is committed as it is, like any stopped container.
    try {
      await containers.pause(rec.id, true)
      paused = true
    } catch (err) {
      // The runtime may see the process gone before its exit is recorded: give that a moment.
      for (let i = 0; i < 100 && rec.state.status === 'running'; i++) await new Promise((r) => setTimeout(r, 20))
      if (rec.state.status === 'running' || rec.state.status === 'paused') throw err
    }
  }
  const { deps } = images
  const rb = new Rollback((e) => deps.log(`commit rollback: ${String(e)}`))
  const lease = deps.content.lease()
  try {
    const paths = containers.layerPaths(rec)
    const entries = await upperChanges(paths.upper, paths.lower)
    const writer = deps.content.writer(lease)
    rb.defer(() => writer.abort())
    const ex = await deps.layers.extractor()
    rb.defer(() => ex.abort())
    const pack = tarStream.pack()
    const producing = packChanges(paths.upper, entries, pack).catch((err: Error) => { pack.destroy(err); throw err })
    for await (const chunk of pack as AsyncIterable<Buffer>) {
      if (opts.signal?.aborted) throw opts.signal.reason
      await writer.write(chunk)
      await ex.write(chunk)
    }
    await producing
    const staged = await ex.finish()
    rb.defer(() => deps.layers.discard(staged))
    const emptyLayer = staged.diffId === EMPTY_LAYER_DIFF_ID
    const created = new Date().toISOString()
    const pc = parent.config
    const history: HistoryEntry = {
      created,
      ...(opts.author ? { author: opts.author } : {}),
      created_by: (rec.config.cmd ?? []).join(' '),
      ...(opts.comment ? { comment: opts.comment } : {}),
      ...(emptyLayer ? { empty_layer: true } : {}),
    }
    const config: ImageConfigFile = {
      architecture: pc.architecture ?? deps.platform.architecture,
      ...(pc.variant ? { variant: pc.variant } : {}),
      os: pc.os ?? deps.platform.os,
      ...(opts.author ? { author: opts.author } : {}),
      ...(opts.comment ? { comment: opts.comment } : {}),
      created,
      container: rec.id,
      container_config: containerConfig,
      config: newConfig,
      rootfs: { type: 'layers', diff_ids: [...(pc.rootfs?.diff_ids ?? []), ...(emptyLayer ? [] : [staged.diffId])] },
      history: [...(pc.history ?? []), history],
    }
    const configBytes = Buffer.from(JSON.stringify(config))
    const id = sha256(configBytes)
    const parentTop = parent.record.layers.at(-1)
    const layers = [...parent.record.layers]
    const blobs = [...parent.record.blobs]
    let size = parent.record.size
    let release = () => {}
    if (emptyLayer) {
      await writer.abort()
      await deps.layers.discard(staged)
    } else {
      const blob = await writer.commit()
      const chain = parentTop ? chainIds([parentTop, staged.diffId])[1]! : staged.diffId as Digest
      // Parent chain IDs combine as chainIds does for diff IDs: the chain of the new layer over the parent's top.
      release = deps.store.lease([...layers, chain])
      const layer = await deps.layers.commit(staged, parentTop)
      layers.push(layer.chainId)
      blobs.push({ digest: blob.digest, size: blob.size, mediaType: MEDIA_TYPE_LAYER })
      size += layer.size
    }
    try {
      await deps.content.put(configBytes, id, lease)
      const record: ImageRecord = { id, layers, blobs, parent: parent.record.id, size, loadedAt: created }
      await deps.store.put(record, config)
    } finally {
      release()
    }
    rb.commit()
    let imageRef = ''
    if (target) {
      deps.store.setRef(referenceString(target), id)
      await deps.store.persistRefs()
      imageRef = familiarString(target)
      deps.events.emit('image', 'tag', id, { name: imageRef, ...labelsOf(config) })
    }
    deps.events.emit('container', 'commit', rec.id, { ...rec.config.labels, image: rec.imageRef, name: rec.name, comment: opts.comment ?? '', imageID: id, imageRef })
    return id
  } finally {
    await rb.close()
    lease.release()
    if (paused) await containers.pause(rec.id, false).catch((e) => deps.log(`unpause ${rec.id} after commit: ${String(e)}`))
  }
}
