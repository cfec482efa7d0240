import { invalid } from '../lib/errors.js'

/** IPv4 address management: CIDR arithmetic, subnet choice, address allocation. */

export interface Cidr { base: number; bits: number }

export function parseIp(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s.trim())
  if (!m) return undefined
  const p = m.slice(1).map(Number)
  if (p.some((x) => x > 255)) return undefined
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0
}

export const formatIp = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')

const mask = (bits: number): number => (bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0)

/** Parse `a.b.c.d/n`; the host bits are cleared as Docker does. Throws Docker's error. */
export function parseCidr(s: string, what = 'subnet'): Cidr {
  const [a, b] = s.split('/')
  const ipn = a === undefined ? undefined : parseIp(a)
  const bits = Number(b)
  if (ipn === undefined || b === undefined || !/^\d+$/.test(b) || bits > 32) {
    if (s.includes(':')) throw invalid('ERR_IPV6', 'IPv6 networks are not supported by this berthd')
    throw invalid('ERR_BAD_CIDR', `invalid ${what}: invalid CIDR address: ${s}`)
  }
  return { base: (ipn & mask(bits)) >>> 0, bits }
}

export const formatCidr = (c: Cidr): string => `${formatIp(c.base)}/${c.bits}`
export const size = (c: Cidr): number => 2 ** (32 - c.bits)
export const contains = (c: Cidr, ipn: number): boolean => ((ipn & mask(c.bits)) >>> 0) === c.base
export const overlaps = (a: Cidr, b: Cidr): boolean => contains(a, b.base) || contains(b, a.base)

/** A pool networks take their subnets from: blocks of `/size` inside `base`. */
export interface Pool { base: Cidr; size: number }

/** Docker's local default pools: 172.17.0.0/16 ... 172.31.0.0/16, then 192.168.0.0/16 in /20s. */
export const DEFAULT_POOLS: Pool[] = [
  ...Array.from({ length: 15 }, (_, i) => ({ base: { base: parseIp(`172.${17 + i}.0.0`)!, bits: 16 }, size: 16 })),
  { base: { base: parseIp('192.168.0.0')!, bits: 16 }, size: 20 },
]

/** daemon.json `default-address-pools` as pools (checked by the config already). */
export const poolsOf = (list: Array<{ base: string; size: number }>): Pool[] => list.map((p) => ({ base: parseCidr(p.base), size: p.size }))

/**
 * The first block of the pools, in order, that overlaps none of `taken` (this berthd's networks,
 * the host's routes and interface addresses, other berthds' networks), as Docker's allocator does.
 */
export function pickSubnet(taken: Cidr[], pools: Pool[] = DEFAULT_POOLS): Cidr {
  for (const p of pools) {
    const step = 2 ** (32 - p.size)
    for (let b = p.base.base; b < p.base.base + size(p.base); b += step) {
      const c = { base: b >>> 0, bits: p.size }
      if (!taken.some((t) => overlaps(t, c))) return c
    }
  }
  throw invalid('ERR_NO_POOL', 'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network')
}

/** The first free address of `range` (inside `subnet`), skipping network, broadcast and `used`. */
export function allocate(subnet: Cidr, range: Cidr, used: Set<number>): number | undefined {
  const first = Math.max(range.base, subnet.base + 1)
  const last = Math.min(range.base + size(range) - 1, subnet.base + size(subnet) - 2)
  for (let n = first; n <= last; n++) if (!used.has(n >>> 0)) return n >>> 0
  return undefined
}

/** Docker's MAC for an address: 02:42 then the four address bytes. */
export const macFor = (ipn: number): string =>
  ['02', '42', ...[ipn >>> 24, (ipn >>> 16) & 255, (ipn >>> 8) & 255, ipn & 255].map((x) => x.toString(16).padStart(2, '0'))].join(':')
