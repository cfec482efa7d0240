import { createHash, randomBytes } from 'node:crypto'
import { invalid } from './errors.js'

/** A content digest, `algorithm:hex`. Only sha256 is produced; sha512 is accepted on input. */
export type Digest = `sha256:${string}` | `sha512:${string}`

const DIGEST_RE = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/

export function isDigest(s: string): s is Digest {
  return DIGEST_RE.test(s)
}

export function parseDigest(s: string): Digest {
  if (!isDigest(s)) throw invalid('ERR_INVALID_DIGEST', `invalid digest: ${JSON.stringify(s)}`)
  return s
}

export function sha256(data: string | Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`
}

export function digestHex(d: string): string {
  const i = d.indexOf(':')
  return i < 0 ? d : d.slice(i + 1)
}

/** A new random 64-hex ID, as Docker makes container and exec IDs. */
export function newId(): string {
  for (;;) {
    const id = randomBytes(32).toString('hex')
    // Docker avoids IDs that look like numbers (truncated 12-char IDs parsed as ints).
    if (!/^[0-9]{12}/.test(id) && !/^[0-9]+e[0-9]+$/.test(id.slice(0, 12))) return id
  }
}

export function shortId(id: string): string {
  return digestHex(id).slice(0, 12)
}

/** The chain ID of a layer stack (OCI image spec): ChainID(L0) = DiffID(L0), ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)). */
export function chainIds(diffIds: readonly string[]): Digest[] {
  const out: Digest[] = []
  let prev: string | undefined
  for (const d of diffIds) {
    const id: Digest = prev === undefined ? (d as Digest) : sha256(`${prev} ${d}`)
    out.push(id)
    prev = id
  }
  return out
}
