/**
 * berth build: the classic builder's client. The context (a directory, a tarball, or `-`) is sent
 * as a tar with `.dockerignore` applied as the docker CLI does (the Dockerfile and .dockerignore
 * themselves always go); a Dockerfile from outside the context or from stdin is added under a
 * private name. The daemon's JSON stream is printed as `docker build` prints it.
 */
import { createReadStream } from 'node:fs'
import { lstat, open, readFile, readdir, readlink, stat, writeFile } from 'node:fs/promises'
import { basename, join, posix, relative, resolve } from 'node:path'
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import * as tarStream from 'tar-stream'
import { isIgnored, parseDockerignore, type IgnorePattern } from '../../build/dockerignore.js'
import { readLines } from '../../client/client.js'
import { ramInBytes } from '../../lib/units.js'
import { CliExit, type CliContext } from '../context.js'

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of process.stdin) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

function isArchive(head: Buffer): boolean {
  if (head.length >= 3 && head[0] === 0x1f && head[1] === 0x8b) return true
  if (head.length >= 3 && head.subarray(0, 3).toString() === 'BZh') return true
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return true
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return true
  return head.length >= 262 && head.subarray(257, 262).toString() === 'ustar'
}

/** Pack a directory as the build context, leaving out what .dockerignore excludes. */
function packDir(dir: string, ignore: IgnorePattern[], keep: Set<string>, extra?: { name: string; data: Buffer }): { stream: Readable; size: () => number } {
  const pack = tarStream.pack()
  let size = 0
  const entry = (h: Partial<tarStream.Header> & { name: string }, data?: Buffer | string) => new Promise<void>((res, rej) => pack.entry(h as tarStream.Header, data ?? Buffer.alloc(0), (e) => (e ? rej(e) : res())))
  const walk = async (rel: string): Promise<void> => {
    for (const n of (await readdir(rel ? join(dir, rel) : dir)).sort()) {
      const r = rel ? `${rel}/${n}` : n
      if (isIgnored(ignore, r) && !keep.has(r)) {
        // An exception below an ignored directory still needs the walk.
        if (!ignore.some((p) => p.exclusion && p.text.startsWith(`${r}/`))) continue
      }
      const p = join(dir, r)
      const st = await lstat(p)
      const common = { name: r, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime }
      if (st.isDirectory()) {
        if (!isIgnored(ignore, r)) await entry({ ...common, type: 'directory' })
        await walk(r)
      } else if (st.isSymbolicLink()) {
        await entry({ ...common, type: 'symlink', linkname: await readlink(p) })
      } else if (st.isFile()) {
        if (isIgnored(ignore, r) && !keep.has(r)) continue
        size += st.size
        await new Promise<void>((res, rej) => {
          const w = pack.entry({ ...common, type: 'file', size: st.size }, (e) => (e ? rej(e) : res()))
          const rs = createReadStream(p)
          rs.on('error', (e) => { w.destroy(e); rej(e) })
          rs.pipe(w)
        })
      }
    }
  }
  void (async () => {
    try {
      await walk('')
      if (extra) { size += extra.data.length; await entry({ name: extra.name, mode: 0o644, size: extra.data.length, mtime: new Date() }, extra.data) }
      pack.finalize()
    } catch (err) {
      pack.destroy(err as Error)
    }
  })()
  return { stream: pack as unknown as Readable, size: () => size }
}

function tarOf(files: Array<{ name: string; data: Buffer }>): Readable {
  const pack = tarStream.pack()
  for (const f of files) pack.entry({ name: f.name, mode: 0o644, size: f.data.length, mtime: new Date() }, f.data)
  pack.finalize()
  return pack as unknown as Readable
}

function keyValues(list: string[] | undefined, what: string): Record<string, string | null> {
  const out: Record<string, string | null> = {}
  for (const kv of list ?? []) {
    const i = kv.indexOf('=')
    if (i === 0) throw new CliExit(125, `invalid argument "${kv}" for "--${what}" flag: invalid key value`)
    if (i < 0) out[kv] = what === 'build-arg' ? (process.env[kv] ?? null) : ''
    else out[kv.slice(0, i)] = kv.slice(i + 1)
  }
  return out
}

export async function build(ctx: CliContext): Promise<number | void> {
  const f = ctx.flags
  const src = ctx.args[0]!
  const fileFlag = f.file as string | undefined
  let body: Readable
  let dockerfileParam = fileFlag
  const out = ctx.out
  const quiet = !!f.quiet
  if (/^(https?|git):\/\//.test(src) || src.startsWith('git@')) throw new CliExit(1, `remote build contexts (${src}) are not supported by berth build; clone or download it and build the directory`)
  let stdinDockerfile: Buffer | undefined
  let contextSize = () => 0
  if (fileFlag === '-') {
    if (src === '-') throw new CliExit(1, 'invalid argument: can\'t use stdin for both build context and dockerfile')
    stdinDockerfile = await readStdin()
  }
  if (src === '-') {
    const data = await readStdin()
    contextSize = () => data.length
    if (isArchive(data.subarray(0, 512))) body = Readable.from([data])
    else { body = tarOf([{ name: 'Dockerfile', data }]); dockerfileParam = 'Dockerfile' }
  } else {
    const st = await stat(src).catch(() => { throw new CliExit(1, `unable to prepare context: path "${src}" not found`) })
    if (st.isFile()) {
      const fh = await open(src, 'r')
      const head = Buffer.alloc(512)
      await fh.read(head, 0, 512, 0).finally(() => fh.close())
      if (!isArchive(head)) throw new CliExit(1, `unable to prepare context: ${src} is not a directory or a tar archive`)
      body = createReadStream(src)
      contextSize = () => st.size
    } else {
      const dir = resolve(src)
      // The Dockerfile: in the context, outside it (added under a private name) or from stdin.
      let extra: { name: string; data: Buffer } | undefined
      let dfRel = 'Dockerfile'
      if (stdinDockerfile) {
        extra = { name: `.dockerfile.${randomBytes(10).toString('hex')}`, data: stdinDockerfile }
      } else if (fileFlag) {
        const abs = resolve(fileFlag)
        const rel = relative(dir, abs)
        if (rel.startsWith('..') || rel === '') {
          const data = await readFile(abs).catch(() => { throw new CliExit(1, `unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${abs}: no such file or directory`) })
          extra = { name: `.dockerfile.${randomBytes(10).toString('hex')}`, data }
        } else dfRel = rel.split('\\').join('/')
      }
      if (!extra) await stat(join(dir, dfRel)).catch(() => { throw new CliExit(1, `unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${join(dir, dfRel)}: no such file or directory`) })
      dockerfileParam = extra ? extra.name : dfRel
      let ignore: IgnorePattern[] = []
      for (const name of [`${dfRel}.dockerignore`, '.dockerignore']) {
        try { ignore = parseDockerignore(await readFile(join(dir, name), 'utf8')); break } catch (err) { if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err }
      }
      const packed = packDir(dir, ignore, new Set([posix.normalize(dfRel), '.dockerignore']), extra)
      body = packed.stream
      contextSize = packed.size
    }
  }
  const labels = keyValues(f.label as string[] | undefined, 'label')
  const query: Record<string, string | string[] | boolean | number | undefined> = {
    t: (f.tag as string[] | undefined) ?? [],
    ...(dockerfileParam ? { dockerfile: dockerfileParam } : {}),
    buildargs: JSON.stringify(keyValues(f['build-arg'] as string[] | undefined, 'build-arg')),
    labels: JSON.stringify(labels),
    ...(f.target ? { target: f.target as string } : {}),
    nocache: !!f['no-cache'],
    pull: !!f.pull,
    q: quiet,
    rm: f.rm !== false,
    forcerm: !!f['force-rm'],
    ...(f.memory ? { memory: ramInBytes(f.memory as string) } : {}),
    ...(f['memory-swap'] ? { memswap: f['memory-swap'] === '-1' ? -1 : ramInBytes(f['memory-swap'] as string) } : {}),
    ...(f['shm-size'] ? { shmsize: ramInBytes(f['shm-size'] as string) } : {}),
    ...(f.network && f.network !== 'default' ? { networkmode: f.network as string } : {}),
    ...((f['add-host'] as string[] | undefined)?.length ? { extrahosts: (f['add-host'] as string[]).join(',') } : {}),
    ...((f['cache-from'] as string[] | undefined)?.length ? { cachefrom: JSON.stringify(f['cache-from']) } : {}),
    ...(f.platform ? { platform: f.platform as string } : {}),
    ...(f['explain-cache'] ? { explaincache: true } : {}),
  }
  const client = ctx.client()
  const res = await client.call('POST', '/build', { query: query as never, body: body as never, headers: { 'Content-Type': 'application/x-tar' } })
  // docker prints the size as it goes; the total, once the daemon took the context, is enough here.
  if (!quiet) out.write(`Sending build context to Docker daemon  ${humanBytes(contextSize())}\n\n`)
  let imageId = ''
  for await (const line of readLines(res)) {
    const msg = JSON.parse(line) as { stream?: string; aux?: { ID?: string }; error?: string; errorDetail?: { message?: string; code?: number } }
    // The error line carries the step's own exit code (a failed RUN's).
    if (msg.error || msg.errorDetail) throw new CliExit(msg.errorDetail?.code || 1, msg.errorDetail?.message ?? msg.error ?? 'build failed')
    if (msg.aux?.ID) imageId = msg.aux.ID
    else if (msg.stream !== undefined) out.write(msg.stream)
  }
  if (f.iidfile && imageId) await writeFile(f.iidfile as string, imageId)
  void basename
}

function humanBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB']
  let i = 0
  let v = n
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++ }
  return `${Number(v.toFixed(4 - String(Math.floor(v)).length)).toString()}${units[i]}`
}
