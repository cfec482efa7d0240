import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CliExit } from './context.js'

/** The parts of a docker CLI config file (`~/.docker/config.json`) berth reads. */
export interface ConfigFile {
  auths?: Record<string, { auth?: string; identitytoken?: string }>
  credsStore?: string
  credHelpers?: Record<string, string>
  imagesFormat?: string
  psFormat?: string
  statsFormat?: string
  detachKeys?: string
  [k: string]: unknown
}

/** Read the config file; a missing one is empty, a broken one is docker's error. */
export async function readConfigFile(dir: string): Promise<ConfigFile> {
  const path = join(dir, 'config.json')
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw err
  }
  if (!text.trim()) return {}
  try {
    return JSON.parse(text) as ConfigFile
  } catch (err) {
    throw new CliExit(1, `WARNING: Error loading config file: ${path}: ${(err as Error).message}`)
  }
}
