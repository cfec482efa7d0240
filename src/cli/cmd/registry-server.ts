import { CliExit, type CliContext } from '../context.js'
import { EngineError } from '../../lib/errors.js'
import { accountsPath, checkAccountName, hashPassword, readAccounts, ROLES, updateAccounts, type AccountsFile, type Role } from '../../registry/accounts.js'
import { loadConfig, type RegistryConfig } from '../../registry/config.js'
import { collectGarbage, parseDuration } from '../../registry/gc.js'
import { startRegistry } from '../../registry/serve.js'
import { Storage } from '../../registry/storage.js'

/** Columns padded as docker's tables are (three spaces between columns). */
function renderTable(head: string[], rows: string[][]): string {
  const all = [head, ...rows]
  const w = head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)))
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]! + 3))).join('').trimEnd() + '\n').join('')
}

const DEFAULT_ROOT = '/var/lib/berth-registry'

async function config(ctx: CliContext, withListen = false): Promise<RegistryConfig> {
  const f = ctx.flags
  try {
    return await loadConfig({
      ...(f.config ? { configFile: f.config as string } : {}),
      ...(f['data-root'] ? { dataRoot: f['data-root'] as string } : f.config ? {} : { dataRoot: DEFAULT_ROOT }),
      ...(withListen && f.listen ? { listen: f.listen as string } : {}),
      ...(f['log-level'] ? { logLevel: f['log-level'] as string } : {}),
    })
  } catch (err) {
    if (err instanceof EngineError) throw new CliExit(1, err.message)
    throw err
  }
}

async function accountsFile(ctx: CliContext): Promise<string> {
  const c = await config(ctx)
  return accountsPath(c.root, c.usersFile)
}

async function update(ctx: CliContext, fn: (a: AccountsFile) => void | Promise<void>): Promise<void> {
  try {
    await updateAccounts(await accountsFile(ctx), fn)
  } catch (err) {
    if (err instanceof EngineError) throw new CliExit(1, err.message)
    throw err
  }
}

const fail = (msg: string) => new EngineError('InvalidArgument', 'ERR_REGISTRY_ACCOUNTS', msg)

export async function serve(ctx: CliContext): Promise<number> {
  // Every request is a few small file reads: libuv's default of 4 threads queues them under load.
  process.env.UV_THREADPOOL_SIZE ??= '16'
  const cfg = await config(ctx, true)
  const reg = await startRegistry(cfg)
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      reg.log.write('info', 'shutting down', { signal: sig })
      void reg.close().then(resolve)
    }
    process.once('SIGTERM', () => stop('SIGTERM'))
    process.once('SIGINT', () => stop('SIGINT'))
  })
  return 0
}

export async function gc(ctx: CliContext): Promise<void> {
  const cfg = await config(ctx)
  const storage = new Storage(cfg.root)
  await storage.init()
  const grace = ctx.flags.grace !== undefined ? parseDuration(ctx.flags.grace as string) : cfg.gc.graceMs
  const r = await collectGarbage(storage, { graceMs: grace, uploadMaxAgeMs: cfg.gc.uploadMaxAgeMs, dryRun: !!ctx.flags['dry-run'] })
  ctx.out.write(`${r.plan.toString()}\n`)
  if (!ctx.flags['dry-run']) ctx.out.write(`Deleted ${r.deletedBlobs} blobs (${r.freedBytes} bytes), ${r.plan.revisions.length} manifests, ${r.plan.uploads.length} uploads\n`)
}

async function readPassword(ctx: CliContext): Promise<string> {
  if (!ctx.flags['password-stdin']) throw new CliExit(1, 'the password is read from stdin: pass --password-stdin')
  const chunks: Buffer[] = []
  for await (const c of process.stdin) chunks.push(c as Buffer)
  const pw = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')
  if (pw === '') throw new CliExit(1, 'empty password')
  if (Buffer.byteLength(pw) > 72) throw new CliExit(1, 'password too long: bcrypt uses at most 72 bytes')
  return pw
}

export async function userAdd(ctx: CliContext): Promise<void> {
  const [name] = ctx.args as [string]
  try { checkAccountName(name) } catch (err) { throw new CliExit(1, (err as Error).message) }
  const hash = await hashPassword(await readPassword(ctx))
  await update(ctx, (a) => {
    if (a.users[name]) throw fail(`user ${name} already exists`)
    if (a.orgs[name]) throw fail(`${name} is an organisation`)
    a.users[name] = { password: hash, created: new Date().toISOString() }
  })
}

export async function userPasswd(ctx: CliContext): Promise<void> {
  const [name] = ctx.args as [string]
  const hash = await hashPassword(await readPassword(ctx))
  await update(ctx, (a) => {
    if (!a.users[name]) throw fail(`no such user: ${name}`)
    a.users[name]!.password = hash
  })
}

export async function userRm(ctx: CliContext): Promise<void> {
  const [name] = ctx.args as [string]
  await update(ctx, (a) => {
    if (!a.users[name]) throw fail(`no such user: ${name}`)
    delete a.users[name]
    for (const o of Object.values(a.orgs)) delete o.members[name]
  })
}

export async function userLs(ctx: CliContext): Promise<void> {
  const a = (await readAccounts(await accountsFile(ctx))) ?? { users: {}, orgs: {}, public: [] }
  const rows = Object.entries(a.users).sort(([x], [y]) => x.localeCompare(y)).map(([n, u]) => [n, u.created, Object.entries(a.orgs).filter(([, o]) => n in o.members).map(([o, v]) => `${o}:${v.members[n]}`).join(',')])
  ctx.out.write(renderTable(['USER', 'CREATED', 'ORGANISATIONS'], rows))
}

export async function orgCreate(ctx: CliContext): Promise<void> {
  const [name] = ctx.args as [string]
  try { checkAccountName(name, 'organisation') } catch (err) { throw new CliExit(1, (err as Error).message) }
  await update(ctx, (a) => {
    if (a.orgs[name]) throw fail(`organisation ${name} already exists`)
    if (a.users[name]) throw fail(`${name} is a user`)
    a.orgs[name] = { created: new Date().toISOString(), members: {} }
  })
}

export async function orgRm(ctx: CliContext): Promise<void> {
  const [name] = ctx.args as [string]
  await update(ctx, (a) => {
    if (!a.orgs[name]) throw fail(`no such organisation: ${name}`)
    delete a.orgs[name]
  })
}

export async function orgAddMember(ctx: CliContext): Promise<void> {
  const [org, user] = ctx.args as [string, string]
  const role = ((ctx.flags.role as string | undefined) ?? 'pull') as Role
  if (!ROLES.includes(role)) throw new CliExit(1, `invalid role ${JSON.stringify(role)}: owner, push or pull`)
  await update(ctx, (a) => {
    if (!a.orgs[org]) throw fail(`no such organisation: ${org}`)
    if (!a.users[user]) throw fail(`no such user: ${user}`)
    a.orgs[org]!.members[user] = role
  })
}

export async function orgRmMember(ctx: CliContext): Promise<void> {
  const [org, user] = ctx.args as [string, string]
  await update(ctx, (a) => {
    if (!a.orgs[org]) throw fail(`no such organisation: ${org}`)
    if (!(user in a.orgs[org]!.members)) throw fail(`${user} is not a member of ${org}`)
    delete a.orgs[org]!.members[user]
  })
}

export async function orgLs(ctx: CliContext): Promise<void> {
  const a = (await readAccounts(await accountsFile(ctx))) ?? { users: {}, orgs: {}, public: [] }
  const rows = Object.entries(a.orgs).sort(([x], [y]) => x.localeCompare(y)).map(([n, o]) => [n, Object.entries(o.members).map(([u, r]) => `${u}:${r}`).join(','), a.public.includes(n) ? 'public' : 'private'])
  ctx.out.write(renderTable(['ORGANISATION', 'MEMBERS', 'VISIBILITY'], rows))
}

export async function setPublic(ctx: CliContext): Promise<void> {
  const [name] = ctx.args as [string]
  try { checkAccountName(name, 'namespace') } catch (err) { throw new CliExit(1, (err as Error).message) }
  await update(ctx, (a) => {
    if (!a.public.includes(name)) a.public.push(name)
  })
}

export async function setPrivate(ctx: CliContext): Promise<void> {
  const [name] = ctx.args as [string]
  await update(ctx, (a) => {
    a.public = a.public.filter((n) => n !== name)
  })
}

export async function namespaceLs(ctx: CliContext): Promise<void> {
  const a = (await readAccounts(await accountsFile(ctx))) ?? { users: {}, orgs: {}, public: [] }
  const names = new Set([...Object.keys(a.users), ...Object.keys(a.orgs), ...a.public])
  const rows = [...names].sort().map((n) => [n, a.users[n] ? 'user' : a.orgs[n] ? 'organisation' : '-', a.public.includes(n) ? 'public' : 'private'])
  ctx.out.write(renderTable(['NAMESPACE', 'OWNER', 'VISIBILITY'], rows))
}

type Verb = (ctx: CliContext) => Promise<void>
function dispatch(group: string, verbs: Record<string, [Verb, number]>): (ctx: CliContext) => Promise<void> {
  return async (ctx) => {
    const [verb, ...rest] = ctx.args as [string, ...string[]]
    const v = verbs[verb]
    if (!v) throw new CliExit(1, `berth registry ${group}: unknown command ${JSON.stringify(verb)}: one of ${Object.keys(verbs).join(', ')}`)
    if (rest.length !== v[1]) throw new CliExit(1, `"berth registry ${group} ${verb}" requires exactly ${v[1]} argument${v[1] === 1 ? '' : 's'}.`)
    await v[0]({ ...ctx, args: rest })
  }
}

export const user = dispatch('user', { add: [userAdd, 1], passwd: [userPasswd, 1], rm: [userRm, 1], ls: [userLs, 0] })
export const org = dispatch('org', { create: [orgCreate, 1], 'add-member': [orgAddMember, 2], 'rm-member': [orgRmMember, 2], rm: [orgRm, 1], ls: [orgLs, 0] })
export const namespace = dispatch('namespace', { 'set-public': [setPublic, 1], 'set-private': [setPrivate, 1], ls: [namespaceLs, 0] })
