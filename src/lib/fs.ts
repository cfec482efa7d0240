import { open, rename, mkdir, rm, readFile } from 'node:fs/promises'
import { dirname, basename, join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { isNotFoundErrno } from './errors.js'

/** Temp files carry this marker so start-up can find and remove the ones a crash left. */
export const TMP_MARK = '.berth-tmp-'

export function tmpPathFor(path: string): string {
  return join(dirname(path), `${TMP_MARK}${basename(path)}.${randomBytes(6).toString('hex')}`)
}

/** Write a file atomically: temp file in the same directory, fsync, rename, fsync the directory. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  const tmp = tmpPathFor(path)
  const fh = await open(tmp, 'wx', mode)
  try {
    await fh.writeFile(data)
    await fh.sync()
  } finally {
    await fh.close()
  }
  try {
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
  await fsyncDir(dirname(path))
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value))
}

export async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T
  } catch (err) {
    if (isNotFoundErrno(err)) return undefined
    throw err
  }
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}
