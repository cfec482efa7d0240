import { invalid } from '../lib/errors.js'
import { ENGINE_API_BODIES } from './schema/engine-api.js'
import * as validators from './schema/engine-api-validators.js'

/**
 * Request bodies checked against the Engine API schema (../shared/specs, generated into
 * schema/engine-api.ts, compiled by ajv into schema/engine-api-validators.ts when generated, so
 * berthd pays no compile) as Go's encoding/json decodes them into moby's structs: a value of the
 * wrong JSON type, a fraction or an out-of-range number where Go has an integer is refused with
 * Go's words; null is accepted anywhere and unknown fields are ignored, as Go does.
 */

interface AjvError { instancePath: string; keyword: string }
type Validator = ((data: unknown) => boolean) & { errors?: AjvError[] | null }
interface Schema {
  type?: string | string[]
  properties?: Record<string, Schema>
  additionalProperties?: Schema | boolean
  items?: Schema
  'x-go'?: string
  'x-struct'?: string
  'x-embed'?: string
}

function validatorFor(route: string): Validator | undefined {
  const name = validators.VALIDATOR_OF[route]
  return name ? (validators as unknown as Record<string, Validator>)[name] : undefined
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
  const v = validatorFor(route)
  if (!v) return parsed
  const root = ENGINE_API_BODIES[route] as Schema
  const body = canonicalKeys(root, parsed)
  if (v(body)) return body
  const e = v.errors?.[0]
  if (!e) return body
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
