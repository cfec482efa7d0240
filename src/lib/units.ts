/**
 * The github.com/docker/go-units functions the docker CLI prints and parses with: human sizes
 * ("1.235MB", "1.5KiB"), human durations ("About a minute", "3 days") and size parsing
 * ("512m", "1g", "10 kB").
 */
import { sprintf } from './gofmt/fmt.js'

export const KB = 1000
export const MB = 1000 * KB
export const GB = 1000 * MB
export const TB = 1000 * GB
export const PB = 1000 * TB

export const KiB = 1024
export const MiB = 1024 * KiB
export const GiB = 1024 * MiB
export const TiB = 1024 * GiB
export const PiB = 1024 * TiB

const decimalAbbrs = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'] as const
const binaryAbbrs = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'] as const

function getSizeAndUnit(size: number, base: number, map: readonly string[]): [number, string] {
  let i = 0
  const unitsLimit = map.length - 1
  while (size >= base && i < unitsLimit) {
    size = size / base
    i++
  }
  return [size, map[i]!]
}

/** units.CustomSize: formats size with a Go format taking (float, unit), e.g. "%.4g%s". */
export function customSize(format: string, size: number, base: number, map: readonly string[]): string {
  const [s, unit] = getSizeAndUnit(size, base, map)
  return sprintf(format, s, unit)
}

/** units.HumanSizeWithPrecision: decimal units, `precision` significant digits ("%.*g%s"). */
export function humanSizeWithPrecision(size: number, precision: number): string {
  const [s, unit] = getSizeAndUnit(size, 1000, decimalAbbrs)
  return sprintf('%.*g%s', precision, s, unit)
}

/**
 * units.HumanSize: decimal units, 4 significant digits: 1234567 → "1.235MB", 0 → "0B".
 * (docker's image and container size columns use humanSizeWithPrecision(size, 3).)
 */
export function humanSize(size: number): string {
  return humanSizeWithPrecision(size, 4)
}

/** units.BytesSize: binary units, 4 significant digits: 1536 → "1.5KiB". */
export function bytesSize(size: number): string {
  return customSize('%.4g%s', size, 1024, binaryAbbrs)
}

/**
 * units.HumanDuration of a duration in milliseconds: "Less than a second", "1 second",
 * "45 seconds", "About a minute", "3 minutes", "About an hour", "2 hours" (up to 47), "2 days"
 * (up to 13), "2 weeks" (up to 8), "2 months" (up to 24), "2 years".
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000)
  if (seconds < 1) return 'Less than a second'
  if (seconds === 1) return '1 second'
  if (seconds < 60) return `${seconds} seconds`
  const minutes = Math.trunc(ms / 60000)
  if (minutes === 1) return 'About a minute'
  if (minutes < 60) return `${minutes} minutes`
  const hours = Math.trunc(ms / 3600000 + 0.5)
  if (hours === 1) return 'About an hour'
  if (hours < 48) return `${hours} hours`
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`
  return `${Math.trunc(Math.trunc(ms / 3600000) / 24 / 365)} years`
}

/** strconv.ParseFloat(s, 64) for decimal input; throws Go's error text. */
function parseGoFloat(s: string): number {
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) {
    const v = Number(s)
    if (!Number.isFinite(v)) throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(s)}: value out of range`)
    return v
  }
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(s)
  if (special) {
    if (special[2]!.toLowerCase() === 'nan') return NaN
    return special[1] === '-' ? -Infinity : Infinity
  }
  throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(s)}: invalid syntax`)
}

const decimalMap: Readonly<Record<string, number>> = { k: KB, m: MB, g: GB, t: TB, p: PB }
const binaryMap: Readonly<Record<string, number>> = { k: KiB, m: MiB, g: GiB, t: TiB, p: PiB }

function parseSize(sizeStr: string, uMap: Readonly<Record<string, number>>): number {
  let sep = -1
  for (let i = sizeStr.length - 1; i >= 0; i--) {
    if ('01234567890. '.includes(sizeStr[i]!)) {
      sep = i
      break
    }
  }
  if (sep === -1) throw new Error(`invalid size: '${sizeStr}'`) // There should be at least a digit.
  let num: string
  let sfx: string
  if (sizeStr[sep] !== ' ') {
    num = sizeStr.slice(0, sep + 1)
    sfx = sizeStr.slice(sep + 1)
  } else {
    // Omit the space separator.
    num = sizeStr.slice(0, sep)
    sfx = sizeStr.slice(sep + 1)
  }
  let size = parseGoFloat(num)
  // Backward compatibility: reject negative sizes.
  if (size < 0) throw new Error(`invalid size: '${sizeStr}'`)
  if (sfx.length === 0) return Math.trunc(size)
  const bad = (s: string): Error => new Error(`invalid suffix: '${s}'`)
  if (sfx.length > 3) throw bad(sfx) // Too long.
  sfx = sfx.toLowerCase()
  // Trivial case: b suffix.
  if (sfx[0] === 'b') {
    if (sfx.length > 1) throw bad(sfx) // no extra characters allowed after b.
    return Math.trunc(size)
  }
  // A suffix from the map.
  const mul = uMap[sfx[0]!]
  if (mul === undefined) throw bad(sfx)
  size *= mul
  // The suffix may have extra "b" or "ib" (e.g. KiB or MB).
  if (sfx.length === 2 && sfx[1] !== 'b') throw bad(sfx)
  if (sfx.length === 3 && sfx.slice(1) !== 'ib') throw bad(sfx)
  return Math.trunc(size)
}

/** units.FromHumanSize: "44kB" → 44000, "17MB" → 17000000 (decimal; "KiB" is read as kB). */
export function fromHumanSize(size: string): number {
  return parseSize(size, decimalMap)
}

/** units.RAMInBytes: "512m" → 536870912, "1g" → 1073741824 (binary; units are case-insensitive). */
export function ramInBytes(size: string): number {
  return parseSize(size, binaryMap)
}
