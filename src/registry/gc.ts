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

async function manifestRefs(s: Storage, digest: string, trashed?: Map<string, string>): Promise<{ blobs: string[]; manifests: string[]; subject?: string }> {
  try {
    // A manifest pushed while we collect may have had its own blob moved to the trash meanwhile.
    const body = await readFile(s.blobPath(digest)).catch((err: unknown) => {
      const t = trashed?.get(digest)
      if (t && isNotFoundErrno(err)) return readFile(t)
      throw err
    })
    const m = parseManifest(body, undefined)
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
  for (const h of await readHolds(s)) for (const d of h.digests) keep.add(d)
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

async function readHolds(s: Storage): Promise<Array<{ repo: string; digests: string[] }>> {
  const out: Array<{ repo: string; digests: string[] }> = []
  for (const f of await listDir(join(s.root, 'gc-holds'))) {
    if (f.startsWith('.')) continue
    const h = JSON.parse(await readFile(join(s.root, 'gc-holds', f), 'utf8').catch(() => 'null')) as { repo: string; digests: string[] } | null
    if (h && Array.isArray(h.digests)) out.push(h)
  }
  return out
}

/**
 * Plan, then collect; safe while the server takes pushes and pulls. Every candidate (revision
 * link, layer link, blob) is first moved to gc-trash/ in one rename, so it vanishes atomically;
 * then what became wanted meanwhile is computed (GC holds of manifest pushes, revisions and
 * layer links written since the start, files touched since the start) and put back; the rest
 * is deleted. A manifest push holds its references before it checks that they exist, so
 * either it saw a candidate after the move (and answers MANIFEST_BLOB_UNKNOWN) or its hold
 * is seen here and the candidate restored.
 */
export async function collectGarbage(s: Storage, opts: GcOptions): Promise<GcResult> {
  const start = Date.now() - 1
  const plan = await planGc(s, opts, start)
  if (opts.dryRun) return { plan, deletedBlobs: 0, freedBytes: 0, restored: 0 }
  const trashDir = join(s.root, 'gc-trash')
  const tag = () => randomBytes(4).toString('hex')
  type Trashed = { repo?: string; digest: string; size?: number; from: string; path: string }
  const moveToTrash = async (from: string, t: Omit<Trashed, 'from' | 'path'>, out: Trashed[]) => {
    const path = join(trashDir, `${t.digest.replace(':', '-')}.${tag()}`)
    try {
      await rename(from, path)
      out.push({ ...t, from, path })
    } catch (err) {
      if (!isNotFoundErrno(err)) throw err
    }
  }
  const revisions: Trashed[] = []
  const links: Trashed[] = []
  const blobs: Trashed[] = []
  for (const r of plan.revisions) await moveToTrash(s.revisionLink(r.repo, r.digest), r, revisions)
  for (const l of plan.layerLinks) await moveToTrash(s.layerLink(l.repo, l.digest), l, links)
  for (const b of plan.blobs) await moveToTrash(s.blobPath(b.digest), b, blobs)
  // What became wanted while we marked and moved.
  const wantedIn = new Set<string>()
  const wanted = new Set<string>()
  const want = (repo: string, d: string) => { wantedIn.add(`${repo}\0${d}`); wanted.add(d) }
  for (const h of await readHolds(s)) for (const d of h.digests) want(h.repo, d)
  const trashedBlobs = new Map(blobs.map((t) => [t.digest, t.path]))
  for (const name of await s.listRepositories()) {
    const fresh = new Set<string>()
    for (const [d, mtime] of await digestFiles(join(s.repoDir(name), '_manifests', 'revisions'))) if (mtime >= start) fresh.add(d)
    // What the tags point at now (a push may have tagged a revision the mark saw untagged).
    for (const t of await listDir(join(s.repoDir(name), '_manifests', 'tags'))) {
      const d = (await readFile(s.tagFile(name, t), 'utf8').catch(() => '')).trim()
      if (isDigest(d)) fresh.add(d)
    }
    for (const d of fresh) {
      want(name, d)
      const refs = await manifestRefs(s, d, trashedBlobs)
      for (const x of [...refs.blobs, ...refs.manifests]) want(name, x)
    }
    for (const [d, mtime] of await digestFiles(join(s.repoDir(name), '_layers'))) if (mtime >= start) want(name, d)
  }
  let restored = 0
  const restore = async (t: Trashed) => {
    await rename(t.path, t.from)
    restored++
  }
  const fresh = async (t: Trashed) => (await stat(t.path)).mtimeMs >= start
  const goneRevisions: Trashed[] = []
  for (const t of revisions) {
    if (wantedIn.has(`${t.repo}\0${t.digest}`) || (await fresh(t))) {
      await restore(t)
      const refs = await manifestRefs(s, t.digest, trashedBlobs)
      for (const x of [...refs.blobs, ...refs.manifests]) want(t.repo!, x)
    } else goneRevisions.push(t)
  }
  for (const t of links) {
    if (wantedIn.has(`${t.repo}\0${t.digest}`) || (await fresh(t))) await restore(t)
    else await unlink(t.path)
  }
  let deletedBlobs = 0
  let freedBytes = 0
  for (const t of blobs) {
    if (wanted.has(t.digest) || (await fresh(t))) {
      // A fresh copy may already be in place (an upload finished meanwhile): same content either way.
      await restore(t)
      continue
    }
    await unlink(t.path)
    s.forgetCached(t.digest)
    deletedBlobs++
    freedBytes += t.size ?? 0
  }
  for (const t of goneRevisions) {
    const refs = await manifestRefs(s, t.digest).catch(() => ({ subject: undefined }))
    await unlink(t.path)
    s.forgetCached(t.digest)
    if (refs.subject) await rm(join(s.referrersDir(t.repo!, refs.subject), t.digest.replace(':', '-')), { force: true })
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
