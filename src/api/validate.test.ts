import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ENGINE_API_BODIES } from './schema/engine-api.js'
import * as validators from './schema/engine-api-validators.js'
import { firstError, validateBody } from './validate.js'

interface Schema { type?: string | string[]; properties?: Record<string, Schema>; additionalProperties?: Schema | boolean; items?: Schema; minimum?: number; maximum?: number }
type Validator = ((data: unknown) => boolean) & { errors?: Array<{ instancePath: string }> | null }

/** A small deterministic PRNG, so a failure names a seed that reproduces it. */
function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const WRONG: unknown[] = ['s', 1, 1.5, -2, true, null, [], {}, 1e300, -9.3e18, 9.3e18, [1], { a: 1 }]

/** A body for `s`: mostly of the right types, each value wrong now and then (`bad` of the time). */
function gen(s: Schema, r: () => number, bad: number, depth = 0): unknown {
  if (r() < bad) return WRONG[Math.floor(r() * WRONG.length)]
  const types = (Array.isArray(s.type) ? s.type : [s.type ?? 'object']).filter((t) => t !== 'null')
  const t = types[Math.floor(r() * types.length)] ?? 'null'
  switch (t) {
    case 'string': return ['', 'x', 'a/b~c'][Math.floor(r() * 3)]
    case 'boolean': return r() < 0.5
    case 'integer': return r() < 0.9 ? Math.floor(r() * 2000) - 1000 : 2 ** 62
    case 'number': return r() * 100
    case 'array': {
      if (depth > 6) return []
      const n = Math.floor(r() * 3)
      return Array.from({ length: n }, () => (s.items ? gen(s.items, r, bad, depth + 1) : 1))
    }
    case 'object': {
      const o: Record<string, unknown> = {}
      if (depth > 6) return o
      for (const [k, p] of Object.entries(s.properties ?? {})) if (r() < 0.5) o[k] = gen(p, r, bad, depth + 1)
      if (s.additionalProperties && typeof s.additionalProperties === 'object') {
        for (const k of ['k', 'a/b', 't~1', 'z'].slice(0, Math.floor(r() * 4))) o[k] = gen(s.additionalProperties, r, bad, depth + 1)
      }
      if (r() < 0.2) o.UnknownField = WRONG[Math.floor(r() * WRONG.length)]
      return o
    }
    default: return null
  }
}

test('the schema walk finds the first error ajv’s compiled validators report, on every route', () => {
  const routes = Object.keys(validators.VALIDATOR_OF)
  assert.deepEqual(routes.sort(), Object.keys(ENGINE_API_BODIES).sort(), 'one validator per body schema')
  let failing = 0
  for (const route of routes) {
    const v = (validators as unknown as Record<string, Validator>)[validators.VALIDATOR_OF[route]!]!
    const schema = ENGINE_API_BODIES[route] as Schema
    for (let seed = 0; seed < 400; seed++) {
      const r = rng(seed)
      const body = gen(schema, r, [0, 0.01, 0.05, 0.2][seed % 4]!)
      const ok = v(body)
      const want = ok ? undefined : v.errors?.[0]?.instancePath
      assert.equal(firstError(schema, body), want, `${route}, seed ${seed}: ${JSON.stringify(body)}`)
      if (!ok) failing++
    }
  }
  assert.ok(failing > 500, `the generated bodies exercise errors (${failing} refused)`)
})

test('validateBody answers in Go’s words', () => {
  assert.throws(() => validateBody('POST /containers/create', { HostConfig: { Memory: '1g' } }),
    /invalid JSON: json: cannot unmarshal string into Go struct field HostConfig\.HostConfig\.Resources\.Memory of type int64$/)
  assert.throws(() => validateBody('POST /containers/create', { Env: ['A', 1] }), /cannot unmarshal number into Go struct field CreateRequest\.Config\.Env of type string$/)
  assert.throws(() => validateBody('POST /containers/create', { HostConfig: { CpuShares: 1.5 } }), /cannot unmarshal number 1\.5 into Go struct field HostConfig\.HostConfig\.Resources\.CpuShares of type int64$/)
  assert.throws(() => validateBody('POST /containers/create', []), /cannot unmarshal array into Go value of type container\.CreateRequest$/)
  assert.deepEqual(validateBody('POST /containers/create', { image: 'busybox', Labels: null }), { Image: 'busybox', Labels: null })
  assert.deepEqual(validateBody('GET /nothing', { a: 1 }), { a: 1 })
})
