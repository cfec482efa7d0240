import { mkdir, readdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { conflict, invalid, notFound } from '../../lib/errors.js'
import { readJson, writeJsonAtomic } from '../../lib/fs.js'
import { KeyedLock } from '../../lib/lock.js'
import { isMountPoint, unmount } from '../../platform/mount.js'
import { run } from '../../platform/exec.js'
import { duBytes } from '../../platform/du.js'
import type { EventBus } from '../events/bus.js'
import type { Filters } from '../../lib/filters.js'
import { validVolumeName } from '../containers/mounts.js'

/** A volume of the `local` driver: `<data-root>/volumes/<name>/{volume.json,_data}`. */
export interface Volume {
  name: string
  driver: 'local'
  labels: Record<string, string>
  /** Driver options (`type`, `device`, `o`): mounted on `_data` while containers use it. */
  options: Record<string, string>
  createdAt: string
  /** Made for one container (`-v /path`, image VOLUME): removed with it by `rm -v`. */
  anonymous: boolean
}

const LOCAL_OPTIONS = ['type', 'device', 'o', 'size']
/** Docker marks anonymous volumes with this label (API 1.42+ prune keeps named ones). */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous'

/** The containers using each volume, from the container records (for in-use checks and `dangling`). */
export type VolumeUsers = (name: string) => string[]

/**
 * Named and anonymous volumes of the local driver, as Docker keeps them. A volume with driver
 * options (`-o type=tmpfs ...`) is mounted on its `_data` when its first container starts and
 * unmounted after the last one stops. Sizes are measured in the background and cached.
 */
export class VolumeService {
  readonly #volumes = new Map<string, Volume>()
  readonly #locks = new KeyedLock()
  readonly #root: string
  readonly #mountUsers = new Map<string, Set<string>>()
  readonly #sizes = new Map<string, { size: number; at: number }>()
  #users: VolumeUsers = () => []

  constructor(dataRoot: string, readonly events: EventBus, readonly log: (msg: string) => void) {
    this.#root = join(dataRoot, 'volumes')
  }

  setUsers(users: VolumeUsers): void {
    this.#users = users
  }

  /** The containers using a volume, whatever their state. */
  usersOf(name: string): string[] {
    return this.#users(name)
  }

  async init(): Promise<void> {
    await mkdir(this.#root, { recursive: true, mode: 0o701 })
    for (const name of await readdir(this.#root)) {
      if (name.startsWith('.')) {
        // A removal cut short by a crash: finish it.
        await this.#purge(join(this.#root, name))
        continue
      }
      const v = await readJson<Volume>(join(this.#root, name, 'volume.json')).catch(() => undefined)
      if (!v) {
        // A create cut short before its record was written.
        await this.#purge(join(this.#root, name))
        continue
      }
      // Nothing uses a driver mount while berthd starts: running containers remount at their next start.
      if (Object.keys(v.options).length && (await isMountPoint(this.dataPath(name)))) this.#mountUsers.set(name, new Set(['(running before restart)']))
      this.#volumes.set(name, v)
    }
  }

  dataPath(name: string): string {
    return join(this.#root, name, '_data')
  }

  get(name: string): Volume {
    const v = this.#volumes.get(name)
    if (!v) throw notFound('ERR_VOLUME_NOT_FOUND', `get ${name}: no such volume`)
    return v
  }

  has(name: string): boolean {
    return this.#volumes.has(name)
  }

  list(filters?: Filters): Volume[] {
    let list = [...this.#volumes.values()]
    if (!filters) return list
    const dangling = filters.get('dangling')
    for (const d of dangling) if (!['true', 'false', '1', '0'].includes(d)) throw invalid('ERR_INVALID_FILTER', `invalid filter 'dangling=${d}'`)
    list = list.filter((v) => {
      if (dangling.length) {
        const unused = this.#users(v.name).length === 0
        if (!dangling.some((d) => (d === 'true' || d === '1') === unused)) return false
      }
      if (filters.has('name') && !filters.get('name').some((n) => v.name.includes(n))) return false
      if (filters.has('driver') && !filters.get('driver').includes(v.driver)) return false
      if (!filters.matchLabels('label', v.labels)) return false
      return true
    })
    return list
  }

  /** Docker's create: an existing volume of that name is returned as it is. */
  async create(opts: { name?: string; driver?: string; labels?: Record<string, string>; options?: Record<string, string>; anonymous?: boolean } = {}): Promise<Volume> {
    const driver = opts.driver || 'local'
    // Docker: a volume created without a name is anonymous (random name, the anonymous label).
    const anonymous = !!opts.anonymous || !opts.name
    const name = opts.name || randomBytes(32).toString('hex')
    if (opts.name) {
      try { validVolumeName(name) } catch (err) { throw invalid('ERR_VOLUME_NAME', `create ${name}: ${(err as Error).message}`) }
    }
    if (driver !== 'local') throw notFound('ERR_VOLUME_DRIVER', `create ${name}: error looking up volume plugin ${driver}: plugin "${driver}" not found`)
    const options = opts.options ?? {}
    for (const k of Object.keys(options)) if (!LOCAL_OPTIONS.includes(k)) throw invalid('ERR_VOLUME_OPTION', `create ${name}: invalid option key: "${k}"`)
    if (options.type && !options.device) throw invalid('ERR_VOLUME_OPTION', `create ${name}: missing required option: "device"`)
    await using _ = await this.#locks.acquire(name)
    const existing = this.#volumes.get(name)
    if (existing) return existing
    const dir = join(this.#root, name)
    await mkdir(join(dir, '_data'), { recursive: true, mode: 0o755 })
    const v: Volume = {
      name, driver: 'local',
      labels: { ...(opts.labels ?? {}), ...(anonymous ? { [ANONYMOUS_LABEL]: '' } : {}) },
      options, createdAt: new Date().toISOString(), anonymous,
    }
    await writeJsonAtomic(join(dir, 'volume.json'), v)
    this.#volumes.set(name, v)
    this.events.emit('volume', 'create', name, { driver: 'local' })
    return v
  }

  async remove(name: string, { force = false }: { force?: boolean } = {}): Promise<void> {
    const v = this.#volumes.get(name)
    if (!v) {
      if (force) return
      throw notFound('ERR_VOLUME_NOT_FOUND', `get ${name}: no such volume`)
    }
    const users = this.#users(name)
    if (users.length) throw conflict('ERR_VOLUME_IN_USE', `remove ${name}: volume is in use - [${users.join(', ')}]`)
    await using _ = await this.#locks.acquire(name)
    if (!this.#volumes.has(name)) return
    await unmount(this.dataPath(name)).catch(() => {})
    // Renamed out of the way first, so a crash midway never leaves a half volume that lists.
    const gone = join(this.#root, `.rm-${name}-${randomBytes(4).toString('hex')}`)
    await rename(join(this.#root, name), gone)
    this.#volumes.delete(name)
    this.#sizes.delete(name)
    this.events.emit('volume', 'destroy', name, { driver: 'local' })
    await this.#purge(gone)
  }

  async #purge(dir: string): Promise<void> {
    await unmount(join(dir, '_data')).catch(() => {})
    await rm(dir, { recursive: true, force: true })
  }

  /** Remove unused volumes: anonymous ones only, unless `all=true` (API 1.42+ semantics). */
  async prune(filters: Filters, allByDefault: boolean): Promise<{ deleted: string[]; reclaimed: number }> {
    filters.validate(['label', 'label!', 'all', 'dangling', 'name', 'driver'])
    const all = filters.get('all').some((a) => a === 'true' || a === '1') || allByDefault
    const deleted: string[] = []
    let reclaimed = 0
    for (const v of this.list()) {
      if (this.#users(v.name).length) continue
      // As dockerd: without all=true only volumes carrying the anonymous label go.
      if (!all && !v.anonymous && !(ANONYMOUS_LABEL in v.labels)) continue
      if (!filters.matchLabels('label', v.labels)) continue
      if (filters.has('label!') && filters.get('label!').some((l) => { const [k, val] = l.split('='); return k! in v.labels && (val === undefined || v.labels[k!] === val) })) continue
      const size = await this.size(v.name).catch(() => 0)
      await this.remove(v.name).catch((e) => this.log(`prune ${v.name}: ${String(e)}`))
      if (!this.#volumes.has(v.name)) { deleted.push(v.name); reclaimed += Math.max(0, size) }
    }
    return { deleted, reclaimed }
  }

  /** Mount a driver-option volume for a container (no-op for plain ones). */
  async mountFor(name: string, containerId: string): Promise<void> {
    const v = this.get(name)
    if (!Object.keys(v.options).length) return
    await using _ = await this.#locks.acquire(name)
    const users = this.#mountUsers.get(name) ?? new Set<string>()
    if (users.size === 0 && !(await isMountPoint(this.dataPath(name)))) {
      const args = ['-t', v.options.type ?? 'none']
      const o = [v.options.o, v.options.size ? `size=${v.options.size}` : ''].filter(Boolean).join(',')
      if (o) args.push('-o', o)
      args.push(v.options.device ?? 'none', this.dataPath(name))
      const r = await run('mount', args)
      if (r.code !== 0) throw invalid('ERR_VOLUME_MOUNT', `error while mounting volume '${this.dataPath(name)}': failed to mount local volume: ${r.stderr.trim()}`)
    }
    users.add(containerId)
    this.#mountUsers.set(name, users)
  }

  async unmountFor(name: string, containerId: string): Promise<void> {
    const users = this.#mountUsers.get(name)
    if (!users) return
    users.delete(containerId)
    users.delete('(running before restart)')
    if (users.size) return
    this.#mountUsers.delete(name)
    await using _ = await this.#locks.acquire(name)
    await unmount(this.dataPath(name)).catch((e) => this.log(`unmount volume ${name}: ${String(e)}`))
  }

  /**
   * The volume's size in bytes, measured by walking it at most once a minute (and in the
   * background after the first time): `system df -v` does not walk every file on each request.
   */
  async size(name: string): Promise<number> {
    const cached = this.#sizes.get(name)
    const now = Date.now()
    if (cached && now - cached.at < 60_000) return cached.size
    const measure = duBytes(this.dataPath(name)).then((size) => { this.#sizes.set(name, { size, at: Date.now() }); return size })
    if (cached) { void measure.catch(() => {}); return cached.size }
    return measure
  }
}
