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

/**
 * Write the config file as docker does (tab-indented JSON, mode 0600, atomically), keeping every
 * key berth does not know.
 */
export async function writeConfigFile(dir: string, config: ConfigFile): Promise<void> {
  const { mkdir, rename, writeFile } = await import('node:fs/promises')
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const path = join(dir, 'config.json')
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, JSON.stringify(config, null, '\t'), { mode: 0o600 })
  await rename(tmp, path)
}

export interface StoredCredentials { username: string; password: string; serveraddress: string; identitytoken?: string }

/** Run a docker-credential-* helper (`get`, `store`, `erase`) with docker's protocol. */
async function runHelper(helper: string, action: 'get' | 'store' | 'erase', input: string): Promise<string> {
  const { realPlatform } = await import('../platform/platform.js')
  let r
  try {
    r = await realPlatform().spawner.run(`docker-credential-${helper}`, [action], { input })
  } catch (err) {
    throw new CliExit(1, `error getting credentials - err: exec: "docker-credential-${helper}": ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'executable file not found in $PATH' : (err as Error).message}, out: \`\``)
  }
  // docker reads the helper's stdout and stderr together.
  const out = r.stdout + r.stderr
  if (r.code !== 0) throw Object.assign(new Error(out.trim()), { helperOutput: out.trim() })
  return out
}

function helperFor(config: ConfigFile, key: string): string | undefined {
  return config.credHelpers?.[key] ?? (config.credsStore || undefined)
}

/** Credentials for a registry key (`https://index.docker.io/v1/`, `127.0.0.1:5000`), from a helper or `auths`. */
export async function getCredentials(dir: string, key: string): Promise<StoredCredentials | undefined> {
  const config = await readConfigFile(dir)
  const helper = helperFor(config, key)
  if (helper) {
    try {
      const j = JSON.parse(await runHelper(helper, 'get', key)) as { Username?: string; Secret?: string }
      if (!j.Username && !j.Secret) return undefined
      return j.Username === '<token>' ? { username: '', password: '', identitytoken: j.Secret ?? '', serveraddress: key } : { username: j.Username ?? '', password: j.Secret ?? '', serveraddress: key }
    } catch (err) {
      if (err instanceof CliExit) throw err
      if (/credentials not found/i.test((err as Error).message)) return undefined
      throw new CliExit(1, `error getting credentials - err: ${(err as Error).message}`)
    }
  }
  const entry = config.auths?.[key] ?? config.auths?.[`https://${key}`] ?? config.auths?.[`http://${key}`]
  if (!entry) return undefined
  let username = ''
  let password = ''
  if (entry.auth) {
    const s = Buffer.from(entry.auth, 'base64').toString('utf8')
    const i = s.indexOf(':')
    if (i > -1) { username = s.slice(0, i); password = s.slice(i + 1) }
  }
  if (!username && !entry.identitytoken) return undefined
  return { username, password, serveraddress: key, ...(entry.identitytoken ? { identitytoken: entry.identitytoken } : {}) }
}

/** Store credentials as `docker login` does: in the helper when one is configured, else base64 `auth`. */
export async function storeCredentials(dir: string, key: string, creds: { username: string; password: string; identitytoken?: string }): Promise<void> {
  const config = await readConfigFile(dir)
  const helper = helperFor(config, key)
  if (helper) {
    await runHelper(helper, 'store', JSON.stringify({ ServerURL: key, Username: creds.identitytoken ? '<token>' : creds.username, Secret: creds.identitytoken ?? creds.password }))
    config.auths = { ...(config.auths ?? {}), [key]: {} }
  } else {
    config.auths = { ...(config.auths ?? {}), [key]: { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64'), ...(creds.identitytoken ? { identitytoken: creds.identitytoken } : {}) } }
  }
  await writeConfigFile(dir, config)
}

/** Remove stored credentials; false when there were none. */
export async function eraseCredentials(dir: string, key: string): Promise<boolean> {
  const config = await readConfigFile(dir)
  const helper = helperFor(config, key)
  let found = !!config.auths && key in config.auths
  if (helper) {
    try { await runHelper(helper, 'erase', key); found = true } catch { /* not stored there */ }
  }
  if (config.auths && key in config.auths) {
    delete config.auths[key]
    await writeConfigFile(dir, config)
  }
  return found
}
