import { Override, Reset, withoutMarkers } from './yaml.js'

type Dict = Record<string, unknown>
const isDict = (v: unknown): v is Dict => !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Reset) && !(v instanceof Override)

/** Service attributes whose value the override replaces (../shared/specs/compose/13-merge.md "Shell commands"). */
const REPLACED = new Set(['command', 'entrypoint'])

/**
 * Merge an override file's tree into the base's, by the rules of the Compose Specification:
 * mappings merge, sequences append, `command`/`entrypoint`/`healthcheck.test` are replaced,
 * `ports`/`volumes`/`secrets`/`configs` merge by their unique key, `!reset` clears and
 * `!override` replaces. Both trees must already be in canonical form (`canonicalize`).
 */
export function mergeTrees(base: Dict, over: Dict): Dict {
  return mergeValue(base, over, []) as Dict
}

function mergeValue(base: unknown, over: unknown, path: string[]): unknown {
  if (over instanceof Reset) return undefined
  if (over instanceof Override) return withoutMarkers(over.value)
  if (base === undefined || base === null) return withoutMarkers(over)
  const svcKey = path.length === 3 && path[0] === 'services' ? path[2]! : undefined
  if (svcKey && REPLACED.has(svcKey)) return withoutMarkers(over)
  if (path.length === 4 && path[0] === 'services' && path[2] === 'healthcheck' && path[3] === 'test') return withoutMarkers(over)
  if (isDict(base) && isDict(over)) {
    const out: Dict = { ...base }
    for (const [k, v] of Object.entries(over)) {
      const m = mergeValue(base[k], v, [...path, k])
      if (m === undefined) delete out[k]
      else out[k] = m
    }
    return out
  }
  if (Array.isArray(base) && Array.isArray(over)) {
    if (svcKey === 'ports') return mergeUnique(base, over, portKey)
    if (svcKey === 'volumes') return mergeUnique(base, over, (v) => (isDict(v) ? String(v.target) : shortVolumeTarget(String(v))))
    if (svcKey === 'secrets' || svcKey === 'configs') return mergeUnique(base, over, (v) => (isDict(v) ? String(v.target ?? v.source) : String(v)))
    const all = [...base, ...(withoutMarkers(over) as unknown[])]
    // Scalar lists (dns, cap_add, profiles...) keep one copy of each value, as compose-go does.
    if (all.every((x) => typeof x !== 'object' || x === null)) return [...new Set(all)]
    return all
  }
  return withoutMarkers(over)
}

function mergeUnique(base: unknown[], over: unknown[], key: (v: unknown) => string): unknown[] {
  const out = [...base]
  for (const raw of over) {
    if (raw instanceof Reset) continue
    const v = withoutMarkers(raw)
    const k = key(v)
    const at = out.findIndex((b) => key(b) === k)
    if (at >= 0) out[at] = isDict(out[at]) && isDict(v) ? { ...(out[at] as Dict), ...v } : v
    else out.push(v)
  }
  return out
}

function portKey(v: unknown): string {
  if (isDict(v)) return `${v.host_ip ?? ''}|${v.target}|${v.published ?? ''}|${v.protocol ?? 'tcp'}`
  return `short|${String(v)}`
}

function shortVolumeTarget(s: string): string {
  const parts = s.split(':')
  return parts.length === 1 ? parts[0]! : parts[1]!
}
