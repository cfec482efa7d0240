import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { ApiError } from '../../client/client.js'
import { familiarName, familiarString, parseNormalizedNamed } from '../../distribution/reference.js'
import { CliExit, type CliContext } from '../context.js'
import { readConfigFile } from '../config-file.js'
import { confirm, createdSince, ellipsis, filtersParam, humanSize, humanSizePrec, printInspect, renderTable, saveArchive, truncId } from '../format.js'

interface WireImageSummary {
  Id: string
  ParentId: string
  RepoTags: string[] | null
  RepoDigests: string[] | null
  Created: number
  Size: number
  SharedSize: number
  Labels: Record<string, string> | null
  Containers: number
}

const IMAGE_HEADERS = {
  ID: 'IMAGE ID', Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT',
  Size: 'SIZE', Containers: 'CONTAINERS', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE', VirtualSize: 'VIRTUAL SIZE',
}

export async function listImages(ctx: CliContext): Promise<void> {
  const f = ctx.flags
  const filters = filtersParam(f.filter as string[] | undefined)
  if (ctx.args[0]) (filters.reference ??= []).push(ctx.args[0])
  const list = await ctx.client().json<WireImageSummary[]>('GET', '/images/json', {
    query: { all: !!f.all, ...(Object.keys(filters).length ? { filters: JSON.stringify(filters) } : {}) },
  })
  const trunc = !f['no-trunc']
  const rows: Array<Record<string, unknown>> = []
  for (const img of list) {
    for (const r of imageRows(img, !!f.digests)) rows.push(imageRowContext(img, r, trunc))
  }
  const dflt = f.digests
    ? 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}'
    : 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}'
  // As docker does, config.json's imagesFormat is the default when no --format is given.
  const format = (f.format as string | undefined) ?? (f.quiet ? undefined : (await readConfigFile(ctx.configDir)).imagesFormat)
  await renderTable(ctx, { format, quiet: !!f.quiet, quietFormat: '{{.ID}}', defaultFormat: dflt, headers: IMAGE_HEADERS, rows })
}

function imageRows(img: WireImageSummary, showDigests: boolean): Array<{ repo: string; tag: string; digest: string }> {
  const tags = (img.RepoTags ?? []).filter((t) => t !== '<none>:<none>')
  const digests = (img.RepoDigests ?? []).filter((d) => d !== '<none>@<none>')
  if (tags.length === 0 && digests.length === 0) return [{ repo: '<none>', tag: '<none>', digest: '<none>' }]
  const repoTags = new Map<string, string[]>()
  const repoDigests = new Map<string, string[]>()
  for (const t of tags) {
    try {
      const ref = parseNormalizedNamed(t)
      const name = familiarName(ref)
      const list = repoTags.get(name) ?? []
      if (ref.tag !== undefined) list.push(ref.tag)
      repoTags.set(name, list)
    } catch { /* skip references the CLI cannot parse, as docker does */ }
  }
  for (const d of digests) {
    try {
      const ref = parseNormalizedNamed(d)
      const name = familiarName(ref)
      repoDigests.set(name, [...(repoDigests.get(name) ?? []), ref.digest ?? ''])
    } catch { /* as above */ }
  }
  const out: Array<{ repo: string; tag: string; digest: string }> = []
  for (const repo of [...repoTags.keys()].sort()) {
    let ds = repoDigests.get(repo) ?? []
    repoDigests.delete(repo)
    if (!showDigests) ds = []
    for (const tag of repoTags.get(repo)!) {
      if (ds.length === 0) out.push({ repo, tag, digest: '<none>' })
      else for (const d of ds) out.push({ repo, tag, digest: d })
    }
  }
  for (const repo of [...repoDigests.keys()].sort()) {
    if (showDigests) for (const d of repoDigests.get(repo)!) out.push({ repo, tag: '<none>', digest: d })
    else out.push({ repo, tag: '<none>', digest: '' })
  }
  return out
}

function imageRowContext(img: WireImageSummary, r: { repo: string; tag: string; digest: string }, trunc: boolean): Record<string, unknown> {
  return {
    ID: trunc ? truncId(img.Id) : img.Id,
    Repository: r.repo,
    Tag: r.tag,
    Digest: r.digest,
    CreatedSince: createdSince(img.Created),
    CreatedAt: goTime(img.Created),
    Size: humanSizePrec(img.Size, 3),
    VirtualSize: humanSizePrec(img.Size, 3),
    SharedSize: img.SharedSize === -1 ? 'N/A' : humanSizePrec(img.SharedSize, 3),
    UniqueSize: img.SharedSize === -1 ? 'N/A' : humanSizePrec(img.Size - img.SharedSize, 3),
    Containers: img.Containers === -1 ? 'N/A' : String(img.Containers),
    Labels: Object.entries(img.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(','),
  }
}

/** Go's time.Time.String() for a Unix time in UTC: `2024-01-01 00:00:00 +0000 UTC`. */
export function goTime(unix: number): string {
  const d = new Date(unix * 1000)
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`
}

export async function inspectImages(ctx: CliContext): Promise<number> {
  return inspectRefs(ctx, 'image')
}

/** `berth inspect`: images for now (containers, networks and volumes answer when they exist). */
export async function inspectAny(ctx: CliContext): Promise<number> {
  const type = ctx.flags.type as string | undefined
  if (type && !['image', 'container', 'network', 'volume', 'config', 'node', 'plugin', 'secret', 'service', 'task'].includes(type)) {
    throw new CliExit(1, `"${type}" is not a valid value for --type`)
  }
  return inspectRefs(ctx, type ?? 'any')
}

async function inspectRefs(ctx: CliContext, type: string): Promise<number> {
  const client = ctx.client()
  const found: unknown[] = []
  const errors: string[] = []
  // docker inspect without --type tries a container first, then an image.
  const kinds = type === 'any' ? ['container', 'image'] : [type]
  for (const ref of ctx.args) {
    let hit = false
    let lastErr: ApiError | undefined
    for (const kind of kinds) {
      try {
        found.push(await client.json('GET', kind === 'image' ? `/images/${encodeRef(ref)}/json` : `/${kind}s/${encodeURIComponent(ref)}/json`))
        hit = true
        break
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 404)) throw err
        lastErr = err
      }
    }
    if (!hit) errors.push(type === 'any' ? `Error: No such object: ${ref}` : `Error response from daemon: ${lastErr!.message}`)
  }
  await printInspect(ctx, found, ctx.flags.format as string | undefined)
  if (errors.length) throw new CliExit(1, errors.join('\n'))
  return 0
}

/** Image names may contain slashes and colons; the daemon routes the rest of the path. */
export function encodeRef(ref: string): string {
  return ref.split('/').map(encodeURIComponent).join('/')
}

export async function tagImage(ctx: CliContext): Promise<void> {
  const [source, target] = ctx.args as [string, string]
  let ref
  try {
    ref = parseNormalizedNamed(target)
  } catch (err) {
    throw new CliExit(1, `Error parsing reference: "${target}" is not a valid repository/tag: ${(err as Error).message}`)
  }
  if (ref.digest) throw new CliExit(1, 'refusing to create a tag with a digest reference')
  const repo = familiarString({ ...ref, tag: undefined, digest: undefined } as typeof ref)
  await ctx.client().call('POST', `/images/${encodeRef(source)}/tag`, { query: { repo, tag: ref.tag ?? 'latest' } })
}

export async function removeImages(ctx: CliContext): Promise<number> {
  const client = ctx.client()
  const errors: string[] = []
  for (const ref of ctx.args) {
    try {
      const items = await client.json<Array<{ Untagged?: string; Deleted?: string }>>('DELETE', `/images/${encodeRef(ref)}`, {
        query: { force: !!ctx.flags.force, noprune: !!ctx.flags['no-prune'] },
      })
      for (const i of items) ctx.out.write(i.Untagged !== undefined ? `Untagged: ${i.Untagged}\n` : `Deleted: ${i.Deleted}\n`)
    } catch (err) {
      if (!(err instanceof ApiError)) throw err
      errors.push(`Error response from daemon: ${err.message}`)
    }
  }
  if (errors.length) throw new CliExit(1, errors.join('\n'))
  return 0
}

interface WireHistory { Id: string; Created: number; CreatedBy: string; Tags: string[] | null; Size: number; Comment: string }

export async function imageHistory(ctx: CliContext): Promise<void> {
  const hist = await ctx.client().json<WireHistory[]>('GET', `/images/${encodeRef(ctx.args[0]!)}/history`)
  const human = ctx.flags.human !== false
  const trunc = !ctx.flags['no-trunc']
  const rows = hist.map((h) => {
    const createdBy = h.CreatedBy.replace(/\t/g, ' ')
    return {
      ID: trunc && h.Id !== '<missing>' ? truncId(h.Id) : h.Id,
      CreatedSince: human ? createdSince(h.Created) : new Date(h.Created * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      CreatedAt: new Date(h.Created * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      CreatedBy: trunc ? ellipsis(createdBy, 45) : createdBy,
      Size: human ? humanSizePrec(h.Size, 3) : String(h.Size),
      Comment: h.Comment,
      Tags: (h.Tags ?? []).join(', '),
    }
  })
  await renderTable(ctx, {
    format: ctx.flags.format as string | undefined,
    quiet: !!ctx.flags.quiet,
    quietFormat: '{{.ID}}',
    defaultFormat: 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}',
    headers: { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT', Tags: 'TAGS' },
    rows,
  })
}

export async function saveImages(ctx: CliContext): Promise<void> {
  await saveArchive(ctx, ctx.flags.output as string | undefined, 'failed to save image', () => ctx.client().call('GET', '/images/get', { query: { names: ctx.args } }))
}

export async function loadImages(ctx: CliContext): Promise<void> {
  const input = ctx.flags.input as string | undefined
  if (!input && process.stdin.isTTY) throw new CliExit(1, 'requested load from stdin, but stdin is empty')
  const body = input ? createReadStream(input) : process.stdin
  if (input) await stat(input).catch(() => { throw new CliExit(1, `open ${input}: no such file or directory`) })
  const client = ctx.client()
  const res = await client.call('POST', '/images/load', { query: { quiet: !!ctx.flags.quiet || !ctx.out.isTTY }, body, headers: { 'Content-Type': 'application/x-tar' } })
  for await (const msg of client.jsonStream<{ stream?: string; status?: string }>(res)) {
    if (msg.stream) ctx.out.write(msg.stream)
    else if (msg.status) ctx.out.write(`${msg.status}\n`)
  }
}

export async function importImage(ctx: CliContext): Promise<void> {
  const [source, repository] = ctx.args as [string, string | undefined]
  let repo: string | undefined
  let tag: string | undefined
  if (repository) {
    let ref
    try { ref = parseNormalizedNamed(repository) } catch (err) { throw new CliExit(1, (err as Error).message) }
    repo = familiarString({ ...ref, tag: undefined, digest: undefined } as typeof ref)
    tag = ref.tag
  }
  const query = {
    fromSrc: source === '-' ? '-' : /^https?:\/\//.test(source) ? source : '-',
    repo, tag,
    message: ctx.flags.message as string | undefined,
    changes: (ctx.flags.change as string[] | undefined) ?? [],
    platform: ctx.flags.platform as string | undefined,
  }
  let body: NodeJS.ReadableStream | undefined
  if (source === '-') body = process.stdin
  else if (!/^https?:\/\//.test(source)) {
    await stat(source).catch(() => { throw new CliExit(1, `open ${source}: no such file or directory`) })
    body = createReadStream(source)
  }
  const client = ctx.client()
  const res = await client.call('POST', '/images/create', { query, ...(body ? { body: body as never } : {}), headers: { 'Content-Type': 'application/x-tar' } })
  for await (const msg of client.jsonStream<{ status?: string; stream?: string }>(res)) {
    if (msg.status) ctx.out.write(`${msg.status}\n`)
    else if (msg.stream) ctx.out.write(msg.stream)
  }
}

export async function pruneImages(ctx: CliContext): Promise<void> {
  const all = !!ctx.flags.all
  const filters = filtersParam(ctx.flags.filter as string[] | undefined)
  filters.dangling = [all ? 'false' : 'true']
  if (!ctx.flags.force) {
    const warning = all
      ? 'WARNING! This will remove all images without at least one container associated to them.'
      : 'WARNING! This will remove all dangling images.'
    if (!(await confirm(ctx, `${warning}\nAre you sure you want to continue?`))) return
  }
  const out = await ctx.client().json<{ ImagesDeleted: Array<{ Untagged?: string; Deleted?: string }> | null; SpaceReclaimed: number }>('POST', '/images/prune', {
    query: { filters: JSON.stringify(filters) },
  })
  const deleted = out.ImagesDeleted ?? []
  if (deleted.length) {
    ctx.out.write('Deleted Images:\n')
    for (const i of deleted) ctx.out.write(i.Untagged !== undefined ? `untagged: ${i.Untagged}\n` : `deleted: ${i.Deleted}\n`)
    ctx.out.write('\n')
  }
  ctx.out.write(`Total reclaimed space: ${humanSize(out.SpaceReclaimed)}\n`)
}

