import { stat, lstat } from 'node:fs/promises'
import { dirname, posix, resolve as resolvePath } from 'node:path'
import { PassThrough, Transform, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { ApiError, readAll } from '../../client/client.js'
import { familiarName, parseNormalizedNamed } from '../../distribution/reference.js'
import { humanSizeWithPrecision } from '../../lib/units.js'
import { realPlatform } from '../../platform/platform.js'
import { startTar } from '../../platform/tar.js'
import { CliExit, type CliContext } from '../context.js'
import { saveArchive } from '../format.js'

// Go's os.FileMode bits in the path stat header.
const GO_DIR = 2 ** 31
const GO_SYMLINK = 2 ** 27
const GO_DEVICE = 2 ** 26
const GO_IRREGULAR = 2 ** 19

interface PathStat { name: string; size: number; mode: number; mtime: string; linkTarget: string }

const hasBit = (m: number, bit: number) => Math.floor(m / bit) % 2 === 1
const isDirMode = (m: number) => hasBit(m, GO_DIR)
const isLinkMode = (m: number) => hasBit(m, GO_SYMLINK)

/** Docker's splitCpArg: `container:path`, unless absolute or starting with `.`. */
function splitCpArg(arg: string): { container: string; path: string } {
  if (arg.startsWith('/')) return { container: '', path: arg }
  const i = arg.indexOf(':')
  if (i < 0 || arg.startsWith('.')) return { container: '', path: arg }
  return { container: arg.slice(0, i), path: arg.slice(i + 1) }
}

const endsWithSep = (p: string) => p.endsWith('/')
const specifiesCurrentDir = (p: string) => p === '.' || p.endsWith('/.')
const assertsDirectory = (p: string) => endsWithSep(p) || specifiesCurrentDir(p)

/** Clean a path but keep a trailing `/` or `/.` (Docker's PreserveTrailingDotOrSeparator). */
function preserveTrailing(cleaned: string, original: string): string {
  let p = cleaned
  if (!p.endsWith('/.') && specifiesCurrentDir(original)) p = `${p.endsWith('/') ? p : `${p}/`}.`
  if (!p.endsWith('/') && endsWithSep(original)) p += '/'
  return p
}

/** Docker's SplitPathDirEntry: parent and base, `.` for a path naming the current dir. */
function splitPathDirEntry(p: string): { dir: string; base: string } {
  let cleaned = posix.normalize(p)
  if (cleaned.length > 1) cleaned = cleaned.replace(/\/+$/, '')
  if (specifiesCurrentDir(p) && !cleaned.endsWith('/.')) cleaned = cleaned === '/' ? '/.' : `${cleaned}/.`
  return { dir: posix.dirname(cleaned), base: posix.basename(cleaned) || '/' }
}

function statOf(headers: Record<string, string | string[] | undefined>): PathStat {
  const h = headers['x-docker-container-path-stat']
  if (typeof h !== 'string') throw new CliExit(1, 'unable to get resource stat from response')
  return JSON.parse(Buffer.from(h, 'base64').toString('utf8')) as PathStat
}

/** HEAD archive: the stat, or the daemon's error. */
async function statContainer(ctx: CliContext, container: string, path: string): Promise<PathStat> {
  const res = await ctx.client().raw('HEAD', `/containers/${encodeURIComponent(container)}/archive`, { query: { path } })
  await readAll(res)
  if ((res.statusCode ?? 500) >= 400) {
    if (res.statusCode === 404) throw new ApiError(404, `Could not find the file ${path} in container ${container}`)
    throw new ApiError(res.statusCode ?? 500, `stat ${path}: ${res.statusMessage ?? res.statusCode}`)
  }
  return statOf(res.headers)
}

/** A sed expression renaming a leading member name (GNU tar --transform); symlink targets untouched. */
function rebaseTransform(from: string, to: string): string {
  const re = from.replace(/[\\^$.*[\]|]/g, '\\$&')
  const rep = to.replace(/[\\&|]/g, '\\$&')
  return `s|^${re}\\(/\\|$\\)|${rep}\\1|S`
}

/** Run GNU tar; resolves when it exits 0, with its first stderr lines otherwise. */
function runTar(args: string[], stdio: { input?: Readable }): { stdout: Readable | null; done: Promise<void> } {
  const child = startTar(realPlatform().spawner, args, { input: !!stdio.input })
  if (stdio.input) stdio.input.pipe(child.stdin!)
  const done = child.exit.then(({ code, stderr, spawnError }) => {
    if (spawnError) throw spawnError
    if (code !== 0) throw new CliExit(1, stderr.trim().split('\n').slice(0, 3).join('\n') || `tar: exit status ${code}`)
  })
  return { stdout: child.stdout, done }
}

/** Counts the bytes going through (for docker's "Successfully copied" line). */
function counter(): Transform & { bytes: number } {
  const t = new Transform({ transform(chunk: Buffer, _enc, cb) { t.bytes += chunk.length; cb(null, chunk) } }) as Transform & { bytes: number }
  t.bytes = 0
  return t
}

function progressWanted(ctx: CliContext): boolean {
  return !ctx.flags.quiet && !!ctx.err.isTTY
}

export async function cp(ctx: CliContext): Promise<void> {
  const [srcArg, dstArg] = ctx.args as [string, string]
  const src = splitCpArg(srcArg)
  const dst = splitCpArg(dstArg)
  if (src.container && dst.container) throw new CliExit(1, 'copying between containers is not supported')
  if (!src.container && !dst.container) throw new CliExit(1, 'must specify at least one container source')
  if (src.path === '') throw new CliExit(1, 'source can not be empty')
  if (dst.path === '') throw new CliExit(1, 'destination can not be empty')
  if (src.container) await copyFromContainer(ctx, src.container, src.path, dst.path)
  else await copyToContainer(ctx, src.path, dst.container, dst.path)
}

async function copyFromContainer(ctx: CliContext, container: string, srcPath0: string, dstPath: string): Promise<void> {
  let srcPath = srcPath0
  let rebaseName = ''
  if (ctx.flags['follow-link']) {
    const st = await statContainer(ctx, container, srcPath).catch(() => undefined)
    if (st && isLinkMode(st.mode)) {
      let target = st.linkTarget
      if (!target.startsWith('/')) target = posix.join(splitPathDirEntry(srcPath).dir, target)
      // GetRebaseName: keep the requested name, with its trailing `/` or `/.`.
      target = preserveTrailing(target, srcPath)
      rebaseName = splitPathDirEntry(srcPath).base
      if (splitPathDirEntry(target).base === rebaseName) rebaseName = ''
      srcPath = target
    }
  }
  const res = await ctx.client().call('GET', `/containers/${encodeURIComponent(container)}/archive`, { query: { path: srcPath } })
  const srcStat = statOf(res.headers)
  if (dstPath === '-') {
    await pipeline(res, ctx.out)
    return
  }
  const srcBase = splitPathDirEntry(srcPath).base
  const srcIsDir = isDirMode(srcStat.mode)
  const dst = preserveTrailing(resolvePath(dstPath), dstPath)
  // CopyInfoDestinationPath: the destination, its symlink followed; its parent must exist.
  let dstExists = false
  let dstIsDir = false
  try {
    const st = await stat(dst)
    dstExists = true
    dstIsDir = st.isDirectory()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') throw new CliExit(1, `stat ${dst}: not a directory`)
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    const parent = dirname(dst.replace(/\/+\.?$/, '') || '/')
    try {
      if (!(await stat(parent)).isDirectory()) throw new CliExit(1, `stat ${parent}: not a directory`)
    } catch (e) {
      if (e instanceof CliExit) throw e
      throw new CliExit(1, `stat ${parent}: no such file or directory`)
    }
  }
  const { dir: dstDir, base: dstBase } = splitPathDirEntry(dst)
  let extractDir: string
  let transform: string | undefined
  const from = rebaseName || srcBase
  if (dstExists && dstIsDir) {
    extractDir = dst
    if (rebaseName) transform = rebaseTransform(srcBase, rebaseName)
  } else if (dstExists && srcIsDir) {
    throw new CliExit(1, 'cannot copy directory')
  } else if (!dstExists && !srcIsDir && assertsDirectory(dstPath)) {
    throw new CliExit(1, `no such directory`)
  } else {
    extractDir = dstDir
    transform = rebaseTransform(rebaseName ? srcBase : from, dstBase)
  }
  const count = counter()
  const { done } = runTar(['--extract', '--file=-', `--directory=${extractDir}`, '--numeric-owner', '--no-overwrite-dir', ...(transform ? [`--transform=${transform}`] : [])], { input: res.pipe(count) })
  await done
  if (progressWanted(ctx)) ctx.err.write(`Successfully copied ${humanSizeWithPrecision(count.bytes, 3)} to ${dst}\n`)
}

async function copyToContainer(ctx: CliContext, srcPath0: string, container: string, dstPath: string): Promise<void> {
  const client = ctx.client()
  // Stat the destination, following one symlink as docker does.
  let dstInfoPath = dstPath
  let dstStat: PathStat | undefined
  try {
    dstStat = await statContainer(ctx, container, dstPath)
    if (isLinkMode(dstStat.mode)) {
      let target = dstStat.linkTarget
      if (!target.startsWith('/')) target = posix.join(splitPathDirEntry(dstPath).dir, target)
      dstInfoPath = target
      dstStat = await statContainer(ctx, container, target)
    }
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 404) throw err
    dstStat = undefined
  }
  if (dstStat) {
    const why = hasBit(dstStat.mode, GO_DEVICE) ? 'got a device' : hasBit(dstStat.mode, GO_IRREGULAR) ? 'got an irregular file' : ''
    if (why) throw new CliExit(1, `destination "${container}:${dstPath}" must be a directory or a regular file: ${why}`)
  }
  let body: Readable
  let putPath: string
  if (srcPath0 === '-') {
    if (!dstStat || !isDirMode(dstStat.mode)) throw new CliExit(1, `destination "${container}:${dstPath}" must be a directory`)
    body = process.stdin
    putPath = dstInfoPath
  } else {
    const srcPath = preserveTrailing(resolvePath(srcPath0), srcPath0)
    let srcSt
    try {
      srcSt = ctx.flags['follow-link'] ? await stat(srcPath) : await lstat(srcPath.replace(/\/\.$/, '') || '/')
    } catch (err) {
      throw new CliExit(1, `lstat ${srcPath}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`)
    }
    const srcIsDir = srcSt.isDirectory() || (srcPath.endsWith('/') && (await stat(srcPath)).isDirectory())
    const { dir: srcDir, base: srcBase } = splitPathDirEntry(srcPath)
    const { dir: dstDir, base: dstBase } = splitPathDirEntry(dstInfoPath)
    const dstExists = dstStat !== undefined
    const dstIsDir = dstStat ? isDirMode(dstStat.mode) : false
    let transform: string | undefined
    if (dstExists && dstIsDir) {
      putPath = dstInfoPath
    } else if (dstExists && srcIsDir) {
      throw new CliExit(1, 'cannot copy directory')
    } else if (!dstExists && !srcIsDir && assertsDirectory(dstInfoPath)) {
      throw new CliExit(1, 'no such directory')
    } else {
      putPath = dstDir
      transform = rebaseTransform(srcBase, dstBase)
    }
    const tar = runTar(['--create', '--file=-', `--directory=${srcBase === '.' ? srcPath.replace(/\/\.$/, '') || '/' : srcDir}`, '--numeric-owner', '--format=posix', '--pax-option=delete=atime,delete=ctime', ...(ctx.flags['follow-link'] ? ['--dereference'] : []), ...(transform ? [`--transform=${transform}`] : []), '--', srcBase === '.' ? '.' : srcBase], {})
    const pass = new PassThrough()
    tar.stdout!.pipe(pass)
    tar.done.catch((err: Error) => pass.destroy(err))
    body = pass
  }
  const count = counter()
  body.pipe(count)
  const res = await client.call('PUT', `/containers/${encodeURIComponent(container)}/archive`, {
    query: { path: putPath, noOverwriteDirNonDir: true, copyUIDGID: !!ctx.flags.archive },
    body: count,
    headers: { 'Content-Type': 'application/x-tar' },
  })
  await readAll(res)
  if (progressWanted(ctx)) ctx.err.write(`Successfully copied ${humanSizeWithPrecision(count.bytes, 3)} to ${container}:${dstPath}\n`)
}

export async function diff(ctx: CliContext): Promise<void> {
  const changes = await ctx.client().json<Array<{ Path: string; Kind: number }> | null>('GET', `/containers/${encodeURIComponent(ctx.args[0]!)}/changes`)
  for (const c of changes ?? []) ctx.out.write(`${['C', 'A', 'D'][c.Kind] ?? '?'} ${c.Path}\n`)
}

export async function exportCmd(ctx: CliContext): Promise<void> {
  await saveArchive(ctx, ctx.flags.output as string | undefined, 'failed to export container', () => ctx.client().call('GET', `/containers/${encodeURIComponent(ctx.args[0]!)}/export`))
}

export async function commit(ctx: CliContext): Promise<void> {
  const [container, reference] = ctx.args as [string, string | undefined]
  let repo: string | undefined
  let tag: string | undefined
  if (reference) {
    let ref
    try { ref = parseNormalizedNamed(reference) } catch (err) { throw new CliExit(1, (err as Error).message) }
    if (ref.digest !== undefined) throw new CliExit(1, 'refusing to create a tag with a digest reference')
    repo = familiarName(ref)
    tag = ref.tag
  }
  const out = await ctx.client().json<{ Id: string }>('POST', '/commit', {
    query: {
      container,
      repo,
      tag,
      comment: ctx.flags.message as string | undefined,
      author: ctx.flags.author as string | undefined,
      pause: ctx.flags.pause !== false,
      changes: (ctx.flags.change as string[] | undefined) ?? [],
    },
  })
  ctx.out.write(`${out.Id}\n`)
}
