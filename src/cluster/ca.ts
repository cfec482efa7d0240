import { createHash, randomBytes, timingSafeEqual, createCipheriv, createDecipheriv } from 'node:crypto'
import { EngineError } from '../lib/errors.js'
import { toBase36 } from './ids.js'
import type { CaRecord, NodeRole } from './types.js'

/**
 * The swarm's certificate authority, join tokens and autolock keys, in swarmkit's formats:
 * - root CA: CN "swarm-ca", 20 years;
 * - node certificates: CN = node ID, OU = "swarm-manager" | "swarm-worker", O = cluster ID,
 *   server and client usages (a manager serves and dials with the same certificate);
 * - join tokens: SWMTKN-1-<sha256 of the CA certificate PEM, base 36, 50 digits>-<128 random
 *   bits, base 36, 25 digits>; the digest lets a joining node pin the CA before trusting it;
 * - unlock keys: SWMKEY-1-<32 random bytes, unpadded standard base64>.
 *
 * Certificates are made by src/lib/pki.ts (on @peculiar/x509) through
 * the small `Pki` interface below, loaded lazily by `loadPki()`.
 */

export const ROOT_CN = 'swarm-ca'
export const MANAGER_OU = 'swarm-manager'
export const WORKER_OU = 'swarm-worker'
const ROOT_CA_DAYS = 20 * 365
const DEFAULT_NODE_CERT_DAYS = 90

/** The part of src/lib/pki.ts the CA uses (same signatures). */
export interface Pki {
  createCA(subject: PkiSubject, opts?: { validDays?: number }): Promise<{ certPem: string; keyPem: string }>
  issueCertificate(ca: { certPem: string; keyPem: string }, opts: PkiIssue): Promise<{ certPem: string; keyPem: string }>
  createCsr(subject: PkiSubject, opts?: { altNames?: string[] }): Promise<{ csrPem: string; keyPem: string }>
  signCsr(ca: { certPem: string; keyPem: string }, csrPem: string, opts: PkiIssue): Promise<string>
  verifyIssuedBy(certPem: string, caPem: string, at?: Date): boolean
  certificateInfo(certPem: string): { subject: string; issuer: string; notAfter: Date; isCA: boolean; dnsNames: string[] }
}
interface PkiSubject {
  commonName: string
  organization?: string
  organizationalUnit?: string
}
interface PkiIssue {
  subject: PkiSubject
  altNames?: string[]
  usages: Array<'server' | 'client'>
  validDays?: number
}

/** src/lib/pki.ts, imported on first use (@peculiar/x509 is loaded only when a CA is needed). */
export async function loadPki(): Promise<Pki> {
  const pki: Pki = await import('../lib/pki.js')
  return pki
}

/** sha256:<hex> of the CA certificate PEM, exactly as swarmkit digests the root CA. */
export function caDigest(rootCertPem: string): string {
  return `sha256:${createHash('sha256').update(rootCertPem).digest('hex')}`
}

export async function createRootCA(pki: Pki): Promise<{ certPem: string; keyPem: string; digest: string }> {
  const ca = await pki.createCA({ commonName: ROOT_CN }, { validDays: ROOT_CA_DAYS })
  return { ...ca, digest: caDigest(ca.certPem) }
}

/** A fresh CA record for `swarm init` (or `swarm ca --rotate`: new root, new tokens). */
export async function newCaRecord(pki: Pki, opts: { autolock?: boolean } = {}): Promise<CaRecord> {
  const root = await createRootCA(pki)
  return {
    version: { index: 0 },
    rootCertPem: root.certPem,
    rootKeyPem: root.keyPem,
    digest: root.digest,
    joinTokens: { worker: generateJoinToken(root.digest), manager: generateJoinToken(root.digest) },
    ...(opts.autolock ? { unlockKey: generateUnlockKey() } : {}),
  }
}

function ouOf(role: NodeRole): string {
  return role === 'manager' ? MANAGER_OU : WORKER_OU
}

export interface NodeIdentity {
  nodeId: string
  role: NodeRole
  clusterId: string
}

/**
 * Issue a node certificate. With a CSR (a joining node keeps its key), only the CSR's key is
 * used: the CA decides the name, role and organisation, as swarmkit's signing policy does.
 */
export async function issueNodeCertificate(
  pki: Pki,
  ca: Pick<CaRecord, 'rootCertPem' | 'rootKeyPem'>,
  id: NodeIdentity,
  opts: { csrPem?: string; validDays?: number; /** More names, e.g. the node's IP (etcd checks a peer's address). */ extraAltNames?: string[] } = {},
): Promise<{ certPem: string; keyPem?: string }> {
  const ou = ouOf(id.role)
  const issue: PkiIssue = {
    subject: { commonName: id.nodeId, organizationalUnit: ou, organization: id.clusterId },
    altNames: [...(id.role === 'manager' ? [ou, id.nodeId, ROOT_CN] : [ou, id.nodeId]), ...(opts.extraAltNames ?? [])],
    usages: ['server', 'client'],
    validDays: opts.validDays ?? DEFAULT_NODE_CERT_DAYS,
  }
  const signer = { certPem: ca.rootCertPem, keyPem: ca.rootKeyPem }
  if (opts.csrPem) return { certPem: await pki.signCsr(signer, opts.csrPem, issue) }
  return pki.issueCertificate(signer, issue)
}

/** Who a node certificate says its holder is; throws unless the swarm's CA issued it. */
export function nodeIdentity(pki: Pki, certPem: string, rootCertPem: string): NodeIdentity {
  if (!pki.verifyIssuedBy(certPem, rootCertPem)) {
    throw new EngineError('Unauthorized', 'ERR_SWARM_CERT_UNTRUSTED', 'certificate is not signed by the swarm CA or has expired')
  }
  const fields = parseSubject(pki.certificateInfo(certPem).subject)
  const ou = fields.OU
  const role: NodeRole | undefined = ou === MANAGER_OU ? 'manager' : ou === WORKER_OU ? 'worker' : undefined
  if (!fields.CN || !role || !fields.O) {
    throw new EngineError('Unauthorized', 'ERR_SWARM_CERT_IDENTITY', 'certificate does not name a swarm node')
  }
  return { nodeId: fields.CN, role, clusterId: fields.O }
}

/** node:crypto prints subjects one "KEY=value" a line. */
function parseSubject(subject: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of subject.split('\n')) {
    const eq = line.indexOf('=')
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1)
  }
  return out
}

// ---- join tokens ------------------------------------------------------------------------------

const TOKEN_PREFIX = 'SWMTKN'
const DIGEST_LEN = 50 // ceil(log36(2^256))
const SECRET_LEN = 25 // ceil(log36(2^128))

/** A new join token for the CA with this digest (sha256:<hex>). */
export function generateJoinToken(digest: string, secret: Uint8Array = randomBytes(16)): string {
  const hex = digest.replace(/^sha256:/, '')
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new EngineError('InvalidArgument', 'ERR_SWARM_BAD_DIGEST', `invalid CA digest ${digest}`)
  const d = BigInt(`0x${hex}`).toString(36).padStart(DIGEST_LEN, '0')
  return `${TOKEN_PREFIX}-1-${d}-${toBase36(secret, SECRET_LEN)}`
}

export interface ParsedJoinToken {
  /** sha256:<hex> of the CA certificate the token pins. */
  caDigest: string
  secret: string
}

export function parseJoinToken(token: string): ParsedJoinToken {
  const parts = token.trim().split('-')
  if (parts.length !== 4 || parts[0] !== TOKEN_PREFIX || parts[1] !== '1' || !/^[0-9a-z]+$/.test(parts[2]!) || !/^[0-9a-z]+$/.test(parts[3]!) || parts[2]!.length !== DIGEST_LEN || parts[3]!.length !== SECRET_LEN) {
    throw new EngineError('InvalidArgument', 'ERR_SWARM_INVALID_TOKEN', 'invalid join token')
  }
  let n = 0n
  for (const ch of parts[2]!) n = n * 36n + BigInt(parseInt(ch, 36))
  const hex = n.toString(16)
  if (hex.length > 64) throw new EngineError('InvalidArgument', 'ERR_SWARM_INVALID_TOKEN', 'invalid join token')
  return { caDigest: `sha256:${hex.padStart(64, '0')}`, secret: parts[3]! }
}

/**
 * The role a join token admits, checked in constant time against the cluster's current tokens.
 * A token for another CA, or a rotated one, is refused with Docker's words.
 */
export function roleForJoinToken(ca: Pick<CaRecord, 'digest' | 'joinTokens'>, token: string): NodeRole {
  const parsed = parseJoinToken(token)
  if (parsed.caDigest !== ca.digest) {
    throw new EngineError('InvalidArgument', 'ERR_SWARM_CA_MISMATCH', `remote CA does not match fingerprint. Expected: ${parsed.caDigest}`)
  }
  for (const role of ['manager', 'worker'] as const) {
    const want = Buffer.from(ca.joinTokens[role])
    const got = Buffer.from(token.trim())
    if (want.length === got.length && timingSafeEqual(want, got)) return role
  }
  throw new EngineError('InvalidArgument', 'ERR_SWARM_TOKEN_REJECTED', 'A valid join token is necessary to join this cluster')
}

/** `swarm join-token --rotate <role>`: a new secret for one role, the other token unchanged. */
export function rotateJoinToken(ca: CaRecord, role: NodeRole): CaRecord {
  return { ...ca, joinTokens: { ...ca.joinTokens, [role]: generateJoinToken(ca.digest) } }
}

/** `swarm ca --rotate`: a new root; both tokens change (their digest names the new root). */
export async function rotateRootCA(pki: Pki, ca: CaRecord): Promise<CaRecord> {
  const root = await createRootCA(pki)
  return {
    ...ca,
    rootCertPem: root.certPem,
    rootKeyPem: root.keyPem,
    digest: root.digest,
    joinTokens: { worker: generateJoinToken(root.digest), manager: generateJoinToken(root.digest) },
  }
}

// ---- autolock ---------------------------------------------------------------------------------

const UNLOCK_PREFIX = 'SWMKEY-1-'

export function generateUnlockKey(key: Uint8Array = randomBytes(32)): string {
  return UNLOCK_PREFIX + Buffer.from(key).toString('base64').replace(/=+$/, '')
}

export function parseUnlockKey(s: string): Buffer {
  const t = s.trim()
  const body = t.slice(UNLOCK_PREFIX.length)
  if (!t.startsWith(UNLOCK_PREFIX) || !/^[A-Za-z0-9+/]{43}$/.test(body)) {
    throw new EngineError('InvalidArgument', 'ERR_SWARM_INVALID_UNLOCK_KEY', 'invalid key string')
  }
  return Buffer.from(body, 'base64')
}

/** Encrypt local TLS key material at rest with the unlock key (AES-256-GCM). */
export function sealWithUnlockKey(unlockKey: string, plaintext: string): string {
  const key = parseUnlockKey(unlockKey)
  const iv = randomBytes(12)
  const c = createCipheriv('aes-256-gcm', key, iv)
  const body = Buffer.concat([c.update(plaintext, 'utf8'), c.final()])
  return `berth-sealed-1:${Buffer.concat([iv, c.getAuthTag(), body]).toString('base64')}`
}

export function openWithUnlockKey(unlockKey: string, sealed: string): string {
  const key = parseUnlockKey(unlockKey)
  if (!sealed.startsWith('berth-sealed-1:')) throw new EngineError('InvalidArgument', 'ERR_SWARM_NOT_SEALED', 'data is not sealed')
  const raw = Buffer.from(sealed.slice('berth-sealed-1:'.length), 'base64')
  const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12))
  d.setAuthTag(raw.subarray(12, 28))
  try {
    return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8')
  } catch (err) {
    throw new EngineError('InvalidArgument', 'ERR_SWARM_UNLOCK_KEY_WRONG', 'swarm could not be unlocked: invalid key', { cause: err })
  }
}

export function isLockedMaterial(s: string): boolean {
  return s.startsWith('berth-sealed-1:')
}
