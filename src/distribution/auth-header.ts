import { invalid } from '../lib/errors.js'
import type { RegistryCredentials } from './registry-client.js'

/** The JSON the docker CLI sends base64url-encoded in X-Registry-Auth (types.AuthConfig). */
export interface AuthConfigWire {
  username?: string
  password?: string
  auth?: string
  email?: string
  serveraddress?: string
  identitytoken?: string
  registrytoken?: string
}

/** Decode X-Registry-Auth; an empty or `{}` header means anonymous. Errors as dockerd's. */
export function decodeRegistryAuth(header: string | undefined | null): AuthConfigWire | undefined {
  if (!header) return undefined
  let text: string
  try {
    text = Buffer.from(header.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')
    const j = JSON.parse(text) as AuthConfigWire
    if (!j || typeof j !== 'object') return undefined
    return j
  } catch {
    throw invalid('ERR_BAD_AUTH_HEADER', 'invalid X-Registry-Auth header: failed to decode credentials')
  }
}

/** Credentials from an auth config: explicit username/password, or the `auth` user:pass pair. */
export function credentialsOf(a: AuthConfigWire | undefined): RegistryCredentials | undefined {
  if (!a) return undefined
  let { username, password } = a
  if (!username && a.auth) {
    const s = Buffer.from(a.auth, 'base64').toString('utf8')
    const i = s.indexOf(':')
    if (i > 0) { username = s.slice(0, i); password = s.slice(i + 1) }
  }
  if (!username && !a.identitytoken && !a.registrytoken) return undefined
  return {
    ...(username ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(a.identitytoken ? { identityToken: a.identitytoken } : {}),
    ...(a.registrytoken ? { registryToken: a.registrytoken } : {}),
  }
}

export function encodeRegistryAuth(a: AuthConfigWire): string {
  return Buffer.from(JSON.stringify(a)).toString('base64url')
}
