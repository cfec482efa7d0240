/**
 * The Berth install a machine gets: this build's package.json, bin/, dist/ (without tests,
 * source maps and caches), the run-time assets of src/ (not its code) and its production node_modules (from package-lock.json), as one
 * gzip tarball. It is cached under <storage>/cache, keyed by the build's mtimes.
 */
import { createReadStream, realpathSync } from 'node:fs'
import { lstat, mkdir, readFile, readdir, readlink, rename, stat, writeFile } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { createGzip } from 'node:zlib'
import { EngineError } from '../lib/errors.js'

/** The root of the running Berth (BERTH_INSTALL_ROOT, else the directory above bin/berth). */
export function installRoot(): string {
  if (process.env.BERTH_INSTALL_ROOT) return process.env.BERTH_INSTALL_ROOT
  const script = process.argv[1]
  if (!script) throw new EngineError('Internal', 'ERR_MACHINE_INSTALL', 'cannot find the Berth installation to copy')
  return dirname(dirname(realpathSync(script)))
}

function skipDist(rel: string): boolean {
  return rel.startsWith('dist/test/') || rel.startsWith('dist/bench/') || rel.endsWith('.map') || rel.endsWith('.test.js') || rel.endsWith('.tsbuildinfo') || rel.endsWith('.cache')
}

async function productionModules(root: string): Promise<string[]> {
  const lock = JSON.parse(await readFile(join(root, 'package-lock.json'), 'utf8')) as { packages?: Record<string, { dev?: boolean }> }
  const mods = Object.entries(lock.packages ?? {}).filter(([k, v]) => k.startsWith('node_modules/') && !v.dev).map(([k]) => k)
  // A nested module comes with its parent's directory.
  return mods.filter((m) => !mods.some((o) => o !== m && m.startsWith(`${o}/`)))
}

/** A gzip tarball of the install (path of a cached file). */
export async function installTarball(cacheDir: string): Promise<{ path: string; size: number }> {
  const root = installRoot()
  let pkg: { name?: string; version?: string }
  try {
    pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { name?: string; version?: string }
    await stat(join(root, 'dist', 'src', 'daemon', 'main.js'))
  } catch {
    throw new EngineError('Internal', 'ERR_MACHINE_INSTALL', `no built Berth at ${root} (run npm run build there)`)
  }
  if (pkg.name !== 'berth') throw new EngineError('Internal', 'ERR_MACHINE_INSTALL', `${root} is not a Berth installation`)
  const stamps = await Promise.all(['package-lock.json', 'dist/src/daemon/main.js', 'dist/berth.cjs', 'dist/src/cli/main.js'].map((f) => stat(join(root, f)).then((s) => s.mtimeMs, () => 0)))
  const key = `${root}\n${pkg.version}\n${stamps.join(',')}\n`
  await mkdir(cacheDir, { recursive: true, mode: 0o700 })
  const out = join(cacheDir, 'berth-install.tar.gz')
  const stampFile = join(cacheDir, 'berth-install.key')
  try {
    if ((await readFile(stampFile, 'utf8')) === key) return { path: out, size: (await stat(out)).size }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const tar = await import('tar-stream')
  const pack = tar.pack()
  const tmp = `${out}.${process.pid}.tmp`
  const { createWriteStream } = await import('node:fs')
  const { pipeline } = await import('node:stream/promises')
  const done = pipeline(pack, createGzip({ level: 1 }), createWriteStream(tmp, { mode: 0o600 }))
  const add = async (abs: string) => {
    const rel = relative(root, abs)
    const st = await lstat(abs)
    if (st.isDirectory()) {
      if (rel === 'node_modules/.bin') return
      for (const n of (await readdir(abs)).sort()) await add(join(abs, n))
      return
    }
    if (rel.startsWith('dist/') && skipDist(rel)) return
    // From src/ only the assets the build reads at run time (the seccomp profile...), not code.
    if (rel.startsWith('src/') && rel.endsWith('.ts')) return
    if (st.isSymbolicLink()) {
      const linkname = await readlink(abs)
      await new Promise<void>((resolve, reject) => pack.entry({ name: rel, type: 'symlink', linkname, mode: 0o777 }, (err) => (err ? reject(err) : resolve())))
      return
    }
    if (!st.isFile()) return
    await new Promise<void>((resolve, reject) => {
      const entry = pack.entry({ name: rel, size: st.size, mode: st.mode & 0o777, mtime: st.mtime }, (err) => (err ? reject(err) : resolve()))
      createReadStream(abs).on('error', reject).pipe(entry)
    })
  }
  await add(join(root, 'package.json'))
  await add(join(root, 'bin'))
  await add(join(root, 'dist'))
  await add(join(root, 'src'))
  for (const m of await productionModules(root)) {
    try {
      await add(join(root, m))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
  }
  pack.finalize()
  await done
  await rename(tmp, out)
  await writeFile(stampFile, key, { mode: 0o600 })
  return { path: out, size: (await stat(out)).size }
}
