import { isIP } from 'node:net'
import { DEFAULT_DOMAIN } from './reference.js'

/** Docker Hub's registry host, as dockerd resolves `docker.io`. */
export const DOCKER_HUB_HOST = 'registry-1.docker.io'
/** The key Docker Hub credentials are stored under in ~/.docker/config.json. */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/'

/** How the daemon reaches registries (daemon.json's registry keys). */
export interface RegistrySettings {
  /** `insecure-registries`: host[:port] names or IPv4 CIDRs that may use plain HTTP or unverified TLS. */
  insecureRegistries: string[]
  /** `registry-mirrors`: used for Docker Hub pulls before the Hub itself. */
  mirrors: string[]
  maxConcurrentDownloads: number
  maxConcurrentUploads: number
}

export const DEFAULT_REGISTRY_SETTINGS: RegistrySettings = { insecureRegistries: [], mirrors: [], maxConcurrentDownloads: 3, maxConcurrentUploads: 5 }

/** The host to talk to for a reference's domain. */
export function registryHost(domain: string): string {
  return domain === DEFAULT_DOMAIN ? DOCKER_HUB_HOST : domain
}

function hostOnly(hostPort: string): string {
  if (hostPort.startsWith('[')) return hostPort.slice(1, hostPort.indexOf(']'))
  const i = hostPort.lastIndexOf(':')
  return i > -1 && hostPort.indexOf(':') === i ? hostPort.slice(0, i) : hostPort
}

/** Loopback registries may use plain HTTP, as Docker allows for 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(hostPort: string): boolean {
  const h = hostOnly(hostPort).toLowerCase()
  if (h === 'localhost') return true
  if (isIP(h) === 4) return h.startsWith('127.')
  return h === '::1'
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((n, p) => (n << 8) + Number(p), 0) >>> 0
}

/** Whether a registry may be reached over plain HTTP or without TLS verification. */
export function isInsecure(hostPort: string, settings: Pick<RegistrySettings, 'insecureRegistries'>): boolean {
  if (isLoopback(hostPort)) return true
  const h = hostOnly(hostPort)
  for (const entry of settings.insecureRegistries) {
    if (entry === hostPort || entry === h) return true
    const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(entry)
    if (m && isIP(h) === 4) {
      const bits = Number(m[2])
      const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0
      if ((ipv4ToInt(h) & mask) === (ipv4ToInt(m[1]!) & mask)) return true
    }
  }
  return false
}

/**
 * Validate `insecure-registries` as dockerd does (registry.LoadInsecureRegistries): no scheme,
 * no path; CIDRs must parse.
 */
export function validateInsecureRegistry(entry: string): string {
  if (/^[a-z]+:\/\//i.test(entry)) throw new Error(`insecure registry ${entry} should not contain '://'`)
  if (entry.includes('/')) {
    const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(entry)
    if (!m || Number(m[2]) > 32 || m[1]!.split('.').some((p) => Number(p) > 255)) throw new Error(`insecure registry ${entry} is not valid`)
    return entry
  }
  if (!entry) throw new Error('insecure registry  is not valid')
  return entry
}

/** Validate `registry-mirrors` as dockerd does (ValidateMirror): http(s) URL with no path other than `/`. */
export function validateMirror(value: string): string {
  let u: URL
  try {
    u = new URL(value)
  } catch {
    throw new Error(`invalid mirror: "${value}" is not a valid URI`)
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`invalid mirror: unsupported scheme "${u.protocol.slice(0, -1)}" in "${value}"`)
  if ((u.pathname && u.pathname !== '/') || u.search || u.hash) throw new Error(`invalid mirror: path, query, or fragment at end of the URI "${value}"`)
  if (u.username || u.password) throw new Error(`invalid mirror: username/password not allowed in URI "${value}"`)
  return `${u.protocol}//${u.host}/`
}

/** The key under which docker stores credentials for a registry domain. */
export function authKeyFor(domain: string): string {
  return domain === DEFAULT_DOMAIN || domain === 'index.docker.io' || domain === DOCKER_HUB_HOST ? DOCKER_HUB_AUTH_KEY : domain
}

/** Normalise a server address given to login/logout/auth into a registry domain. */
export function domainOfServerAddress(addr: string): string {
  if (!addr) return DEFAULT_DOMAIN
  let s = addr.replace(/^https?:\/\//, '')
  s = s.replace(/\/.*$/, '')
  if (s === 'index.docker.io' || s === DOCKER_HUB_HOST || s === DEFAULT_DOMAIN) return DEFAULT_DOMAIN
  return s
}
