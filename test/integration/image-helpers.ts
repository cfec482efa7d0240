/**
 * Helpers shared by the image integration suites: building layer tars and image archives in
 * memory, and looking at a data root for what a failed or interrupted operation left behind.
 */
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import tarStream from 'tar-stream'
import { isNotFoundErrno } from '../../src/lib/errors.js'
import { api, isRoot, type DaemonHandle } from './harness.js'

/** A suite that needs root: described when root, otherwise one test that skips explicitly. */
export function rootSuite(name: string, fn: () => void): void {
  if (isRoot) describe(name, fn)
  else test(name, (t) => t.skip('needs root'))
}

/** The real docker CLI is on PATH (the compatibility proof; not installed by set-up). */
export const hasDockerCli = spawnSync('docker', ['--version'], { stdio: 'ignore' }).status === 0

/** A suite that drives the real docker CLI as root: skips explicitly when either is missing. */
export function dockerSuite(name: string, fn: () => void): void {
  if (!hasDockerCli) test(name, (t) => t.skip('the docker CLI is not installed'))
  else rootSuite(name, fn)
}

export interface TarSpec {
  name: string
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device'
  data?: Buffer | string
  linkname?: string
  mode?: number
}

/** A tar archive of `entries`, in order, as a Buffer. */
export async function makeTar(entries: TarSpec[]): Promise<Buffer> {
  const pack = tarStream.pack()
  const chunks: Buffer[] = []
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer)
  })()
  const mtime = new Date('2024-01-01T00:00:00Z')
  for (const e of entries) {
    const type = e.type ?? 'file'
    const data = type === 'file' ? Buffer.from(e.data ?? '') : undefined
    await new Promise<void>((resolve, reject) => {
      const header = {
        name: e.name,
        type,
        mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
        uid: 0,
        gid: 0,
        mtime,
        ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
        ...(data ? { size: data.length } : {}),
      }
      const cb = (err?: Error | null) => (err ? reject(err) : resolve())
      if (data) pack.entry(header, data, cb)
      else pack.entry(header, cb)
    })
  }
  pack.finalize()
  await done
  return Buffer.concat(chunks)
}

export const sha256hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex')

export interface ArchiveImage {
  layers: Buffer[]
  tag?: string
  /** Extra fields of the image config (`config`, `created`...). */
  config?: Record<string, unknown>
  /** Override the diff IDs written in the config (to make a mismatch). */
  diffIds?: string[]
}

/** A `docker save`-style archive (manifest.json, config, one file per layer). */
export async function makeImageArchive(images: ArchiveImage[]): Promise<{ archive: Buffer; ids: string[] }> {
  const entries: TarSpec[] = []
  const manifest: Array<{ Config: string; RepoTags: string[] | null; Layers: string[] }> = []
  const ids: string[] = []
  const seen = new Set<string>()
  for (const img of images) {
    const diffIds = img.diffIds ?? img.layers.map((l) => `sha256:${sha256hex(l)}`)
    const config = {
      architecture: 'amd64',
      os: 'linux',
      created: '2024-01-02T00:00:00Z',
      config: { Cmd: ['sh'] },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: img.layers.map(() => ({ created: '2024-01-02T00:00:00Z', created_by: 'test layer' })),
      ...img.config,
    }
    const configBytes = Buffer.from(JSON.stringify(config))
    const id = sha256hex(configBytes)
    ids.push(`sha256:${id}`)
    const layerNames: string[] = []
    for (const l of img.layers) {
      const name = `blobs/sha256/${sha256hex(l)}`
      layerNames.push(name)
      if (!seen.has(name)) { seen.add(name); entries.push({ name, data: l }) }
    }
    entries.push({ name: `blobs/sha256/${id}`, data: configBytes })
    manifest.push({ Config: `blobs/sha256/${id}`, RepoTags: img.tag ? [img.tag] : null, Layers: layerNames })
  }
  entries.push({ name: 'manifest.json', data: JSON.stringify(manifest) })
  return { archive: await makeTar(entries), ids }
}

async function list(dir: string): Promise<string[]> {
  try {
    return await readdir(dir)
  } catch (err) {
    if (isNotFoundErrno(err)) return []
    throw err
  }
}

export interface StoreSnapshot {
  blobs: string[]
  /** Published layer directories (chain IDs). */
  layers: string[]
  /** Top-level entries of `layers/` that are temp dirs. */
  layerTmp: string[]
  ingest: string[]
  trash: string[]
  records: string[]
}

/** What is in a data root's content, layer and image stores. */
export async function snapshotStore(dataRoot: string): Promise<StoreSnapshot> {
  const layerNames = await list(join(dataRoot, 'layers'))
  return {
    blobs: (await list(join(dataRoot, 'content', 'sha256'))).sort(),
    layers: layerNames.filter((n) => /^[a-f0-9]{64}$/.test(n)).sort(),
    layerTmp: layerNames.filter((n) => n.startsWith('.berth-tmp-')),
    ingest: await list(join(dataRoot, 'content', 'ingest')),
    trash: await list(join(dataRoot, 'layers', '.trash')),
    records: (await list(join(dataRoot, 'images', 'records'))).sort(),
  }
}

/** Every path under `root` whose name starts with `.berth-tmp-` (like `find root -name '.berth-tmp-*'`). */
export async function findTmpEntries(root: string): Promise<string[]> {
  const out: string[] = []
  const walk = async (dir: string): Promise<void> => {
    let ents
    try {
      ents = await readdir(dir, { withFileTypes: true })
    } catch (err) {
      if (isNotFoundErrno(err) || (err as { code?: string }).code === 'ENOTDIR') return
      throw err
    }
    for (const e of ents) {
      const p = join(dir, e.name)
      if (e.name.startsWith('.berth-tmp-')) out.push(p)
      if (e.isDirectory()) await walk(p)
    }
  }
  await walk(root)
  return out
}

/** Poll until `check` returns true (or throw after `ms`). */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, ms = 10_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + ms
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}

/** Image IDs the daemon lists (all=1), sorted. */
export async function listedIds(h: DaemonHandle): Promise<string[]> {
  const r = await api(h, 'GET', '/images/json?all=1')
  if (r.status !== 200) throw new Error(`/images/json: ${r.status} ${r.body.toString()}`)
  return (r.json() as Array<{ Id: string }>).map((i) => i.Id).sort()
}

/** Wait for the layer trash to be purged, then return a snapshot. */
export async function settledSnapshot(dataRoot: string): Promise<StoreSnapshot> {
  await waitFor('layers/.trash to be empty', async () => (await snapshotStore(dataRoot)).trash.length === 0)
  return snapshotStore(dataRoot)
}
