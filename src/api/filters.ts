import { Filters } from '../lib/filters.js'
import type { PruneFilters } from './backend.js'

/** An object without its undefined fields (optional filter keys stay absent). */
export function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T
}

/** A prune's `filters` (`label`, `label!`, `until`). */
export function parsePruneFilters(raw: string | null): PruneFilters {
  const f = Filters.parse(raw).validate(['label', 'label!', 'until'])
  return defined({ label: f.opt('label'), labelNot: f.opt('label!'), until: f.opt('until') })
}

