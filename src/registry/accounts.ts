import { createHash } from 'node:crypto'
import { mkdir, open, readFile, rm, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { EngineError, errno, isNotFoundErrno } from '../lib/errors.js'
import { writeFileAtomic } from '../lib/fs.js'
import { namespaceOf } from './names.js'

export type Role = 'owner' | 'push' | 'pull'
export type Action = 'pull' | 'push' | 'delete'

/** Users, organisations and public namespaces: one JSON file, written atomically. */
export interface AccountsFile {
  users: Record<string, { password: string; created: string }>
  orgs: Record<string, { created: string; members: Record<string, Role> }>
  public: string[]
}

const empty = (): AccountsFile => ({ users: {}, orgs: {}, public: [] })
const ACCOUNT_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/
export const ROLES: Role[] = ['owner', 'push', 'pull']
const BCRYPT_COST = 10

// Imported by a name in a variable: bcrypt is a native addon, which the CLI bundle must not
// inline (its import() becomes the real require of bin/berth; in dist/ it resolves from here).
type Bcrypt = { hash(pw: string, rounds: number): Promise<string>; compare(pw: string, hash: string): Promise<boolean> }
let bcryptMod: Promise<Bcrypt> | undefined
function bcrypt(): Promise<Bcrypt> {
  const name = 'bcrypt'
  bcryptMod ??= (import(name) as Promise<{ default?: Bcrypt } & Bcrypt>).then((m) => m.default ?? m)
  return bcryptMod
}

export function checkAccountName(name: string, what = 'user'): void {
  if (!ACCOUNT_RE.test(name) || name.length > 64) throw new EngineError('InvalidArgument', 'ERR_REGISTRY_ACCOUNT_NAME', `invalid ${what} name ${JSON.stringify(name)}: lowercase letters, digits and separators (. _ -), as a repository path component`)
}

/** The accounts file of a data root unless the config names another. */
export const accountsPath = (dataRoot: string, usersFile?: string) => usersFile ?? join(dataRoot, 'auth', 'accounts.json')

/**
 * Read-modify-write of the accounts file under a lock file, for the `berth registry user/org/
 * namespace` commands; a running server sees the change on its next request.
 */
export async function updateAccounts(path: string, fn: (a: AccountsFile) => void | Promise<void>): Promise<AccountsFile> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  const lock = `${path}.lock`
  const deadline = Date.now() + 10_000
  for (;;) {
    try {
      await (await open(lock, 'wx')).close()
      break
    } catch (err) {
      if (errno(err) !== 'EEXIST') throw err
      const age = Date.now() - (await stat(lock).then((s) => s.mtimeMs, () => Date.now()))
      if (age > 30_000) await rm(lock, { force: true })
      else if (Date.now() > deadline) throw new EngineError('Unavailable', 'ERR_REGISTRY_LOCKED', `${lock} is held by another command`)
      else await new Promise((r) => setTimeout(r, 50))
    }
  }
  try {
    const a = (await readAccounts(path)) ?? empty()
    await fn(a)
    await writeFileAtomic(path, JSON.stringify(a, null, 2), 0o600)
    return a
  } finally {
    await rm(lock, { force: true })
  }
}

export async function readAccounts(path: string): Promise<AccountsFile | undefined> {
  try {
    const a = JSON.parse(await readFile(path, 'utf8')) as Partial<AccountsFile>
    return { users: a.users ?? {}, orgs: a.orgs ?? {}, public: a.public ?? [] }
  } catch (err) {
    if (isNotFoundErrno(err)) return undefined
    throw err
  }
}

export const hashPassword = async (pw: string) => (await bcrypt()).hash(pw, BCRYPT_COST)

/**
 * The accounts as a running server sees them: re-read when the file changes (checked at most
 * every 200 ms), passwords checked with bcrypt once and then remembered until the file changes.
 */
export class Accounts {
  readonly path: string
  #data: AccountsFile = empty()
  #stamp = ''
  #checked = 0
  #verified = new Map<string, string>()
  generation = 0

  constructor(path: string) {
    this.path = path
  }

  async refresh(force = false): Promise<void> {
    const now = Date.now()
    if (!force && now - this.#checked < 200) return
    this.#checked = now
    let stamp = 'none'
    try {
      const s = await stat(this.path)
      stamp = `${s.ino}:${s.mtimeMs}:${s.size}`
    } catch (err) {
      if (!isNotFoundErrno(err)) throw err
    }
    if (stamp === this.#stamp) return
    this.#data = (await readAccounts(this.path)) ?? empty()
    this.#stamp = stamp
    this.#verified.clear()
    this.generation++
  }

  /** The user's name when the password is right, else undefined. */
  async authenticate(user: string, password: string): Promise<string | undefined> {
    await this.refresh()
    const u = this.#data.users[user]
    if (!u) return undefined
    const key = createHash('sha256').update(`${user}\0${password}\0${u.password}`).digest('hex')
    if (this.#verified.has(key)) return user
    if (!(await (await bcrypt()).compare(password, u.password))) return undefined
    this.#verified.set(key, user)
    return user
  }

  /** A fingerprint of the user's stored credentials (undefined: no such user): refresh tokens carry it. */
  credentialStamp(user: string): string | undefined {
    const u = this.#data.users[user]
    return u ? createHash('sha256').update(`${user}\0${u.password}`).digest('hex').slice(0, 32) : undefined
  }

  hasUser(user: string): boolean {
    return user in this.#data.users
  }

  isPublic(ns: string): boolean {
    return this.#data.public.includes(ns)
  }

  /** The actions `user` (undefined: anonymous) holds on repository `name`. */
  actions(user: string | undefined, name: string): Set<Action> {
    const ns = namespaceOf(name)
    const out = new Set<Action>()
    if (this.isPublic(ns)) out.add('pull')
    if (user === undefined || !this.hasUser(user)) return out
    if (ns === user) return new Set(['pull', 'push', 'delete'])
    const role = this.#data.orgs[ns]?.members[user]
    if (role) out.add('pull')
    if (role === 'push' || role === 'owner') out.add('push')
    if (role === 'owner') out.add('delete')
    return out
  }
}
