import type { Readable } from 'node:stream'
import type { ContainerBackend, ContainerConfigFields, PathStat } from '../backend.js'
import { invalid } from '../../lib/errors.js'
import { boolParam, readJsonBody, versionAtLeast, type Ctx } from '../http.js'
import type { Router } from '../router.js'
import { pipeToResponse } from '../stream.js'

const STAT_HEADER = 'X-Docker-Container-Path-Stat'

function statHeader(s: PathStat): string {
  return Buffer.from(JSON.stringify({ name: s.name, size: s.size, mode: s.mode, mtime: s.mtime, linkTarget: s.linkTarget })).toString('base64')
}

/** A tar stream to the client, with backpressure; the client going away stops it. */
async function sendTar(ctx: Ctx, tar: Readable, headers: Record<string, string> = {}): Promise<void> {
  ctx.res.writeHead(200, { 'Content-Type': 'application/x-tar', ...headers })
  await pipeToResponse(ctx.res, tar, ctx.signal)
}

/** cp (archive), diff (changes), export and commit. */
export function archiveRoutes(r: Router, b: ContainerBackend): void {
  r.add(['GET', 'PUT', 'HEAD'], '/containers/{id}/archive', async (ctx) => {
    const ref = ctx.params[0]!
    const path = ctx.query.get('path')
    if (!path) throw invalid('ERR_MISSING_PATH', 'path cannot be empty')
    if (ctx.req.method === 'HEAD') {
      const stat = await b.statPath(ref, path)
      ctx.res.writeHead(200, { 'Content-Type': 'application/json', [STAT_HEADER]: statHeader(stat) })
      ctx.res.end()
      return
    }
    if (ctx.req.method === 'GET') {
      await b.archivePath(ref, path, (stat, tar) => sendTar(ctx, tar, { [STAT_HEADER]: statHeader(stat) }), ctx.signal)
      return
    }
    await b.extractTo(ref, path, ctx.req as AsyncIterable<Buffer>, {
      noOverwriteDirNonDir: boolParam(ctx.query, 'noOverwriteDirNonDir'),
      copyUIDGID: boolParam(ctx.query, 'copyUIDGID'),
      signal: ctx.signal,
    })
    ctx.res.writeHead(200)
    ctx.res.end()
  })

  r.add('GET', '/containers/{id}/changes', async (ctx) => {
    const changes = await b.changes(ctx.params[0]!)
    return changes.map((c) => ({ Path: c.path, Kind: c.kind }))
  })

  r.add('GET', '/containers/{id}/export', async (ctx) => {
    await b.export(ctx.params[0]!, (tar) => sendTar(ctx, tar), ctx.signal)
  })

  r.add('POST', '/commit', async (ctx) => {
    const q = ctx.query
    const container = q.get('container') ?? ''
    // An empty body, or `null`, keeps the container's config.
    const raw = await readJsonBody<(ContainerConfigFields & { HostConfig?: unknown; NetworkingConfig?: unknown }) | null>(ctx.req)
    // The body is a create request's config; its host and network parts do not go into an image.
    const { HostConfig: _h, NetworkingConfig: _n, ...body } = raw && typeof raw === 'object' ? raw : {}
    const pauseParam = q.get('pause')
    const id = await b.commit({
      container,
      repo: q.get('repo') ?? '',
      tag: q.get('tag') ?? '',
      comment: q.get('comment') ?? '',
      author: q.get('author') ?? '',
      pause: pauseParam === null || pauseParam === '' ? versionAtLeast(ctx, '1.13') : boolParam(q, 'pause'),
      changes: q.getAll('changes'),
      ...(Object.keys(body).length ? { config: body as ContainerConfigFields } : {}),
      signal: ctx.signal,
    })
    ctx.res.writeHead(201, { 'Content-Type': 'application/json' })
    ctx.res.end(JSON.stringify({ Id: id }))
  })
}
