import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { exportPKCS8, exportSPKI, generateKeyPair, importPKCS8, importSPKI, jwtVerify, SignJWT, type CryptoKey } from 'jose'
import { createPublicKey, createPrivateKey } from 'node:crypto'
import { isNotFoundErrno } from '../lib/errors.js'
import { writeFileAtomic } from '../lib/fs.js'

/** One grant of a token, as Docker's token spec writes it. */
export interface Access { type: string; name: string; actions: string[] }

export interface TokenClaims { sub?: string; access: Access[]; exp: number }

/** A scope the client asks for: `repository:alice/app:pull,push` or `registry:catalog:*`. */
export function parseScope(s: string): Access | undefined {
  const first = s.indexOf(':')
  const last = s.lastIndexOf(':')
  if (first < 0 || last === first) return undefined
  const type = s.slice(0, first)
  let name = s.slice(first + 1, last)
  // A resource class: repository(plugin):name.
  if (/^[a-z0-9]+\([a-z0-9]+\)$/.test(type) === false && !/^[a-z0-9]+$/.test(type)) return undefined
  name = name.trim()
  const actions = s.slice(last + 1).split(',').map((a) => a.trim()).filter(Boolean)
  return { type: type.replace(/\(.*\)$/, ''), name, actions }
}

/**
 * Signs and verifies the registry's bearer tokens (JWT, ES256 or RS256). The key is read
 * from `keyFile` (PKCS#8 PEM), generated there (ES256) on first start when missing.
 */
/** How long a refresh token (docker's identity token) lasts: 90 days. */
export const REFRESH_TTL_S = 90 * 24 * 3600

export class TokenService {
  readonly issuer: string
  readonly service: string
  readonly ttl: number
  #priv!: CryptoKey
  #pub!: CryptoKey
  #alg!: 'ES256' | 'RS256'
  #cache = new Map<string, TokenClaims>()

  constructor(opts: { issuer: string; service: string; ttlSeconds: number }) {
    this.issuer = opts.issuer
    this.service = opts.service
    this.ttl = opts.ttlSeconds
  }

  async loadKey(keyFile: string): Promise<void> {
    let pem: string
    try {
      pem = await readFile(keyFile, 'utf8')
    } catch (err) {
      if (!isNotFoundErrno(err)) throw err
      const { privateKey } = await generateKeyPair('ES256', { extractable: true })
      pem = await exportPKCS8(privateKey)
      await writeFileAtomic(keyFile, pem, 0o600)
    }
    const key = createPrivateKey(pem)
    this.#alg = key.asymmetricKeyType === 'rsa' ? 'RS256' : 'ES256'
    if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'ec') throw new Error(`${keyFile}: token key must be an EC P-256 or RSA private key`)
    this.#priv = await importPKCS8(pem, this.#alg)
    const spki = createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString()
    this.#pub = await importSPKI(spki, this.#alg)
    void exportSPKI
  }

  get algorithm(): string {
    return this.#alg
  }

  async issue(sub: string | undefined, access: Access[]): Promise<{ token: string; expiresIn: number; issuedAt: string }> {
    const now = Math.floor(Date.now() / 1000)
    const jwt = new SignJWT({ access })
      .setProtectedHeader({ alg: this.#alg, typ: 'JWT' })
      .setIssuer(this.issuer)
      .setAudience(this.service)
      .setIssuedAt(now)
      .setNotBefore(now - 1)
      .setExpirationTime(now + this.ttl)
      .setJti(randomBytes(16).toString('hex'))
    if (sub) jwt.setSubject(sub)
    return { token: await jwt.sign(this.#priv), expiresIn: this.ttl, issuedAt: new Date(now * 1000).toISOString() }
  }

  /**
   * A refresh token (the `refresh_token` of an offline grant, which docker keeps as its
   * `identitytoken`): a JWT of ours with `typ: refresh` naming the user and a stamp of their
   * stored credentials, so that a password change or a removed user ends it. Never a bearer.
   */
  async issueRefresh(sub: string, stamp: string): Promise<string> {
    const now = Math.floor(Date.now() / 1000)
    return new SignJWT({ typ: 'refresh', pwh: stamp })
      .setProtectedHeader({ alg: this.#alg, typ: 'JWT' })
      .setIssuer(this.issuer)
      .setAudience(this.service)
      .setSubject(sub)
      .setIssuedAt(now)
      .setExpirationTime(now + REFRESH_TTL_S)
      .setJti(randomBytes(16).toString('hex'))
      .sign(this.#priv)
  }

  /** The user and credential stamp of a valid refresh token of ours, or undefined. */
  async verifyRefresh(token: string): Promise<{ sub: string; stamp: string } | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.#pub, { issuer: this.issuer, audience: this.service, algorithms: [this.#alg] })
      if (payload.typ !== 'refresh' || typeof payload.sub !== 'string' || typeof payload.pwh !== 'string') return undefined
      return { sub: payload.sub, stamp: payload.pwh }
    } catch {
      return undefined
    }
  }

  /** The claims of a valid token of ours, or undefined (bad signature, other audience, expired). */
  async verify(token: string): Promise<TokenClaims | undefined> {
    const hit = this.#cache.get(token)
    if (hit) {
      if (hit.exp * 1000 > Date.now()) return hit
      this.#cache.delete(token)
      return undefined
    }
    try {
      const { payload } = await jwtVerify(token, this.#pub, { issuer: this.issuer, audience: this.service, algorithms: [this.#alg] })
      if (payload.typ === 'refresh') return undefined
      const access = Array.isArray(payload.access) ? (payload.access as Access[]) : []
      const claims: TokenClaims = { access, exp: payload.exp ?? 0, ...(payload.sub ? { sub: payload.sub } : {}) }
      if (this.#cache.size > 10_000) this.#cache.clear()
      this.#cache.set(token, claims)
      return claims
    } catch {
      return undefined
    }
  }
}
