import { posix } from 'node:path'
import { invalid } from '../../lib/errors.js'
import type { MountPoint } from './types.js'

/**
 * A container mount as asked at create: `-v`, `--mount`, `--tmpfs`, `--volumes-from`, VOLUME.
 * Its `source` is a volume name ('' for an anonymous volume) or a bind's host path; resolving it
 * gives the record's MountPoint.
 */
export interface MountRequest extends Pick<MountPoint, 'type' | 'source' | 'destination' | 'readOnly' | 'mode' | 'propagation' | 'noCopy' | 'tmpfsOptions'> {
  /** `-v` makes a missing bind source; `--mount` refuses it. */
  createSource: boolean
  volumeLabels?: Record<string, string>
  volumeDriver?: string
  volumeDriverOptions?: Record<string, string>
}

const PROPAGATIONS = ['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate']
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/

export function validVolumeName(name: string): void {
  if (name.length < 2) throw invalid('ERR_VOLUME_NAME', `volume name is too short, names should be at least two alphanumeric characters`)
  if (!VOLUME_NAME.test(name)) throw invalid('ERR_VOLUME_NAME', `"${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`)
}

/** Docker's mode check (volume/mounts linux parser): rw|ro, z|Z, one propagation, nocopy. */
function parseMode(mode: string, spec: string, isBind: boolean): { readOnly: boolean; propagation: string; noCopy: boolean } {
  let rw = 0
  let label = 0
  let prop = ''
  let noCopy = false
  for (const m of mode.split(',')) {
    if (m === 'rw' || m === 'ro') { rw++; continue }
    if (m === 'z' || m === 'Z') { label++; continue }
    if (PROPAGATIONS.includes(m)) { if (prop) throw invalid('ERR_VOLUME_SPEC', `invalid mode: ${mode}`); prop = m; continue }
    if (m === 'nocopy' && !isBind) { noCopy = true; continue }
    if (m === 'consistent' || m === 'cached' || m === 'delegated') continue
    throw invalid('ERR_VOLUME_SPEC', `invalid volume specification: '${spec}': invalid mode: ${mode}`)
  }
  if (rw > 1 || label > 1) throw invalid('ERR_VOLUME_SPEC', `invalid volume specification: '${spec}': invalid mode: ${mode}`)
  return { readOnly: mode.split(',').includes('ro'), propagation: prop, noCopy }
}

function checkDestination(dst: string, spec: string, kind: string): string {
  if (!dst) throw invalid('ERR_VOLUME_SPEC', `invalid volume specification: '${spec}'`)
  if (!dst.startsWith('/')) throw invalid('ERR_VOLUME_SPEC', `invalid volume specification: '${spec}': invalid mount config for type "${kind}": invalid mount path: '${dst}' mount path must be absolute`)
  const clean = posix.normalize(dst).replace(/\/+$/, '') || '/'
  if (clean === '/') throw invalid('ERR_VOLUME_SPEC', `invalid volume specification: '${spec}': invalid mount config for type "${kind}": invalid specification: destination can't be '/'`)
  return clean
}

/** One `-v`/Binds entry: `dst`, `src:dst`, `src:dst:mode`, `dst:mode`. */
export function parseBind(spec: string): MountRequest {
  const parts = spec.split(':')
  let src = ''
  let dst = ''
  let mode = ''
  if (parts.length === 1) dst = parts[0]!
  else if (parts.length === 2) {
    if (!parts[1]!.startsWith('/') && /^[a-zA-Z,]+$/.test(parts[1]!)) { dst = parts[0]!; mode = parts[1]! } else { src = parts[0]!; dst = parts[1]! }
  } else if (parts.length === 3) [src, dst, mode] = parts as [string, string, string]
  else throw invalid('ERR_VOLUME_SPEC', `invalid volume specification: '${spec}'`)
  if (!dst) throw invalid('ERR_VOLUME_SPEC', `invalid volume specification: '${spec}'`)
  const isBind = src.startsWith('/')
  const kind = isBind ? 'bind' : 'volume'
  const destination = checkDestination(dst, spec, kind)
  const m = mode ? parseMode(mode, spec, isBind) : { readOnly: false, propagation: '', noCopy: false }
  if (isBind) {
    const source = posix.normalize(src).replace(/(.)\/+$/, '$1')
    return { type: 'bind', source, destination, readOnly: m.readOnly, mode, propagation: m.propagation || 'rprivate', noCopy: false, createSource: true }
  }
  if (src) {
    try {
      validVolumeName(src)
    } catch (err) {
      throw invalid('ERR_VOLUME_SPEC', `create ${src}: ${(err as Error).message}`)
    }
  }
  if (m.propagation) throw invalid('ERR_VOLUME_SPEC', `invalid volume specification: '${spec}': invalid mount config for type "volume": field BindOptions must not be specified`)
  // A named volume given without a mode shows Docker's default mode, "z".
  return { type: 'volume', source: src, destination, readOnly: m.readOnly, mode: mode || (src ? 'z' : ''), propagation: '', noCopy: m.noCopy, createSource: false }
}

/**
 * A `--mount` as asked (Docker's mount.Mount, camelCase): the domain form the engine parses.
 * The API edge maps the wire form with `mountSpecFromWire` (and back with `mountSpecToWire`).
 */
export interface MountSpec {
  type: string
  source: string
  target: string
  readOnly: boolean
  bindOptions?: { propagation?: string; createMountpoint?: boolean; [k: string]: unknown }
  volumeOptions?: { noCopy?: boolean; labels?: Record<string, string>; driverConfig?: { name?: string; options?: Record<string, string> }; [k: string]: unknown }
  tmpfsOptions?: { sizeBytes?: number; mode?: number; [k: string]: unknown }
}

type Wire = Record<string, unknown>
const obj = (v: unknown): Wire => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Wire) : {})
const camel = (o: Wire): Wire => Object.fromEntries(Object.entries(o).map(([k, v]) => [k.charAt(0).toLowerCase() + k.slice(1), v]))
const pascal = (o: Wire): Wire => Object.fromEntries(Object.entries(o).map(([k, v]) => [k.charAt(0).toUpperCase() + k.slice(1), v]))

/** A HostConfig.Mounts entry (wire form) as a MountSpec; an option object given (even empty) stays given. */
export function mountSpecFromWire(m: Wire): MountSpec {
  const vol = obj(m.VolumeOptions)
  const driver = obj(vol.DriverConfig)
  return {
    type: String(m.Type ?? ''),
    source: String(m.Source ?? ''),
    target: String(m.Target ?? ''),
    readOnly: !!m.ReadOnly,
    ...(m.BindOptions !== undefined ? { bindOptions: camel(obj(m.BindOptions)) } : {}),
    ...(m.VolumeOptions !== undefined ? { volumeOptions: { ...camel(vol), ...(vol.DriverConfig !== undefined ? { driverConfig: camel(driver) } : {}) } } : {}),
    ...(m.TmpfsOptions !== undefined ? { tmpfsOptions: camel(obj(m.TmpfsOptions)) } : {}),
  }
}

/** A MountSpec in wire form (inspect's HostConfig.Mounts). */
export function mountSpecToWire(m: MountSpec): Wire {
  const vol = m.volumeOptions
  return {
    Type: m.type, ...(m.source ? { Source: m.source } : {}), Target: m.target, ...(m.readOnly ? { ReadOnly: true } : {}),
    ...(m.bindOptions ? { BindOptions: pascal(m.bindOptions) } : {}),
    ...(vol ? { VolumeOptions: { ...pascal(vol), ...(vol.driverConfig ? { DriverConfig: pascal(vol.driverConfig) } : {}) } } : {}),
    ...(m.tmpfsOptions ? { TmpfsOptions: pascal(m.tmpfsOptions) } : {}),
  }
}

/** One HostConfig.Mounts entry in wire form (`--mount`): see `parseMountSpec`. */
export function parseMount(m: Wire): MountRequest {
  return parseMountSpec(mountSpecFromWire(m))
}

/** One `--mount`, with Docker's validation and words. */
export function parseMountSpec(m: MountSpec): MountRequest {
  const type = m.type as MountRequest['type']
  const target = m.target
  const source = m.source
  const bad = (why: string) => invalid('ERR_MOUNT_SPEC', `invalid mount config for type "${type}": ${why}`)
  if (!['bind', 'volume', 'tmpfs'].includes(type)) {
    if ((type as string) === '') throw invalid('ERR_MOUNT_SPEC', 'invalid mount config: mount type unknown')
    throw invalid('ERR_MOUNT_SPEC', `invalid mount config for type "${type}": mount type unknown`)
  }
  if (!target) throw bad('field Target must not be empty')
  if (!target.startsWith('/')) throw bad(`invalid mount path: '${target}' mount path must be absolute`)
  const destination = posix.normalize(target).replace(/(.)\/+$/, '$1')
  if (destination === '/') throw bad(`invalid specification: destination can't be '/'`)
  const readOnly = m.readOnly
  const bindOpts = m.bindOptions ?? {}
  const volOpts = m.volumeOptions ?? {}
  const tmpfsOpts = m.tmpfsOptions ?? {}
  if (type !== 'bind' && Object.keys(bindOpts).length) throw bad('field BindOptions must not be specified')
  if (type !== 'volume' && Object.keys(volOpts).length) throw bad('field VolumeOptions must not be specified')
  if (type !== 'tmpfs' && Object.keys(tmpfsOpts).length) throw bad('field TmpfsOptions must not be specified')
  const mode = readOnly ? 'ro' : ''
  if (type === 'bind') {
    if (!source) throw bad('field Source must not be empty')
    if (!source.startsWith('/')) throw bad(`invalid mount path: '${source}' mount path must be absolute`)
    const propagation = String(bindOpts.propagation ?? '') || 'rprivate'
    if (!PROPAGATIONS.includes(propagation)) throw bad(`invalid propagation mode: ${propagation}`)
    return { type, source: posix.normalize(source).replace(/(.)\/+$/, '$1'), destination, readOnly, mode, propagation, noCopy: false, createSource: !!bindOpts.createMountpoint }
  }
  if (type === 'volume') {
    if (source) {
      try { validVolumeName(source) } catch (err) { throw bad((err as Error).message) }
    }
    const driver = obj(volOpts.driverConfig)
    const labels = obj(volOpts.labels) as Record<string, string>
    const driverOptions = obj(driver.options) as Record<string, string>
    return {
      type, source, destination, readOnly, mode, propagation: '', noCopy: !!volOpts.noCopy, createSource: false,
      ...(Object.keys(labels).length ? { volumeLabels: labels } : {}),
      ...(driver.name ? { volumeDriver: String(driver.name) } : {}),
      ...(Object.keys(driverOptions).length ? { volumeDriverOptions: driverOptions } : {}),
    }
  }
  if (source) throw bad('field Source must not be specified')
  const opts: string[] = []
  if (typeof tmpfsOpts.sizeBytes === 'number' && tmpfsOpts.sizeBytes > 0) opts.push(`size=${tmpfsOpts.sizeBytes}`)
  if (typeof tmpfsOpts.mode === 'number' && tmpfsOpts.mode > 0) opts.push(`mode=${(tmpfsOpts.mode & 0o7777).toString(8)}`)
  return { type, source: '', destination, readOnly, mode, propagation: '', noCopy: false, createSource: false, tmpfsOptions: opts }
}

/** `--tmpfs /path[:opts]` (HostConfig.Tmpfs). */
export function parseTmpfs(destination: string, options: string): MountRequest {
  if (!destination.startsWith('/')) throw invalid('ERR_MOUNT_SPEC', `invalid mount config for type "tmpfs": invalid mount path: '${destination}' mount path must be absolute`)
  const opts = options ? options.split(',').filter(Boolean) : []
  for (const o of opts) {
    const k = o.split('=')[0]!
    if (!['size', 'mode', 'uid', 'gid', 'nr_inodes', 'nr_blocks', 'ro', 'rw', 'exec', 'noexec', 'suid', 'nosuid', 'dev', 'nodev', 'atime', 'noatime', 'diratime', 'nodiratime', 'relatime', 'strictatime', 'sync', 'async', 'dirsync', 'mpol'].includes(k)) {
      throw invalid('ERR_MOUNT_SPEC', `invalid tmpfs option ${JSON.stringify(o)}`)
    }
  }
  return { type: 'tmpfs', source: '', destination: posix.normalize(destination).replace(/(.)\/+$/, '$1'), readOnly: opts.includes('ro'), mode: options, propagation: '', noCopy: false, createSource: false, tmpfsOptions: opts }
}
