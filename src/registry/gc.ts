import { readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { isNotFoundErrno } from '../lib/errors.js'
import { parseManifest } from './manifest.js'
import { isDigest, isTag } from './names.js'
import type { Storage } from './storage.js'

/**
 * Online garbage collection. Mark: every tagged manifest, every manifest younger than the
 * grace period, what indexes reference, and manifests whose subject is kept, are kept with
 * their blobs. Sweep: revisions and layer links nothing keeps and older than the grace
 * period are unlinked; blobs nothing links are moved to gc-trash/, then restored if a
 * manifest push held them (gc-holds/), a new manifest referenced them, or a mount/upload
 * touched them meanwhile; the rest deleted. Uploads untouched for `uploadMaxAge` are removed.
 */
export interface GcOptions {
  /** Nothing younger than this (ms) is collected: blobs pushed before their manifest. */
  graceMs: number
  uploadMaxAgeMs: number
  dryRun?: boolean
}

export interface GcPlan {
  revisions: Array<{ repo: string; digest: string }>
  layerLinks: Array<{ repo: string; digest: string }>
  blobs: Array<{ digest: string; size: number }>
  uploads: string[]
  toString(): string
}

interface RepoState { name: string; tags: Map<string, string>; revisions: Map<string, number>; layers: Map<string, number> }

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir)
  } catch (err) {
    if (isNotFoundErrno(err)) return []
    throw err
  }
}

async function digestFiles(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  for (const alg of await listDir(dir)) {
    for (const hex of await listDir(join(dir, alg))) {
      const d = `${alg}:${hex}`
      if (!isDigest(d)) continue
      const st = await stat(join(dir, alg, hex)).catch(() => undefined)
      if (st) out.set(d, st.mtimeMs)
    }
  }
  return out
}

async function observe(s: Storage): Promise<RepoState[]> {
  const repos: RepoState[] = []
  for (const name of await s.listRepositories()) {
    const tags = new Map<string, string>()
    for (const t of await listDir(join(s.repoDir(name), '_manifests', 'tags'))) {
      if (!isTag(t)) continue
      const d = (await readFile(s.tagFile(name, t), 'utf8').catch(() => '')).trim()
      if (isDigest(d)) tags.set(t, d)
    }
    repos.push({ name, tags, revisions: await digestFiles(join(s.repoDir(name), '_manifests', 'revisions')), layers: await digestFiles(join(s.repoDir(name), '_layers')) })
  }
  return repos
}

async function manifestRefs(s: Storage, digest: string): Promise<{ blobs: string[]; manifests: string[]; subject?: string }> {
  try {
    const m = parseManifest(await readFile(s.blobPath(digest)), undefined)
    return { blobs: m.blobs, manifests: m.manifests, ...(m.subject ? { subject: m.subject.digest } : {}) }
  } catch {
    return { blobs: [], manifests: [] }
  }
}

/** Compute what a collection would delete (pure apart from reading the store). */
export async function planGc(s: Storage, opts: GcOptions, now = Date.now()): Promise<GcPlan & { keep: Set<string> }> {
  const repos = await observe(s)
  const keep = new Set<string>()
  const plan = { revisions: [] as GcPlan['revisions'], layerLinks: [] as GcPlan['layerLinks'], blobs: [] as GcPlan['blobs'], uploads: [] as string[] }
  const young = (mtime: number) => now - mtime < opts.graceMs
  for (const r of repos) {
    const keptManifests = new Set<string>()
    const queue: string[] = []
    for (const d of r.tags.values()) if (r.revisions.has(d)) queue.push(d)
    for (const [d, mtime] of r.revisions) if (young(mtime)) queue.push(d)
    const refs = new Map<string, Awaited<ReturnType<typeof manifestRefs>>>()
    for (const d of r.revisions.keys()) refs.set(d, await manifestRefs(s, d))
    const keptBlobs = new Set<string>()
    const mark = () => {
      while (queue.length) {
        const d = queue.pop()!
        if (keptManifests.has(d)) continue
        keptManifests.add(d)
        const ref = refs.get(d)
        for (const b of ref?.blobs ?? []) keptBlobs.add(b)
        for (const m of ref?.manifests ?? []) if (r.revisions.has(m)) queue.push(m)
      }
    }
    for (;;) {
      mark()
      // Referrers of kept manifests are kept too (signatures, SBOMs).
      const more = [...r.revisions.keys()].filter((d) => !keptManifests.has(d) && refs.get(d)?.subject && keptManifests.has(refs.get(d)!.subject!))
      if (!more.length) break
      queue.push(...more)
    }
    for (const d of r.revisions.keys()) if (!keptManifests.has(d)) plan.revisions.push({ repo: r.name, digest: d })
    for (const [d, mtime] of r.layers) {
      if (keptBlobs.has(d) || young(mtime)) keptBlobs.add(d)
      else plan.layerLinks.push({ repo: r.name, digest: d })
    }
    for (const d of keptManifests) keep.add(d)
    for (const d of keptBlobs) keep.add(d)
  }
  for (const hold of await listDir(join(s.root, 'gc-holds'))) {
    for (const d of JSON.parse(await readFile(join(s.root, 'gc-holds', hold), 'utf8').catch(() => '[]')) as string[]) keep.add(d)
  }
  for (const alg of await listDir(join(s.root, 'blobs'))) {
    for (const pre of await listDir(join(s.root, 'blobs', alg))) {
      for (const hex of await listDir(join(s.root, 'blobs', alg, pre))) {
        const d = `${alg}:${hex}`
        if (!isDigest(d) || keep.has(d)) continue
        const st = await stat(join(s.root, 'blobs', alg, pre, hex)).catch(() => undefined)
        if (st && !young(st.mtimeMs)) plan.blobs.push({ digest: d, size: st.size })
      }
    }
  }
  for (const u of await listDir(join(s.root, 'uploads'))) {
    const st = await stat(join(s.root, 'uploads', u, 'data')).catch(() => stat(join(s.root, 'uploads', u)).catch(() => undefined))
    if (st && now - st.mtimeMs > opts.uploadMaxAgeMs) plan.uploads.push(u)
  }
  return {
    ...plan, keep,
    toString() {
      const lines = [
        ...plan.revisions.map((r) => `manifest ${r.repo}@${r.digest}: untagged, referenced by nothing`),
        ...plan.layerLinks.map((r) => `layer link ${r.repo}@${r.digest}: referenced by no manifest of the repository`),
        ...plan.blobs.map((b) => `blob ${b.digest} (${b.size} bytes): linked from no repository`),
        ...plan.uploads.map((u) => `upload ${u}: abandoned`),
      ]
      return lines.length ? lines.join('\n') : 'nothing to collect'
    },
  }
}

export interface GcResult { plan: GcPlan; deletedBlobs: number; freedBytes: number; restored: number }

/** Plan, then collect; safe while the server takes pushes and pulls (see the contract above). */
export async function collectGarbage(s: Storage, opts: GcOptions): Promise<GcResult> {
  const start = Date.now()
  const plan = await planGc(s, opts, start)
  if (opts.dryRun) return { plan, deletedBlobs: 0, freedBytes: 0, restored: 0 }
  for (const r of plan.revisions) {
    const path = s.revisionLink(r.repo, r.digest)
    // Pushed again since the mark: keep it.
    const st = await stat(path).catch(() => undefined)
    if (!st || st.mtimeMs >= start) continue
    await unlink(path).catch(() => undefined)
    s.forgetCached(r.digest)
    const refs = await manifestRefs(s, r.digest)
    if (refs.subject) await rm(join(s.referrersDir(r.repo, refs.subject), `${r.digest.replace(':', '-')}`), { force: true })
  }
  for (const l of plan.layerLinks) {
    const path = s.layerLink(l.repo, l.digest)
    const st = await stat(path).catch(() => undefined)
    if (st && st.mtimeMs < start) await unlink(path).catch(() => undefined)
  }
  const trashDir = join(s.root, 'gc-trash')
  const trashed: Array<{ digest: string; size: number; path: string }> = []
  for (const b of plan.blobs) {
    const path = join(trashDir, `${b.digest.replace(':', '-')}.${randomBytes(4).toString('hex')}`)
    try {
      await rename(s.blobPath(b.digest), path)
      trashed.push({ ...b, path })
    } catch (err) {
      if (!isNotFoundErrno(err)) throw err
    }
  }
  // What became referenced while we marked: held by a manifest push, or in a manifest pushed since.
  const wanted = new Set<string>()
  for (const hold of await listDir(join(s.root, 'gc-holds'))) {
    for (const d of JSON.parse(await readFile(join(s.root, 'gc-holds', hold), 'utf8').catch(() => '[]')) as string[]) wanted.add(d)
  }
  for (const name of await s.listRepositories()) {
    for (const [d, mtime] of await digestFiles(join(s.repoDir(name), '_manifests', 'revisions'))) {
      if (mtime < start) continue
      wanted.add(d)
      const refs = await manifestRefs(s, d)
      for (const x of [...refs.blobs, ...refs.manifests]) wanted.add(x)
    }
    for (const [d, mtime] of await digestFiles(join(s.repoDir(name), '_layers'))) if (mtime >= start) wanted.add(d)
  }
  let restored = 0
  let deletedBlobs = 0
  let freedBytes = 0
  for (const t of trashed) {
    const st = await stat(t.path)
    if (wanted.has(t.digest) || st.mtimeMs >= start) {
      // A fresh copy may already be in place (an upload finished meanwhile): same content either way.
      await rename(t.path, s.blobPath(t.digest))
      restored++
      continue
    }
    await unlink(t.path)
    s.forgetCached(t.digest)
    deletedBlobs++
    freedBytes += t.size
  }
  for (const u of plan.uploads) await rm(join(s.root, 'uploads', u), { recursive: true, force: true })
  return { plan, deletedBlobs, freedBytes, restored }
}

/** Durations as in the config: 90s, 10m, 1h, 2d, or milliseconds as a number. */
export function parseDuration(v: string | number): number {
  if (typeof v === 'number') return v
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(v.trim())
  if (!m) throw new Error(`invalid duration ${JSON.stringify(v)}: use e.g. 30s, 10m, 1h`)
  const mult = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms']
  return Number(m[1]) * mult
}
