import { constants, watch, type FSWatcher } from 'node:fs'
import { link, open, rename, stat, unlink } from 'node:fs/promises'
import { errno, invalid, isNotFoundErrno } from '../../lib/errors.js'
import { pathInProcessCwd } from '../../platform/fd-path.js'
import { keepPath, rotatedPath } from './logs.js'
import type { LifecycleListener } from './service.js'
import type { ContainerRecord, HostConfig } from './types.js'

export type LogConfig = HostConfig['logConfig']

/** The daemon's defaults (`log-driver`, `log-opts` of daemon.json). */
export interface LogDefaults {
  type: string
  config: Record<string, string>
}

/** Rotation of one container's log, in effect. */
export interface LogSettings {
  /** Bytes per file before it is rotated. */
  maxSize: number
  /** Files kept, the current one included. */
  maxFile: number
  compress: boolean
}

/** Built-in defaults: rotation is on unless the container or daemon.json says otherwise. */
export const DEFAULT_MAX_SIZE = '20m'
export const DEFAULT_MAX_FILE = 5

/** Drivers berthd can run, with the options each accepts (Docker's lists). */
const DRIVER_OPTS: Record<string, string[]> = {
  'json-file': ['max-file', 'max-size', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag'],
  // Podman's name for conmon's own format; berth writes that format for every driver.
  'k8s-file': ['max-file', 'max-size', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag'],
  local: ['max-file', 'max-size', 'compress'],
}

const INIT = 'failed to initialize logging driver: '

/**
 * docker/go-units FromHumanSize: decimal units (k = 1000), an optional `b`/`ib` suffix, case
 * insensitive. Throws Docker's `invalid size: '...'`.
 */
export function parseHumanSize(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s?([kmgtp])?i?b?\s*$/i.exec(s)
  if (!m) throw new Error(`invalid size: '${s}'`)
  const mult = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 }[(m[2] ?? '').toLowerCase() as '' | 'k']
  return Math.floor(Number(m[1]) * mult)
}

/** go's strconv.ParseBool. */
function parseBool(s: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false
  throw new Error(`strconv.ParseBool: parsing "${s}": invalid syntax`)
}

/** go's strconv.Atoi (the messages Docker passes through). */
function atoi(s: string): number {
  if (!/^[+-]?\d+$/.test(s)) throw new Error(`strconv.Atoi: parsing "${s}": invalid syntax`)
  const n = Number(s)
  if (!Number.isSafeInteger(n)) throw new Error(`strconv.Atoi: parsing "${s}": value out of range`)
  return n
}

/**
 * Check a log configuration as dockerd does (logger.ValidateLogOpts, then the driver's own
 * checks, which Docker runs when the driver starts and berth runs up front). Throws plain Errors
 * carrying Docker's messages.
 */
function validateLogConfig(type: string, config: Record<string, string>): void {
  if (type === 'none') return
  const mode = config.mode ?? ''
  if (!['', 'blocking', 'non-blocking'].includes(mode)) throw new Error(`logger: logging mode not supported: ${mode}`)
  if ('max-buffer-size' in config) {
    if (mode !== 'non-blocking') throw new Error(`logger: max-buffer-size option is only supported with 'mode=non-blocking'`)
    if (!/^\s*\d+(\.\d+)?\s?([kmgtp])?i?b?\s*$/i.test(config['max-buffer-size']!)) throw new Error(`error parsing option max-buffer-size: invalid size: '${config['max-buffer-size']}'`)
  }
  const allowed = DRIVER_OPTS[type]
  if (!allowed) throw new Error(`logger: no log driver named '${type}' is registered`)
  for (const key of Object.keys(config)) {
    if (key === 'mode' || key === 'max-buffer-size') continue
    if (!allowed.includes(key)) throw new Error(type === 'local' ? `unknown log opt '${key}' for log driver local` : `unknown log opt '${key}' for ${type} log driver`)
  }
  logSettingsOf(type, config, INIT)
  for (const k of ['labels-regex', 'env-regex']) {
    const re = config[k]
    if (re) {
      try {
        new RegExp(re)
      } catch (err) {
        throw new Error(`${INIT}error parsing regexp: ${(err as Error).message}`)
      }
    }
  }
}

function logSettingsOf(type: string, config: Record<string, string>, prefix = ''): LogSettings {
  const wrap = <T>(f: () => T): T => {
    try {
      return f()
    } catch (err) {
      throw new Error(`${prefix}${(err as Error).message}`)
    }
  }
  const maxSize = wrap(() => parseHumanSize(config['max-size'] ?? DEFAULT_MAX_SIZE))
  if (maxSize <= 0) throw new Error(`${prefix}max-size must be a positive number`)
  const maxFile = wrap(() => atoi(config['max-file'] ?? String(DEFAULT_MAX_FILE)))
  if (maxFile < 1) throw new Error(`${prefix}max-file cannot be less than 1`)
  const compress = wrap(() => parseBool(config.compress ?? 'false'))
  if (compress && maxFile === 1 && type !== 'local') throw new Error(`${prefix}compress cannot be true when max-file is less than 2 or max-size is not set`)
  return { maxSize, maxFile, compress }
}

/**
 * Validate a container's log driver and options and fill in the daemon's defaults, as Docker's
 * create does: an empty type is the daemon's driver, and the daemon's options fill the keys the
 * container leaves out when it uses the daemon's driver. Rotation defaults (max-size 20m,
 * max-file 5) are not written into the config; `logSettings` applies them.
 */
export function resolveLogConfig(cfg: LogConfig, defaults?: LogDefaults): LogConfig {
  const dflt = defaults ?? { type: 'json-file', config: {} }
  const type = cfg.type || dflt.type || 'json-file'
  const config = { ...cfg.config }
  if (type === dflt.type) for (const [k, v] of Object.entries(dflt.config)) if (!(k in config)) config[k] = v
  try {
    validateLogConfig(type, config)
  } catch (err) {
    throw invalid('ERR_LOG_CONFIG', (err as Error).message)
  }
  return { type, config }
}

/** Validate daemon.json's `log-driver`/`log-opts` (dockerd refuses to start on bad ones). */
export function validateLogDefaults(d: LogDefaults): void {
  try {
    validateLogConfig(d.type, d.config)
  } catch (err) {
    throw new Error((err as Error).message.replace(INIT, ''))
  }
}

/** The rotation in effect for a container (undefined for `none`). */
export function logSettings(cfg: LogConfig): LogSettings | undefined {
  if (cfg.type === 'none') return undefined
  try {
    return logSettingsOf(cfg.type, cfg.config)
  } catch {
    // Validated at create; a record from an older berthd falls back to the defaults.
    return logSettingsOf(cfg.type, {})
  }
}

/**
 * What conmon is told about the log. Its `--log-size-max` is a safety net for when berthd is not
 * running: at that size conmon opens `<log>.tmp` and renames it over the log, so the old file
 * survives only through the rotator's hard link. conmon's size counter is cumulative (its
 * reopen on the control FIFO does not reset it), so the cap is set well above max-size: one
 * forced cut per max-file rotations at most, which the rotator files like its own.
 * With the `none` driver conmon writes to /dev/null (it is never asked to reopen that log).
 */
export function monitorLogOptions(cfg: LogConfig): { logSizeMax?: number; noLog?: boolean } {
  if (cfg.type === 'none') return { noLog: true }
  const s = logSettings(cfg)
  if (!s) return {}
  return { logSizeMax: safetyCap(s) }
}

export function safetyCap(s: LogSettings): number {
  return s.maxSize * Math.max(2, s.maxFile)
}

// ---- rotation

/**
 * The checks' pace: from a few ms for a fast writer to a second for a slow one; an idle log is
 * watched for its next write and otherwise checked every minute.
 */
const MIN_INTERVAL_MS = 5
const MAX_ACTIVE_INTERVAL_MS = 1000
const MAX_INTERVAL_MS = 60_000
const FIRST_INTERVAL_MS = 250
/** Checks planned further apart than this also wake on the log's next write. */
const WATCH_ABOVE_MS = 20

interface Watched {
  rec: ContainerRecord
  settings: LogSettings
  timer?: NodeJS.Timeout
  /** While the log is idle: woken by its first write. */
  watcher?: FSWatcher
  busy: boolean
  stopped: boolean
  lastSize: number
  lastAt: number
  /** Bytes per ms, the highest recently seen. */
  rate: number
}

async function statOrUndefined(p: string) {
  try {
    return await stat(p)
  } catch (err) {
    if (isNotFoundErrno(err)) return undefined
    throw err
  }
}

async function unlinkIfExists(p: string): Promise<void> {
  try {
    await unlink(p)
  } catch (err) {
    if (!isNotFoundErrno(err)) throw err
  }
}

async function renameIfExists(from: string, to: string): Promise<boolean> {
  try {
    await rename(from, to)
    return true
  } catch (err) {
    if (isNotFoundErrno(err)) return false
    throw err
  }
}

/** Point `to` at `from`'s file (a hard link), replacing what `to` named. */
async function relink(from: string, to: string): Promise<void> {
  const tmp = `${to}.new`
  await unlinkIfExists(tmp)
  await link(from, tmp)
  await rename(tmp, to)
}

/**
 * Make room for a new `.1`: drop the oldest file kept, shift `.k` to `.k+1`. With max-file N
 * the set is `container.log` plus `.1` ... `.N-1`.
 */
export async function shiftRotated(logPath: string, maxFile: number): Promise<void> {
  if (maxFile < 2) return
  await unlinkIfExists(rotatedPath(logPath, maxFile - 1))
  for (let i = maxFile - 2; i >= 1; i--) await renameIfExists(rotatedPath(logPath, i), rotatedPath(logPath, i + 1))
}

/** Ask conmon to reopen its log (`2 0 0` on the control FIFO, opened non-blocking). False when conmon is gone. */
export async function requestReopen(ctlPath: string): Promise<boolean> {
  let fh
  try {
    fh = await open(ctlPath, constants.O_WRONLY | constants.O_NONBLOCK)
  } catch (err) {
    const code = errno(err)
    if (code === 'ENXIO' || code === 'ENOENT') return false
    throw err
  }
  try {
    // conmon parses every control line as three integers (type, height, width).
    await fh.write('2 0 0\n')
    return true
  } catch (err) {
    if (errno(err) === 'EAGAIN' || errno(err) === 'EPIPE') return false
    throw err
  } finally {
    await fh.close()
  }
}

/**
 * One rotation check of a container's log; returns the current file's size. Handles, in order:
 * a cut conmon made itself (its `--log-size-max`, e.g. while berthd was down): the old file lives
 * on as the keep link and is filed as `.1`; then size: past max-size, `container.log` is renamed
 * to `.1` (after shifting) and conmon is asked to reopen, which creates a fresh `container.log`
 * (conmon writes to the renamed file until then, so nothing is lost); then the keep link is
 * pointed at the new file.
 */
export async function checkRotation(logPath: string, ctlPath: string, s: LogSettings): Promise<number> {
  const keep = keepPath(logPath)
  const cur = await statOrUndefined(logPath)
  if (!cur) return 0 // a rotation is under way (or conmon has not created it yet)
  const kept = await statOrUndefined(keep)
  if (kept && kept.ino !== cur.ino) {
    const one = await statOrUndefined(rotatedPath(logPath, 1))
    if (one?.ino !== kept.ino) {
      // conmon replaced the file itself: file the old one.
      if (s.maxFile >= 2) {
        await shiftRotated(logPath, s.maxFile)
        await rename(keep, rotatedPath(logPath, 1))
      }
    }
    await relink(logPath, keep).catch((err: unknown) => { if (!isNotFoundErrno(err)) throw err })
  } else if (!kept) {
    await relink(logPath, keep).catch((err: unknown) => { if (!isNotFoundErrno(err)) throw err })
  }
  if (cur.size < s.maxSize) return cur.size
  await shiftRotated(logPath, s.maxFile)
  const renamedTo = s.maxFile >= 2 ? rotatedPath(logPath, 1) : `${logPath}.rotating`
  await rename(logPath, renamedTo)
  const asked = await requestReopen(ctlPath)
  if (asked) {
    // conmon creates the new file at once; wait for it (bounded) to point the keep link at it.
    for (let i = 0; i < 400; i++) {
      const st = await statOrUndefined(logPath)
      if (st) break
      await new Promise((r) => setTimeout(r, i < 50 ? 1 : 10))
    }
  }
  if (s.maxFile < 2) await unlinkIfExists(renamedTo)
  const now = await statOrUndefined(logPath)
  if (now) await relink(logPath, keep).catch((err: unknown) => { if (!isNotFoundErrno(err)) throw err })
  return now?.size ?? 0
}

/**
 * Rotates running containers' logs on an adaptive timer: each check stats the log and plans the
 * next from the growth rate (a fast writer is looked at every few ms, an idle one every minute),
 * so 1000 quiet containers cost a few stats a second. conmon remains the only writer.
 */
export class LogRotator implements LifecycleListener {
  readonly #watched = new Map<string, Watched>()

  /**
   * `controlPath` finds conmon's control FIFO; by default through conmon's working directory,
   * which is the container's bundle (`/proc/<conmon pid>/cwd/ctl`).
   */
  constructor(readonly log: (msg: string) => void, readonly controlPath: (rec: ContainerRecord) => string = (rec) => pathInProcessCwd(rec.state.monitorPid, 'ctl')) {}

  running(rec: ContainerRecord): void {
    const settings = logSettings(rec.hostConfig.logConfig)
    if (!settings) return
    this.stopped(rec)
    const w: Watched = { rec, settings, busy: false, stopped: false, lastSize: -1, lastAt: Date.now(), rate: 0 }
    this.#watched.set(rec.id, w)
    this.#schedule(w, 0)
  }

  stopped(rec: ContainerRecord): void {
    const w = this.#watched.get(rec.id)
    if (!w) return
    w.stopped = true
    clearTimeout(w.timer)
    w.watcher?.close()
    this.#watched.delete(rec.id)
  }

  /** Containers being watched (for tests and `info`). */
  get size(): number {
    return this.#watched.size
  }

  close(): void {
    for (const w of this.#watched.values()) { w.stopped = true; clearTimeout(w.timer); w.watcher?.close() }
    this.#watched.clear()
  }

  #schedule(w: Watched, ms: number): void {
    if (w.stopped) return
    clearTimeout(w.timer)
    w.timer = setTimeout(() => void this.#check(w), ms)
    w.timer.unref()
  }

  /** An idle log is watched (inotify) so a burst after a quiet spell is seen at once. */
  #watchIdle(w: Watched): void {
    if (w.watcher || w.stopped) return
    try {
      const fw = watch(w.rec.logPath, { persistent: false }, () => {
        fw.close()
        if (w.watcher === fw) w.watcher = undefined
        // At most one check per WATCH_ABOVE_MS for a writer woken this way.
        this.#schedule(w, Math.max(0, w.lastAt + WATCH_ABOVE_MS - Date.now()))
      })
      fw.on('error', () => { fw.close(); if (w.watcher === fw) w.watcher = undefined })
      w.watcher = fw
    } catch (err) {
      if (!isNotFoundErrno(err)) throw err
    }
  }

  async #check(w: Watched): Promise<void> {
    if (w.stopped || w.busy) return
    w.busy = true
    let next = FIRST_INTERVAL_MS
    try {
      const ctl = this.controlPath(w.rec)
      const before = w.lastSize
      const size = await checkRotation(w.rec.logPath, ctl, w.settings)
      const now = Date.now()
      next = nextInterval(w, before, size, now)
      // Between checks far apart, the next write wakes the rotator early (a burst after a quiet
      // spell). A watch follows an inode: after a rotation it is set on the new file.
      if (w.watcher) { w.watcher.close(); w.watcher = undefined }
      if (next > WATCH_ABOVE_MS) this.#watchIdle(w)
    } catch (err) {
      this.log(`log rotation ${w.rec.id.slice(0, 12)}: ${String(err)}`)
      next = 1000
    } finally {
      w.busy = false
    }
    this.#schedule(w, next)
  }
}

/**
 * Plan the next check from the growth since the last one: max-size should be reached no sooner
 * than two checks away. The pace is the highest recently seen (halving every 2 s), so a bursty
 * writer is judged by its bursts; a rotation keeps the pace measured before it.
 */
export function nextInterval(w: { lastSize: number; lastAt: number; rate: number; settings: LogSettings }, before: number, size: number, now: number): number {
  const dt = Math.max(1, now - w.lastAt)
  const rotated = before >= 0 && size < before
  w.lastSize = size
  w.lastAt = now
  if (!rotated && before >= 0) w.rate = Math.max((size - before) / dt, w.rate * 0.5 ** (dt / 2000))
  if (w.rate < 1e-3) return before < 0 ? FIRST_INTERVAL_MS : Math.min(MAX_INTERVAL_MS, Math.max(FIRST_INTERVAL_MS, dt * 2))
  const room = Math.max(0, w.settings.maxSize - size)
  return Math.min(MAX_ACTIVE_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, (room / w.rate) * 0.5))
}

// ---- details (docker logs --details)

/** go's url.QueryEscape. */
function queryEscape(s: string): string {
  let out = ''
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b)
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c
    else if (c === ' ') out += '+'
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

/** The log tag template's fields (Docker's logger.Info), `{{.ID}}` by default. */
function renderTag(tpl: string, rec: ContainerRecord, imageName: string): string {
  const fields: Record<string, string> = {
    ID: rec.id.slice(0, 12),
    FullID: rec.id,
    Name: rec.name.replace(/^\//, ''),
    ImageID: rec.imageId.replace(/^sha256:/, '').slice(0, 12),
    ImageFullID: rec.imageId,
    ImageName: imageName,
    DaemonName: 'docker',
  }
  return tpl.replace(/\{\{\s*\.(\w+)\s*\}\}/g, (m, k: string) => fields[k] ?? m)
}

/**
 * The attributes `docker logs --details` prefixes to each line: the labels and environment
 * variables the `labels`, `labels-regex`, `env`, `env-regex` options name, and `tag` when given;
 * sorted by key and query-escaped as Docker writes them (`k=v,k2=v2`).
 */
export function logAttributes(rec: ContainerRecord): string {
  const cfg = rec.hostConfig.logConfig.config
  const labels = rec.config.labels ?? {}
  const extra = new Map<string, string>()
  if (cfg.labels) for (const l of cfg.labels.split(',')) if (l in labels) extra.set(l, labels[l]!)
  if (cfg['labels-regex']) {
    const re = new RegExp(cfg['labels-regex'])
    for (const [k, v] of Object.entries(labels)) if (re.test(k)) extra.set(k, v)
  }
  const env = new Map<string, string>()
  for (const e of rec.config.env ?? []) {
    const i = e.indexOf('=')
    if (i >= 0) env.set(e.slice(0, i), e.slice(i + 1))
  }
  if (cfg.env) for (const l of cfg.env.split(',')) if (env.has(l)) extra.set(l, env.get(l)!)
  if (cfg['env-regex']) {
    const re = new RegExp(cfg['env-regex'])
    for (const [k, v] of env) if (re.test(k)) extra.set(k, v)
  }
  if (cfg.tag) extra.set('tag', renderTag(cfg.tag, rec, rec.config.image))
  return [...extra.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${queryEscape(k)}=${queryEscape(v)}`).join(',')
}
