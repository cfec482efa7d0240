import { invalid } from '../lib/errors.js'

/**
 * Image references as Docker parses them (github.com/distribution/reference): a name made of
 * an optional domain and a path, an optional tag, an optional digest. Names are normalised:
 * `busybox` is `docker.io/library/busybox`; the familiar form drops what normalisation added.
 */
export interface Reference {
  /** Full name with domain: `docker.io/library/busybox`, `localhost:5000/a/b`. */
  readonly name: string
  readonly domain: string
  /** The path after the domain: `library/busybox`. */
  readonly path: string
  readonly tag?: string
  readonly digest?: string
}

export const DEFAULT_DOMAIN = 'docker.io'
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io'
const OFFICIAL_REPO_PREFIX = 'library/'
export const DEFAULT_TAG = 'latest'

const ALNUM = '[a-z0-9]+'
const SEPARATOR = '(?:[._]|__|[-]+)'
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]'
const DOMAIN = `(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?`
const TAG = '[\\w][\\w.-]{0,127}'
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}'
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`
const REFERENCE_RE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`)
const ANCHORED_TAG_RE = new RegExp(`^${TAG}$`)
const ANCHORED_ID_RE = /^[a-f0-9]{64}$/
const NAME_TOTAL_LENGTH_MAX = 255

export function isFullImageId(s: string): boolean {
  return ANCHORED_ID_RE.test(s)
}

export function isValidTag(tag: string): boolean {
  return ANCHORED_TAG_RE.test(tag)
}

function fail(message: string): never {
  throw invalid('ERR_INVALID_REFERENCE', message)
}

/** Split a name into domain and path, applying Docker Hub defaults. */
function splitDockerDomain(name: string): { domain: string; path: string } {
  const i = name.indexOf('/')
  let domain: string
  let path: string
  if (i === -1 || (!/[.:]/.test(name.slice(0, i)) && name.slice(0, i) !== 'localhost' && name.slice(0, i).toLowerCase() === name.slice(0, i))) {
    domain = DEFAULT_DOMAIN
    path = name
  } else {
    domain = name.slice(0, i)
    path = name.slice(i + 1)
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = OFFICIAL_REPO_PREFIX + path
  return { domain, path }
}

/**
 * Parse and normalise a reference as `reference.ParseNormalizedNamed` does. Errors use
 * Docker's words: `invalid reference format`, `... must be lowercase`.
 */
export function parseNormalizedNamed(s: string): Reference {
  if (ANCHORED_ID_RE.test(s)) {
    fail(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`)
  }
  const { domain, path: rest } = splitDockerDomain(s)
  const tagSep = rest.indexOf(':')
  const remote = tagSep > -1 ? rest.slice(0, tagSep) : rest
  if (remote.toLowerCase() !== remote) fail(`invalid reference format: repository name (${remote}) must be lowercase`)
  const m = REFERENCE_RE.exec(`${domain}/${rest}`)
  if (!m) fail('invalid reference format')
  const name = m[1]!
  if (name.length > NAME_TOTAL_LENGTH_MAX) fail(`invalid reference format: repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`)
  const slash = name.indexOf('/')
  const ref: Reference = {
    name,
    domain: name.slice(0, slash),
    path: name.slice(slash + 1),
    ...(m[2] !== undefined ? { tag: m[2] } : {}),
    ...(m[3] !== undefined ? { digest: validateDigest(m[3]) } : {}),
  }
  return ref
}

function validateDigest(d: string): string {
  const [alg, hex] = d.split(':') as [string, string]
  const want = alg === 'sha256' ? 64 : alg === 'sha384' ? 96 : alg === 'sha512' ? 128 : -1
  if (want === -1) fail('invalid reference format: unsupported digest algorithm')
  if (hex.length !== want || !/^[a-f0-9]+$/.test(hex)) fail('invalid checksum digest format')
  return d
}

/** `reference.ParseAnyReference`: a 64-hex ID or `sha256:<hex>` is a digest; anything else a name. */
export type AnyReference = { kind: 'id'; id: string } | { kind: 'named'; ref: Reference }

export function parseAnyReference(s: string): AnyReference {
  if (ANCHORED_ID_RE.test(s)) return { kind: 'id', id: `sha256:${s}` }
  if (/^sha256:[a-f0-9]{64}$/.test(s)) return { kind: 'id', id: s }
  return { kind: 'named', ref: parseNormalizedNamed(s) }
}

/** Add `:latest` when a reference has neither tag nor digest. */
export function tagNameOnly(ref: Reference): Reference {
  return ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: DEFAULT_TAG } : ref
}

export function withTag(ref: Reference, tag: string): Reference {
  if (!isValidTag(tag)) fail(`invalid tag format`)
  return { name: ref.name, domain: ref.domain, path: ref.path, tag }
}

/** The full string: `docker.io/library/busybox:latest`. */
export function referenceString(ref: Reference): string {
  return ref.name + (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '')
}

/** The name as users write it: `busybox`, `user/app`, `localhost:5000/app`. */
export function familiarName(ref: Pick<Reference, 'domain' | 'path'>): string {
  if (ref.domain === DEFAULT_DOMAIN) {
    return ref.path.startsWith(OFFICIAL_REPO_PREFIX) && ref.path.indexOf('/', OFFICIAL_REPO_PREFIX.length) === -1
      ? ref.path.slice(OFFICIAL_REPO_PREFIX.length)
      : ref.path
  }
  return `${ref.domain}/${ref.path}`
}

/** The familiar string: `busybox:latest`, `user/app@sha256:...`. */
export function familiarString(ref: Reference): string {
  return familiarName(ref) + (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '')
}

/** Parse a canonical (already normalised) string back, e.g. keys of the reference store. */
export function parseCanonical(s: string): Reference {
  return parseNormalizedNamed(s)
}
