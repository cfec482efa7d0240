import type { Response } from '../../client/client.js'
import { authKeyFor, DOCKER_HUB_AUTH_KEY } from '../../distribution/hosts.js'
import { encodeRegistryAuth } from '../../distribution/auth-header.js'
import { progressBar, type ProgressMessage } from '../../distribution/progress.js'
import { familiarName, parseNormalizedNamed, referenceString, type Reference } from '../../distribution/reference.js'
import { eraseCredentials, getCredentials, storeCredentials } from '../config-file.js'
import { CliExit, type CliContext } from '../context.js'
import { filtersParam, renderTable } from '../format.js'

function parseRef(s: string): Reference {
  try {
    return parseNormalizedNamed(s)
  } catch (err) {
    throw new CliExit(1, (err as Error).message)
  }
}

/** The X-Registry-Auth header for a registry domain, from the config file (or a helper). */
export async function registryAuthHeader(ctx: CliContext, domain: string): Promise<Record<string, string>> {
  const key = authKeyFor(domain)
  const creds = await getCredentials(ctx.configDir, key)
  if (!creds) return {}
  return { 'X-Registry-Auth': encodeRegistryAuth({ username: creds.username, password: creds.password, serveraddress: key, ...(creds.identitytoken ? { identitytoken: creds.identitytoken } : {}) }) }
}

/**
 * Print a pull/push progress stream as the docker CLI does: on a terminal one line per layer,
 * updated in place with a bar; otherwise plain status lines without the progress updates.
 */
export async function displayProgress(ctx: CliContext, res: Response, quiet: boolean, out: NodeJS.WriteStream = ctx.out): Promise<void> {
  const tty = !!out.isTTY && !quiet
  const lines = new Map<string, number>()
  for await (const m of ctx.client().jsonStream<ProgressMessage>(res)) {
    if (quiet || m.aux !== undefined) continue
    const detail = m.progressDetail
    const hasProgress = !!detail && (detail.current !== undefined || detail.total !== undefined)
    const text = m.id ? `${m.id}: ${m.status ?? ''}` : `${m.status ?? ''}`
    if (!tty) {
      if (hasProgress) continue
      out.write(`${text}\n`)
      continue
    }
    if (m.id && detail) {
      let line = lines.get(m.id)
      if (line === undefined) {
        line = lines.size
        lines.set(m.id, line)
        out.write('\n')
      }
      const diff = lines.size - line
      const bar = hasProgress ? ` ${progressBar(detail.current ?? 0, detail.total ?? 0)}` : ''
      out.write(`\x1b[${diff}A\x1b[2K\r${text}${bar}\r\x1b[${diff}B`)
    } else {
      lines.clear()
      out.write(`\x1b[2K\r${text}\n`)
    }
  }
}

export async function pull(ctx: CliContext): Promise<void> {
  const [name] = ctx.args as [string]
  const all = !!ctx.flags['all-tags']
  const quiet = !!ctx.flags.quiet
  const ref = parseRef(name)
  if (all && (ref.tag !== undefined || ref.digest !== undefined)) throw new CliExit(1, 'tag can\'t be used with --all-tags/-a')
  let tag = ref.tag
  if (!all && tag === undefined && ref.digest === undefined) {
    tag = 'latest'
    if (!quiet) ctx.out.write('Using default tag: latest\n')
  }
  const query: Record<string, string> = { fromImage: familiarName(ref) }
  if (ref.digest) query.tag = ref.digest
  else if (tag) query.tag = tag
  const platform = ctx.flags.platform as string | undefined
  if (platform) query.platform = platform
  const headers = await registryAuthHeader(ctx, ref.domain)
  const res = await ctx.client().call('POST', '/images/create', { query, headers })
  await displayProgress(ctx, res, quiet)
  const full: Reference = { ...ref, ...(tag && !ref.digest ? { tag } : {}) }
  ctx.out.write(`${all ? ref.name : referenceString(full)}\n`)
}

/**
 * The pull `run` and `create` do for a missing image (`--pull missing`) or always (`--pull
 * always`), as the docker CLI does it: progress on stderr (nothing with `quiet`), the
 * registry credentials from the config file, the platform passed on.
 */
export async function pullForRun(ctx: CliContext, image: string, opts: { platform?: string; quiet?: boolean } = {}): Promise<void> {
  const ref = parseRef(image)
  const query: Record<string, string> = { fromImage: familiarName(ref), tag: ref.digest ?? ref.tag ?? 'latest' }
  if (opts.platform) query.platform = opts.platform
  const headers = await registryAuthHeader(ctx, ref.domain)
  const res = await ctx.client().call('POST', '/images/create', { query, headers })
  await displayProgress(ctx, res, !!opts.quiet, ctx.err)
}

export async function push(ctx: CliContext): Promise<void> {
  const [name] = ctx.args as [string]
  const all = !!ctx.flags['all-tags']
  const quiet = !!ctx.flags.quiet
  const ref = parseRef(name)
  if (all && (ref.tag !== undefined || ref.digest !== undefined)) throw new CliExit(1, 'tag can\'t be used with --all-tags/-a')
  if (ctx.flags.platform) throw new CliExit(1, '--platform is not supported by berth push')
  let tag = ref.tag
  if (!all && tag === undefined) {
    tag = 'latest'
    if (!quiet) ctx.out.write('Using default tag: latest\n')
  }
  const headers = await registryAuthHeader(ctx, ref.domain)
  const res = await ctx.client().call('POST', `/images/${encodeURIComponent(familiarName(ref)).replace(/%2F/g, '/').replace(/%3A/g, ':')}/push`, { query: { tag: tag ?? '' }, headers })
  await displayProgress(ctx, res, quiet)
  if (quiet) ctx.out.write(`${all ? ref.name : `${ref.name}:${tag}`}\n`)
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of process.stdin) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/** Docker's server-address handling: hub by default, else the host name of what was given. */
function loginKey(server: string | undefined): { key: string; address: string } {
  if (!server || server === DOCKER_HUB_AUTH_KEY || /^(https?:\/\/)?(index\.)?docker\.io\/?/.test(server)) return { key: DOCKER_HUB_AUTH_KEY, address: DOCKER_HUB_AUTH_KEY }
  const host = server.replace(/^https?:\/\//, '').replace(/\/.*$/, '')
  return { key: host, address: host }
}

export async function login(ctx: CliContext): Promise<void> {
  const server = ctx.args[0]
  let username = ctx.flags.username as string | undefined
  let password = ctx.flags.password as string | undefined
  const fromStdin = !!ctx.flags['password-stdin']
  if (password !== undefined && fromStdin) throw new CliExit(1, '--password and --password-stdin are mutually exclusive')
  if (fromStdin) {
    if (!username) throw new CliExit(1, 'Must provide --username with --password-stdin')
    password = (await readStdin()).replace(/\r?\n$/, '').replace(/\r$/, '')
  } else if (password !== undefined) {
    ctx.err.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n')
  }
  const { key, address } = loginKey(server)
  if (!username || password === undefined) {
    const stored = await getCredentials(ctx.configDir, key)
    if (stored && !username && password === undefined) {
      username = stored.username
      password = stored.password
      ctx.out.write('Authenticating with existing credentials...\n')
    } else if (!process.stdin.isTTY) {
      throw new CliExit(1, 'Error: Cannot perform an interactive login from a non TTY device')
    } else {
      throw new CliExit(1, 'interactive login is not supported by berth; use -u and --password-stdin')
    }
  }
  if (!password) throw new CliExit(1, 'Error: Password Required')
  const res = await ctx.client().json<{ Status?: string; IdentityToken?: string }>('POST', '/auth', { body: { username, password, serveraddress: address } })
  await storeCredentials(ctx.configDir, key, { username: username!, password: res?.IdentityToken ? '' : password, ...(res?.IdentityToken ? { identitytoken: res.IdentityToken } : {}) })
  ctx.err.write(`WARNING! Your credentials are stored unencrypted in '${ctx.configDir}/config.json'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n\n`)
  ctx.out.write(`${res?.Status ?? 'Login Succeeded'}\n`)
}

export async function logout(ctx: CliContext): Promise<void> {
  const { key } = loginKey(ctx.args[0])
  const removed = await eraseCredentials(ctx.configDir, key)
  if (!removed) {
    ctx.out.write(`Not logged in to ${key}\n`)
    return
  }
  ctx.out.write(`Removing login credentials for ${key}\n`)
}

interface WireSearchResult { name: string; description: string; star_count: number; is_official: boolean; is_automated: boolean }

export async function search(ctx: CliContext): Promise<void> {
  const [term] = ctx.args as [string]
  const limit = ctx.flags.limit as number | undefined
  const filters = filtersParam(ctx.flags.filter as string[] | undefined)
  const slash = term.indexOf('/')
  const first = slash > -1 ? term.slice(0, slash) : ''
  const domain = first.includes('.') || first.includes(':') || first === 'localhost' ? first : 'docker.io'
  const headers = await registryAuthHeader(ctx, domain)
  const query: Record<string, string> = { term }
  if (limit) query.limit = String(limit)
  if (Object.keys(filters).length) query.filters = JSON.stringify(filters)
  const results = await ctx.client().json<WireSearchResult[]>('GET', '/images/search', { query, headers })
  const noTrunc = !!ctx.flags['no-trunc']
  const rows = (results ?? []).map((r) => {
    let description = r.description.replace(/\n/g, ' ')
    if (!noTrunc && [...description].length > 45) description = `${[...description].slice(0, 44).join('')}…`
    return { Name: r.name, Description: description, StarCount: String(r.star_count), IsOfficial: r.is_official ? '[OK]' : '', IsAutomated: r.is_automated ? '[OK]' : '' }
  })
  await renderTable(ctx, {
    format: ctx.flags.format as string | undefined,
    defaultFormat: 'table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}',
    headers: { Name: 'NAME', Description: 'DESCRIPTION', StarCount: 'STARS', IsOfficial: 'OFFICIAL', IsAutomated: 'AUTOMATED' },
    rows,
  })
}
