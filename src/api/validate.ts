import { invalid } from '../lib/errors.js'
import { ENGINE_API_BODIES } from './schema/engine-api.js'

/**
 * Request bodies checked against the Engine API schema (../shared/specs, generated into
 * schema/engine-api.ts) as Go's encoding/json decodes them into moby's structs: a value of the
 * wrong JSON type, a fraction or an out-of-range number where Go has an integer is refused with
 * Go's words; null is accepted anywhere and unknown fields are ignored, as Go does.
 *
 * The schema uses six keywords (type, properties, additionalProperties, items, minimum,
 * maximum), walked here by `firstError` in ajv's order, so the first error is the one ajv's
 * compiled validators (schema/engine-api-validators.ts, still generated: validate.test.ts
 * checks this walk against them) report. Those validators are 1.5 MB of code that cost berthd
 * ~8 MB of memory from its start; this walk costs nothing until a body comes.
 */

interface Schema {
  type?: string | string[]
  properties?: Record<string, Schema>
  additionalProperties?: Schema | boolean
  items?: Schema
  minimum?: number
  maximum?: number
  'x-go'?: string
  'x-struct'?: string
  'x-embed'?: string
}

function isType(t: string, v: unknown): boolean {
  switch (t) {
    case 'null': return v === null
    case 'object': return v !== null && typeof v === 'object' && !Array.isArray(v)
    case 'array': return Array.isArray(v)
    case 'string': return typeof v === 'string'
    case 'boolean': return typeof v === 'boolean'
    case 'number': return typeof v === 'number' && Number.isFinite(v)
    case 'integer': return typeof v === 'number' && Number.isInteger(v)
    default: return true
  }
}

const pointerSeg = (k: string): string => k.replace(/~/g, '~0').replace(/\//g, '~1')

/**
 * The JSON pointer of the first value `schema` refuses in `data`, or undefined when it takes it
 * all. ajv's order: the type, then a number's bounds, an array's items in order, an object's
 * other keys (additionalProperties, in the data's order) then its properties (in the schema's).
 */
export function firstError(schema: Schema, data: unknown, at = ''): string | undefined {
  const t = schema.type
  if (t !== undefined && !(Array.isArray(t) ? t.some((x) => isType(x, data)) : isType(t, data))) return at
  if (typeof data === 'number') {
    if (schema.maximum !== undefined && data > schema.maximum) return at
    if (schema.minimum !== undefined && data < schema.minimum) return at
    return undefined
  }
  if (data === null || typeof data !== 'object') return undefined
  if (Array.isArray(data)) {
    if (!schema.items) return undefined
    for (let i = 0; i < data.length; i++) {
      const e = firstError(schema.items, data[i], `${at}/${i}`)
      if (e !== undefined) return e
    }
    return undefined
  }
  const o = data as Record<string, unknown>
  const props = schema.properties
  const extra = schema.additionalProperties
  if (extra && typeof extra === 'object') {
    for (const k of Object.keys(o)) {
      if (props && Object.hasOwn(props, k)) continue
      const e = firstError(extra, o[k], `${at}/${pointerSeg(k)}`)
      if (e !== undefined) return e
    }
  }
  if (props) {
    for (const k of Object.keys(props)) {
      if (!Object.hasOwn(o, k) || o[k] === undefined) continue
      const e = firstError(props[k]!, o[k], `${at}/${pointerSeg(k)}`)
      if (e !== undefined) return e
    }
  }
  return undefined
}

/** The routes whose JSON body has a schema ("POST /containers/create", ...). */
export function hasBodySchema(route: string): boolean {
  return route in ENGINE_API_BODIES
}

/** Go's name of a JSON value's type in an UnmarshalTypeError ("number 1.5" for a number that does not fit). */
function jsonTypeOf(v: unknown, integerTarget: boolean): string {
  if (Array.isArray(v)) return 'array'
  if (v === null) return 'null'
  if (typeof v === 'number') return integerTarget ? `number ${String(v).replace('e+', 'e')}` : 'number'
  if (typeof v === 'boolean') return 'bool'
  return typeof v
}

/**
 * Go's struct and field path of a JSON pointer, walking the schema and the body (map keys and
 * list indexes are not fields), with the schema and the value found there.
 */
function goField(root: Schema, body: unknown, pointer: string): { struct: string; field: string; schema: Schema; value: unknown } | undefined {
  const segs = pointer.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
  let s: Schema | undefined = root
  let struct = root['x-struct'] ?? ''
  const path: string[] = []
  let value = body
  for (const seg of segs) {
    if (!s) return undefined
    value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[seg] : undefined
    const prop: Schema | undefined = s.properties?.[seg]
    if (prop) {
      struct = s['x-struct'] ?? struct
      if (prop['x-embed']) path.push(prop['x-embed'])
      path.push(seg)
      s = prop
    } else if (s.items && /^\d+$/.test(seg)) {
      s = s.items
    } else if (s.additionalProperties && typeof s.additionalProperties === 'object') {
      s = s.additionalProperties
    } else {
      return undefined
    }
  }
  return s ? { struct, field: path.join('.'), schema: s, value } : undefined
}

/**
 * Struct keys as Go matches them: a key that names no field exactly names the field it equals
 * case-insensitively, and a later key for the same field wins (`{"Privileged": true,
 * "privileged": false}` is not privileged on Docker, so not here either). Map keys are kept.
 */
function canonicalKeys(schema: Schema | undefined, value: unknown): unknown {
  if (!schema || value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return schema.items ? value.map((x) => canonicalKeys(schema.items, x)) : value
  const o = value as Record<string, unknown>
  if (schema.properties) {
    const props = schema.properties
    let folded: Map<string, string> | undefined
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(o)) {
      let name = k
      if (!(k in props)) {
        folded ??= new Map(Object.keys(props).map((p) => [p.toLowerCase(), p]))
        name = folded.get(k.toLowerCase()) ?? k
      }
      if (name !== k && name in out) delete out[name]
      out[name] = name in props ? canonicalKeys(props[name], v) : v
    }
    return out
  }
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    const inner = schema.additionalProperties
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, canonicalKeys(inner, v)]))
  }
  return value
}

/**
 * Check `body` (already parsed) of `route` ("METHOD /template") and return it with its keys as
 * Go matches them; throws Docker's 400
 * `invalid JSON: json: cannot unmarshal string into Go struct field HostConfig.HostConfig.Resources.Memory of type int64`.
 */
export function validateBody(route: string, parsed: unknown): unknown {
  const root = ENGINE_API_BODIES[route] as Schema | undefined
  if (!root) return parsed
  const body = canonicalKeys(root, parsed)
  const instancePath = firstError(root, body)
  if (instancePath === undefined) return body
  const e = { instancePath }
  const at = goField(root, body, e.instancePath)
  const target = at?.schema ?? {}
  const goType = target['x-go'] ?? 'interface {}'
  const types = Array.isArray(target.type) ? target.type : [target.type]
  const what = jsonTypeOf(at?.value, types.includes('integer') && typeof at?.value === 'number')
  const message = at?.field
    ? `json: cannot unmarshal ${what} into Go struct field ${at.struct}.${at.field} of type ${goType}`
    : `json: cannot unmarshal ${what} into Go value of type ${e.instancePath === '' ? qualified(root) : goType}`
  throw invalid('ERR_INVALID_JSON', `invalid JSON: ${message}`)
}

function qualified(root: Schema): string {
  const s = root['x-struct']
  if (!s) return root['x-go'] ?? 'interface {}'
  return s === 'AuthConfig' ? 'registry.AuthConfig' : s === 'CreateOptions' ? 'volume.CreateOptions' : s.endsWith('Options') && !s.startsWith('Exec') ? `network.${s}` : `container.${s}`
}
