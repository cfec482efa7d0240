import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CliExit, currentContextOf, defaultEndpoint, resolveContextName, type CliContext } from '../context.js'
import { readConfigFile, writeConfigFile } from '../config-file.js'
import { renderTable, executeTemplate, isJsonFormat } from '../format.js'
import {
  ContextStoreError,
  DEFAULT_CONTEXT,
  contextExists,
  exportArchive,
  goJson,
  listContexts,
  loadContext,
  parseArchive,
  readTls,
  removeContext,
  validateName,
  writeContext,
  type ContextMeta,
  type TlsFiles,
} from '../docker-context.js'

const DEFAULT_DESCRIPTION = 'Current DOCKER_HOST based configuration'
const OVERRIDE_WARNING = (what: string) => `Warning: DOCKER_HOST environment variable overrides the active context. To use ${what}, either set the global --context flag, or unset DOCKER_HOST environment variable.\n`

/** The default context, built in memory from -H / DOCKER_HOST and the TLS settings. */
async function defaultContext(ctx: CliContext): Promise<{ meta: ContextMeta; tls: TlsFiles }> {
  const ep = defaultEndpoint(ctx.global)
  const tls: TlsFiles = {}
  if (ep.tls) {
    for (const [k, f] of [['ca', 'ca.pem'], ['cert', 'cert.pem'], ['key', 'key.pem']] as const) {
      const p = ep.tls[k]
      if (!p) continue
      try {
        tls[f] = await readFile(p)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      }
    }
  }
  return {
    meta: { Name: DEFAULT_CONTEXT, Metadata: {}, Endpoints: { docker: { Host: ep.host, SkipTLSVerify: !!ep.tls && !ep.tls.verify } } },
    tls,
  }
}

/** Any stored context or `default`: its metadata and TLS files. */
async function getContext(ctx: CliContext, name: string): Promise<{ meta: ContextMeta; tls: Record<string, TlsFiles>; stored?: ReturnType<typeof loadContext> }> {
  if (name === DEFAULT_CONTEXT) {
    const d = await defaultContext(ctx)
    return { meta: d.meta, tls: Object.keys(d.tls).length ? { docker: d.tls } : {} }
  }
  const stored = loadContext(ctx.configDir, name)
  const tls: Record<string, TlsFiles> = {}
  for (const ep of Object.keys(stored.tlsMaterial)) tls[ep] = readTls(ctx.configDir, name, ep)
  return { meta: stored.meta, tls, stored }
}

function storeErrors<T>(fn: () => Promise<T>): Promise<T> {
  return fn().catch((err) => {
    if (err instanceof ContextStoreError) throw new CliExit(1, err.message)
    throw err
  })
}

/** docker's `--docker` value: comma-separated key=value, as a CSV record. */
function parseDockerFlag(values: string[] | undefined): Record<string, string> | undefined {
  if (!values?.length) return undefined
  const out: Record<string, string> = {}
  for (const v of values) {
    for (const field of splitCsv(v)) {
      if (!field) continue
      const eq = field.indexOf('=')
      if (eq < 0) throw new CliExit(125, `invalid argument "${v}" for "--docker" flag: ${field} must be formatted as key=value`)
      out[field.slice(0, eq)] = field.slice(eq + 1)
    }
  }
  return out
}

function splitCsv(s: string): string[] {
  const out: string[] = []
  let cur = ''
  let quoted = false
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') { cur += '"'; i++ } else if (c === '"') quoted = false
      else cur += c
    } else if (c === '"' && cur === '') quoted = true
    else if (c === ',') { out.push(cur); cur = '' } else cur += c
  }
  out.push(cur)
  return out
}

const DOCKER_KEYS = new Set(['from', 'host', 'ca', 'cert', 'key', 'skip-tls-verify'])

function expandTilde(p: string): string {
  return p.startsWith('~/') ? join(process.env.HOME ?? '', p.slice(2)) : p
}

/** The docker endpoint and its TLS files from a `--docker` map (docker's getDockerEndpoint). */
async function dockerEndpointFrom(ctx: CliContext, cfg: Record<string, string>): Promise<{ ep: ContextMeta['Endpoints'][string]; tls: TlsFiles }> {
  const fail = (m: string) => new CliExit(1, `unable to create docker endpoint config: ${m}`)
  for (const k of Object.keys(cfg)) if (!DOCKER_KEYS.has(k)) throw fail(`unrecognized config key: ${k}`)
  if (cfg.from !== undefined) {
    const src = await getContext(ctx, cfg.from).catch((err) => {
      if (err instanceof ContextStoreError) throw fail(err.message)
      throw err
    })
    // As docker 28: `from=` copies the endpoint's metadata, not its TLS files.
    return { ep: { ...(src.meta.Endpoints.docker ?? { SkipTLSVerify: false }) }, tls: {} }
  }
  let skip = false
  if (cfg['skip-tls-verify'] !== undefined) {
    const v = cfg['skip-tls-verify']
    if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) skip = true
    else if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) skip = false
    else throw fail(`skip-tls-verify: parsing "${v}": invalid syntax`)
  }
  const tls: TlsFiles = {}
  for (const [k, f] of [['ca', 'ca.pem'], ['cert', 'cert.pem'], ['key', 'key.pem']] as const) {
    const p = cfg[k]
    if (!p) continue
    try {
      tls[f] = await readFile(expandTilde(p))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw fail(`open ${p}: no such file or directory`)
      throw fail((err as Error).message)
    }
  }
  if ((tls['cert.pem'] && !tls['key.pem']) || (!tls['cert.pem'] && tls['key.pem'])) throw fail('invalid docker endpoint options: cert and key must be set together')
  const host = cfg.host ?? ''
  if (host) {
    const { parseSshUrl } = host.startsWith('ssh://') ? await import('../../client/ssh-transport.js') : { parseSshUrl: undefined }
    if (parseSshUrl) {
      try { parseSshUrl(host) } catch (err) { throw fail(`unable to parse docker host \`${host}\`: ${(err as Error).message}`) }
    }
  }
  return { ep: { ...(host ? { Host: host } : {}), SkipTLSVerify: skip }, tls }
}

export async function create(ctx: CliContext): Promise<number> {
  const name = ctx.args[0]!
  const docker = parseDockerFlag(ctx.flags.docker as string[] | undefined)
  const from = ctx.flags.from as string | undefined
  const description = ctx.flags.description as string | undefined
  return storeErrors(async () => {
    validateName(name)
    if (contextExists(ctx.configDir, name)) throw new CliExit(1, `context "${name}" already exists`)
    let meta: ContextMeta
    let tls: Record<string, TlsFiles>
    if (docker) {
      if (from !== undefined) throw new CliExit(1, 'cannot use --docker flag when --from is set')
      const { ep, tls: t } = await dockerEndpointFrom(ctx, docker)
      meta = { Name: name, Metadata: description ? { Description: description } : {}, Endpoints: { docker: ep } }
      tls = { docker: t }
    } else {
      // No endpoint given: a copy of --from, or of the current context.
      const srcName = from ?? resolveContextName({ ...ctx.global, host: undefined })
      const src = await getContext(ctx, srcName)
      const srcDesc = srcName === DEFAULT_CONTEXT ? DEFAULT_DESCRIPTION : src.meta.Metadata.Description
      const d = description ?? srcDesc
      meta = { Name: name, Metadata: { ...(srcName === DEFAULT_CONTEXT ? {} : src.meta.Metadata), ...(d ? { Description: d } : {}) }, Endpoints: structuredClone(src.meta.Endpoints) }
      if (!d) delete meta.Metadata.Description
      tls = src.tls
    }
    await writeContext(ctx.configDir, meta, tls)
    ctx.out.write(`${name}\n`)
    ctx.err.write(`Successfully created context "${name}"\n`)
    return 0
  })
}

export async function update(ctx: CliContext): Promise<number> {
  const name = ctx.args[0]!
  const docker = parseDockerFlag(ctx.flags.docker as string[] | undefined)
  const description = ctx.flags.description as string | undefined
  return storeErrors(async () => {
    if (name === DEFAULT_CONTEXT) throw new CliExit(1, `"${DEFAULT_CONTEXT}" is a reserved context name`)
    const stored = loadContext(ctx.configDir, name)
    const meta = stored.meta
    if (description !== undefined) {
      if (description) meta.Metadata.Description = description
      else delete meta.Metadata.Description
    }
    let tls: Record<string, TlsFiles> | undefined
    if (docker) {
      const { ep, tls: t } = await dockerEndpointFrom(ctx, docker)
      meta.Endpoints.docker = ep
      tls = { docker: t }
    }
    await writeContext(ctx.configDir, meta, tls)
    ctx.out.write(`${name}\n`)
    ctx.err.write(`Successfully updated context "${name}"\n`)
    return 0
  })
}

interface ListRow { Name: string; Description: string; DockerEndpoint: string; Current: boolean; Error: string }

export async function ls(ctx: CliContext): Promise<number> {
  const current = currentName(ctx)
  const d = await defaultContext(ctx)
  const rows: ListRow[] = [{ Name: DEFAULT_CONTEXT, Description: DEFAULT_DESCRIPTION, DockerEndpoint: d.meta.Endpoints.docker!.Host ?? '', Current: current === DEFAULT_CONTEXT, Error: '' }]
  for (const c of listContexts(ctx.configDir)) {
    if (c.ctx) rows.push({ Name: c.name, Description: c.ctx.meta.Metadata.Description ?? '', DockerEndpoint: c.ctx.meta.Endpoints.docker?.Host ?? '', Current: c.name === current, Error: '' })
    else rows.push({ Name: c.name, Description: '', DockerEndpoint: '', Current: false, Error: c.error ?? '' })
  }
  if (current !== DEFAULT_CONTEXT && !rows.some((r) => r.Name === current)) {
    rows.push({ Name: current, Description: '', DockerEndpoint: '', Current: true, Error: `context "${current}": context not found: open ${join(ctx.configDir, 'contexts', 'meta')}/…` })
    try { loadContext(ctx.configDir, current) } catch (err) { rows[rows.length - 1]!.Error = (err as Error).message }
  }
  rows.sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0))
  const format = ctx.flags.format as string | undefined
  if (ctx.flags.quiet) {
    for (const r of rows) ctx.out.write(`${r.Name}\n`)
  } else if (format && isJsonFormat(format)) {
    for (const r of rows) ctx.out.write(`${goJson({ Current: r.Current, Description: r.Description, DockerEndpoint: r.DockerEndpoint, Error: r.Error, Name: r.Name })}\n`)
  } else {
    await renderTable(ctx, {
      format,
      defaultFormat: 'table {{.Name}}{{if .Current}} *{{end}}\t{{.Description}}\t{{.DockerEndpoint}}\t{{.Error}}',
      headers: { Name: 'NAME', Description: 'DESCRIPTION', DockerEndpoint: 'DOCKER ENDPOINT', Error: 'ERROR' },
      rows: rows.map((r) => ({ ...r, Error: ellipsisErr(r.Error, !format) })),
    })
  }
  if (process.env.DOCKER_HOST) ctx.err.write(OVERRIDE_WARNING('a context'))
  return 0
}

function ellipsisErr(e: string, table: boolean): string {
  if (!table || [...e].length <= 45) return e
  return `${[...e].slice(0, 44).join('')}…`
}

/** The current context's name, as `context show` and `ls` see it (--context, env, config). */
function currentName(ctx: CliContext): string {
  return resolveContextName(ctx.global)
}

export async function show(ctx: CliContext): Promise<number> {
  const name = currentName(ctx)
  if (name !== DEFAULT_CONTEXT) {
    try {
      loadContext(ctx.configDir, name)
    } catch (err) {
      if (err instanceof ContextStoreError) throw new CliExit(1, err.message)
      throw err
    }
  }
  ctx.out.write(`${name}\n`)
  return 0
}

export async function use(ctx: CliContext): Promise<number> {
  const name = ctx.args[0]!
  return storeErrors(async () => {
    if (name !== DEFAULT_CONTEXT) loadContext(ctx.configDir, name)
    const cfg = await readConfigFile(ctx.configDir)
    const before = (cfg.currentContext as string | undefined) || DEFAULT_CONTEXT
    if (name === DEFAULT_CONTEXT) delete cfg.currentContext
    else cfg.currentContext = name
    cfg.auths ??= {}
    if (before !== name) await writeConfigFile(ctx.configDir, reorderConfig(cfg))
    ctx.out.write(`${name}\n`)
    ctx.err.write(`Current context is now "${name}"\n`)
    if (name !== DEFAULT_CONTEXT && process.env.DOCKER_HOST) ctx.err.write(OVERRIDE_WARNING(`"${name}"`))
    return 0
  })
}

/** docker writes `auths` first and keeps the rest in its struct order; berth keeps key order but puts auths first. */
function reorderConfig(cfg: Record<string, unknown>): Record<string, unknown> {
  const { auths, ...rest } = cfg
  return { auths, ...rest }
}

export async function rm(ctx: CliContext): Promise<number> {
  const force = !!ctx.flags.force
  const current = currentContextOf(ctx.configDir)
  const errors: string[] = []
  for (const name of ctx.args) {
    if (name === DEFAULT_CONTEXT) { errors.push(`context "${DEFAULT_CONTEXT}" cannot be removed`); continue }
    if (!contextExists(ctx.configDir, name)) {
      if (force) { ctx.out.write(`${name}\n`); continue }
      errors.push(`context "${name}" does not exist`)
      continue
    }
    if (name === current) {
      if (!force) { errors.push(`context "${name}" is in use, set -f flag to force remove`); continue }
      const cfg = await readConfigFile(ctx.configDir)
      delete cfg.currentContext
      await writeConfigFile(ctx.configDir, reorderConfig(cfg))
    }
    await removeContext(ctx.configDir, name)
    ctx.out.write(`${name}\n`)
  }
  if (errors.length) throw new CliExit(1, errors.join('\n'))
  return 0
}

export async function inspect(ctx: CliContext): Promise<number> {
  const names = ctx.args.length ? ctx.args : [currentName(ctx)]
  const found: unknown[] = []
  const errors: string[] = []
  for (const name of names) {
    try {
      const c = await getContext(ctx, name)
      const material: Record<string, string[]> = {}
      for (const [ep, files] of Object.entries(c.tls)) if (Object.keys(files).length) material[ep] = Object.keys(files).sort()
      found.push({
        Name: c.meta.Name,
        Metadata: c.meta.Metadata,
        Endpoints: c.meta.Endpoints,
        TLSMaterial: c.stored ? c.stored.tlsMaterial : material,
        Storage: c.stored ? { MetadataPath: c.stored.metaPath, TLSPath: c.stored.tlsPath } : { MetadataPath: '<IN MEMORY>', TLSPath: '<IN MEMORY>' },
      })
    } catch (err) {
      if (!(err instanceof ContextStoreError)) throw err
      errors.push(err.message)
    }
  }
  const format = ctx.flags.format as string | undefined
  if (!format || isJsonFormat(format)) ctx.out.write(`${found.length ? goJson(found, '    ') : '[]'}\n`)
  else for (const e of found) ctx.out.write(`${executeTemplate(format, e)}\n`)
  if (errors.length) throw new CliExit(1, errors.join('\n'))
  return 0
}

export async function exportCmd(ctx: CliContext): Promise<number> {
  const name = ctx.args[0]!
  const dest = ctx.args[1] ?? `${name}.dockercontext`
  return storeErrors(async () => {
    const c = await getContext(ctx, name)
    const data = exportArchive({ ...c.meta, Name: name }, c.tls)
    if (dest === '-') {
      if (process.stdout.isTTY) throw new CliExit(1, 'cowardly refusing to export to a terminal, specify a file path')
      await new Promise<void>((resolve, reject) => ctx.out.write(data, (err) => (err ? reject(err) : resolve())))
      return 0
    }
    try {
      await writeFile(dest, data, { mode: 0o600, flag: 'wx' })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new CliExit(1, `open ${dest}: file exists`)
      throw err
    }
    ctx.err.write(`Written file "${dest}"\n`)
    return 0
  })
}

export async function importCmd(ctx: CliContext): Promise<number> {
  const [name, source] = ctx.args as [string, string]
  return storeErrors(async () => {
    validateName(name)
    if (contextExists(ctx.configDir, name)) throw new CliExit(1, `context "${name}" already exists`)
    let data: Buffer
    if (source === '-') {
      const chunks: Buffer[] = []
      for await (const c of process.stdin) chunks.push(c as Buffer)
      data = Buffer.concat(chunks)
    } else {
      try {
        data = await readFile(source)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new CliExit(1, `open ${source}: no such file or directory`)
        throw err
      }
    }
    const { meta, tls } = parseArchive(data)
    meta.Name = name
    await writeContext(ctx.configDir, meta, tls)
    ctx.out.write(`${name}\n`)
    ctx.err.write(`Successfully imported context "${name}"\n`)
    return 0
  })
}

/** `berth system ssh-mux URL`: the detached holder of a shared SSH connection (client/ssh-mux.ts). */
export async function sshMux(ctx: CliContext): Promise<number> {
  const { runMux } = await import('../../client/ssh-mux.js')
  try {
    await runMux(ctx.args[0]!)
    return 0
  } catch (err) {
    ctx.err.write(`ssh-mux: ${(err as Error).message}\n`)
    return 1
  }
}

/** `berth system dial-stdio`: relay stdin/stdout to the daemon's socket (what ssh:// clients run remotely). */
export async function dialStdio(ctx: CliContext): Promise<number> {
  const { resolveEndpoint } = await import('../context.js')
  const ep = resolveEndpoint(ctx.global)
  const { connect } = await import('node:net')
  let sock: import('node:net').Socket
  if (ep.host.startsWith('unix://') || ep.host.startsWith('/')) sock = connect({ path: ep.host.replace(/^unix:\/\//, '') })
  else {
    const m = /^tcp:\/\/(\[[^\]]+\]|[^:/]+)(?::(\d+))?/.exec(ep.host)
    if (!m || ep.tls) throw new CliExit(1, `dial-stdio: unsupported host ${ep.host}: a unix socket or plain tcp:// host is needed`)
    sock = connect({ host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2] ?? 2375) })
  }
  return new Promise<number>((resolve) => {
    sock.on('error', (err) => {
      ctx.err.write(`dial-stdio: Cannot connect to the Berth daemon at ${ep.host}: ${err.message}\n`)
      resolve(1)
    })
    sock.on('connect', () => {
      process.stdin.pipe(sock)
      // stdin closed: half-close towards the daemon, keep reading its answer.
      process.stdin.on('end', () => sock.end())
      sock.pipe(process.stdout)
      sock.on('end', () => {
        process.stdout.end()
      })
      sock.on('close', () => resolve(0))
    })
  })
}
