import { regErr } from './errors.js'

// From the distribution spec: <name> components and <reference> tags.
const COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*'
const NAME_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`)
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/
const DIGEST_RE = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/
const ANY_DIGEST_RE = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/
export const MAX_NAME = 255

export function isName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_NAME && NAME_RE.test(name)
}

export function checkName(name: string): string {
  if (!isName(name)) throw regErr('NAME_INVALID', 'invalid repository name', { name })
  return name
}

export const isTag = (s: string) => TAG_RE.test(s)
export const isDigest = (s: string) => DIGEST_RE.test(s)

/** A digest from the client: a well-formed one of an algorithm we do not support is UNSUPPORTED-ish, we answer DIGEST_INVALID as distribution. */
export function checkDigest(s: string | undefined | null): string {
  if (!s || !isDigest(s)) throw regErr('DIGEST_INVALID', ANY_DIGEST_RE.test(s ?? '') ? 'unsupported digest algorithm' : 'invalid digest', { digest: s ?? '' })
  return s
}

export type Reference = { tag: string; digest?: undefined } | { digest: string; tag?: undefined }

export function parseReference(ref: string): Reference {
  if (ref.includes(':')) return { digest: checkDigest(ref) }
  if (!isTag(ref)) throw regErr('TAG_INVALID', 'invalid tag', { tag: ref })
  return { tag: ref }
}

export const algorithmOf = (digest: string) => digest.slice(0, digest.indexOf(':')) as 'sha256' | 'sha512'
export const hexOf = (digest: string) => digest.slice(digest.indexOf(':') + 1)
/** The namespace of a repository: its first path component. */
export const namespaceOf = (name: string) => name.split('/')[0]!
