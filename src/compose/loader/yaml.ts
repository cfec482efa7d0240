import { LineCounter, parseDocument, isAlias, isMap, isScalar, isSeq, type Document, type Node } from 'yaml'
import { EngineError } from '../../lib/errors.js'

/** `!reset`: the override file clears the attribute. */
export class Reset {
  readonly reset = true
}
/** `!override value`: the override file replaces the attribute instead of merging it. */
export class Override {
  constructor(readonly value: unknown) {}
}

export interface Position { line: number; col: number }

/** A parsed compose file: plain data, and the source position of each model path. */
export interface ParsedFile {
  file: string
  data: Record<string, unknown>
  positions: Map<string, Position>
}

/** `services.web.ports[1]` from path segments. */
export function modelPath(segments: ReadonlyArray<string | number>): string {
  let s = ''
  for (const seg of segments) s += typeof seg === 'number' ? `[${seg}]` : s ? `.${seg}` : seg
  return s
}

/**
 * Parse one compose file with the `yaml` library: anchors, aliases and `<<` merge keys resolved,
 * `!reset`/`!override` kept as markers, and every path's line and column recorded for errors.
 */
export function parseComposeYaml(text: string, file: string): ParsedFile {
  const lc = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false, merge: false, strict: false, logLevel: 'silent' })
  const posOf = (offset: number): Position => lc.linePos(offset)
  const first = doc.errors[0]
  if (first) {
    const p = posOf(first.pos[0])
    throw new EngineError('InvalidArgument', 'ERR_COMPOSE_YAML', `${file}:${p.line}:${p.col}: yaml: ${first.message.split('\n')[0]}`)
  }
  const positions = new Map<string, Position>()
  const toData = (node: unknown, path: Array<string | number>, depth: number): unknown => {
    if (depth > 200) throw new EngineError('InvalidArgument', 'ERR_COMPOSE_YAML', `${file}: yaml: alias nesting too deep at ${modelPath(path)}`)
    if (isAlias(node)) return toData(node.resolve(doc as Document), path, depth + 1)
    const n = node as Node | null
    if (n && n.range) positions.set(modelPath(path), posOf(n.range[0]))
    let value: unknown
    if (n === null || n === undefined) value = null
    else if (isScalar(n)) value = n.value
    else if (isSeq(n)) value = n.items.map((it, i) => toData(it, [...path, i], depth + 1))
    else if (isMap(n)) {
      const out: Record<string, unknown> = {}
      const merged: Record<string, unknown>[] = []
      for (const pair of n.items) {
        const k = isScalar(pair.key) ? pair.key.value : pair.key
        const key = k === null ? 'null' : String(k)
        if (key === '<<' && isScalar(pair.key) && !(pair.key as { tag?: string }).tag) {
          const v = toData(pair.value, path, depth + 1)
          for (const m of Array.isArray(v) ? v : [v]) {
            if (!m || typeof m !== 'object' || Array.isArray(m)) throw new EngineError('InvalidArgument', 'ERR_COMPOSE_YAML', `${file}: yaml: merge key << at ${modelPath(path) || '(root)'} needs a mapping or a list of mappings`)
            merged.push(m as Record<string, unknown>)
          }
          continue
        }
        out[key] = toData(pair.value, [...path, key], depth + 1)
        // An error about an attribute points at its key.
        if (pair.key && (pair.key as Node).range) positions.set(modelPath([...path, key]), posOf((pair.key as Node).range![0]))
      }
      // Keys of the mapping itself win over merged ones; earlier merge sources win over later.
      for (const m of merged) for (const [k, v] of Object.entries(m)) if (!(k in out)) out[k] = v
      value = out
    } else value = null
    const tag = (n as { tag?: string } | null)?.tag
    if (tag === '!reset') return new Reset()
    if (tag === '!override') return new Override(value)
    return value
  }
  const data = toData(doc.contents, [], 0)
  if (data === null || data === undefined) return { file, data: {}, positions }
  if (typeof data !== 'object' || Array.isArray(data)) throw new EngineError('InvalidArgument', 'ERR_COMPOSE_YAML', `${file}: Top-level object must be a mapping`)
  return { file, data: data as Record<string, unknown>, positions }
}

/** Strip the merge markers (for validation of a file on its own): `!reset` removes, `!override` unwraps. */
export function withoutMarkers(v: unknown): unknown {
  if (v instanceof Override) return withoutMarkers(v.value)
  if (Array.isArray(v)) return v.filter((x) => !(x instanceof Reset)).map(withoutMarkers)
  if (v && typeof v === 'object' && !(v instanceof Reset)) {
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) if (!(x instanceof Reset)) out[k] = withoutMarkers(x)
    return out
  }
  return v
}
