import { familiarString, parseNormalizedNamed } from '../../distribution/reference.js'
import { matchLabels } from '../../lib/filters.js'
import type { EngineEvent } from './types.js'

/** Event filter values by key (`type`, `event`, `image`, `container`, `label`...). */
export type EventFilterValues = Readonly<Record<string, readonly string[] | undefined>>

/** Docker's event filter semantics: values of a key OR-ed, keys AND-ed. */
export function eventMatcher(f: EventFilterValues): (e: EngineEvent) => boolean {
  const get = (k: string): readonly string[] => f[k] ?? []
  const has = (k: string): boolean => f[k] !== undefined
  const imageNames = (v: string): string[] => {
    try {
      const ref = parseNormalizedNamed(v)
      const fam = familiarString(ref)
      return [v, fam, fam.replace(/:[^:/@]+$/, '')]
    } catch {
      return [v]
    }
  }
  return (e) => {
    if (has('type') && !get('type').includes(e.type)) return false
    if (has('event') && !get('event').some((v) => e.action === v || e.action.split(':')[0] === v)) return false
    if (has('scope') && !get('scope').includes(e.scope)) return false
    if (!matchLabels(get('label'), e.actor.attributes)) return false
    if (has('image')) {
      if (e.type !== 'image' && e.type !== 'container') return false
      const candidates = [e.actor.id, e.actor.attributes.image ?? '', e.actor.attributes.name ?? ''].filter(Boolean)
      const ok = get('image').some((v) => {
        const names = imageNames(v)
        return candidates.some((c) => names.includes(c) || imageNames(c).some((n) => names.includes(n)) || (c.startsWith('sha256:') && (c === v || c.slice(7).startsWith(v.replace(/^sha256:/, '')))))
      })
      if (!ok) return false
    }
    if (has('container')) {
      if (e.type !== 'container') return false
      if (!get('container').some((v) => e.actor.id.startsWith(v) || e.actor.attributes.name === v)) return false
    }
    for (const [key, type] of [['network', 'network'], ['volume', 'volume'], ['daemon', 'daemon'], ['plugin', 'plugin']] as const) {
      if (has(key)) {
        if (e.type !== type) return false
        if (!get(key).some((v) => e.actor.id.startsWith(v) || e.actor.attributes.name === v)) return false
      }
    }
    return true
  }
}
