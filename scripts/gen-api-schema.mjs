#!/usr/bin/env node
// Generates src/api/schema/engine-api.ts from the Engine API swagger (../shared/specs/
// docker-engine-api-v1.50.yaml): the JSON-body requests as JSON Schema, typed as Go's
// encoding/json decodes them (null is accepted everywhere, unknown fields are ignored, enums and
// patterns are not checked at decode time), each schema noting its Go type for Docker's error text.
//   node scripts/gen-api-schema.mjs [path/to/swagger.yaml]
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import YAML from 'yaml'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const src = process.argv[2] ?? '/work/shared/specs/docker-engine-api-v1.50.yaml'
const spec = YAML.parse(readFileSync(src, 'utf8'))
const defs = spec.definitions

/** The Go names of swagger definitions whose struct is named differently. */
const GO_STRUCT = { ContainerConfig: 'Config', HealthConfig: 'HealthConfig', EndpointSettings: 'EndpointSettings', Resources: 'Resources' }
const GO_PKG = { EndpointSettings: 'network', EndpointIPAMConfig: 'network', IPAM: 'network', IPAMConfig: 'network', Mount: 'mount', PortBinding: 'nat' }
/** Fields Go decodes as strslice.StrSlice: a string or a list of strings. */
const STRSLICE = new Set(['Cmd', 'Entrypoint', 'CapAdd', 'CapDrop', 'Shell'])
/** Fields whose Go type is a named type with its own name in errors. */
const NAMED = { ExposedPorts: 'nat.PortSet', PortBindings: 'nat.PortMap', Ulimits: '[]*container.Ulimit', Labels: 'map[string]string' }

/** Integer fields that are Go `int`s (the swagger gives no format). */
const INT_FIELDS = new Set(['MaximumRetryCount', 'OomScoreAdj', 'StopTimeout', 'Retries'])
/** Integer fields whose Go type the swagger's format does not say. */
const GO_INT = { Replicas: 'uint64', MaxConcurrent: 'uint64', TotalCompletions: 'uint64', Parallelism: 'uint64', MaxAttempts: 'uint64', TargetPort: 'uint32', PublishedPort: 'uint32', ConsoleSize: 'uint', BlkioWeight: 'uint16', Weight: 'uint16', Rate: 'uint64', IOMaximumIOps: 'uint64', IOMaximumBandwidth: 'uint64' }
/** The Go struct of list entries the swagger describes inline. */
const ITEM_STRUCT = { Ulimits: 'Ulimit', BlkioWeightDevice: 'WeightDevice' }
const INT = {
  int64: ['int64', -9223372036854775808, 9223372036854775807],
  int32: ['int32', -2147483648, 2147483647],
  int: ['int', -9223372036854775808, 9223372036854775807],
  uint16: ['uint16', 0, 65535],
  uint32: ['uint32', 0, 4294967295],
  uint64: ['uint64', 0, 18446744073709551615],
  uint8: ['uint8', 0, 255],
  uint: ['uint', 0, 18446744073709551615],
}

function resolve(s) {
  if (s && s.$ref) return { name: s.$ref.split('/').pop(), schema: defs[s.$ref.split('/').pop()] }
  return { name: undefined, schema: s }
}

/** Merge allOf parts into one object (Go embeds the structs). */
function flatten(s) {
  if (!s.allOf) return s
  // One part (a named type, as Mount.Type's MountType string): that type itself.
  if (s.allOf.length === 1) return flatten(resolve(s.allOf[0]).schema)
  const out = { type: 'object', properties: {} }
  for (const part of s.allOf) {
    const { name, schema } = resolve(part)
    const f = flatten(schema)
    // A named part is an embedded struct: Go names it in the field path of errors (Go 1.24).
    for (const [k, v] of Object.entries(f.properties ?? {})) out.properties[k] = name ? { ...v, 'x-embed': GO_STRUCT[name] ?? name } : v
    if (f.title && !out.title) out.title = f.title
  }
  return out
}

function goStructName(name, s, field) {
  if (name) return GO_STRUCT[name] ?? name
  if (s.title) return s.title
  return field ?? 'object'
}

function convert(input, field, depth = 0) {
  if (depth > 12) return {}
  const { name, schema: raw } = resolve(input)
  if (!raw) return {}
  const s = flatten(raw)
  if (field && STRSLICE.has(field)) {
    return { type: ['string', 'array', 'null'], items: { type: ['string', 'null'], 'x-go': 'string' }, 'x-go': 'string' }
  }
  const type = s.type ?? (s.properties ? 'object' : undefined)
  if (type === 'integer') {
    // Swagger leaves most of Go's int64 fields without a format; these few are Go ints.
    const fmt = GO_INT[field] ?? s.format ?? (INT_FIELDS.has(field) ? 'int' : 'int64')
    const [go, min, max] = INT[fmt] ?? INT.int64
    return { type: ['integer', 'null'], minimum: min, maximum: max, 'x-go': go }
  }
  if (type === 'number') return { type: ['number', 'null'], 'x-go': 'float64' }
  if (type === 'boolean') return { type: ['boolean', 'null'], 'x-go': 'bool' }
  if (type === 'string') return { type: ['string', 'null'], 'x-go': 'string' }
  if (type === 'array') {
    const items = convert(s.items ?? {}, ITEM_STRUCT[field] ?? (field === 'ConsoleSize' ? 'ConsoleSize' : undefined), depth + 1)
    return { type: ['array', 'null'], items, 'x-go': NAMED[field] ?? `[]${items['x-go'] ?? 'interface {}'}` }
  }
  if (type === 'object') {
    if (s.properties) {
      const props = {}
      for (const [k, v] of Object.entries(s.properties)) {
        props[k] = convert(v, k, depth + 1)
        if (v['x-embed']) props[k]['x-embed'] = v['x-embed']
      }
      const struct = goStructName(name, s, field)
      const pkg = GO_PKG[name] ?? defaultPkg
      return { type: ['object', 'null'], properties: props, 'x-go': `${pkg}.${struct}`, 'x-struct': struct }
    }
    if (s.additionalProperties && typeof s.additionalProperties === 'object' && Object.keys(s.additionalProperties).length) {
      const v = convert(s.additionalProperties, undefined, depth + 1)
      if (!v['x-go'] || field === 'ExposedPorts' || field === 'Volumes') v['x-go'] = 'struct {}'
      return { type: ['object', 'null'], additionalProperties: v, 'x-go': NAMED[field] ?? `map[string]${v['x-go'] ?? 'interface {}'}` }
    }
    if (s.additionalProperties === false || (s.additionalProperties && !Object.keys(s.additionalProperties).length && field === undefined)) return { type: ['object', 'null'], 'x-go': 'struct {}' }
    return { type: ['object', 'null'], 'x-go': NAMED[field] ?? 'map[string]interface {}' }
  }
  return {}
}

const body = (path, method) => spec.paths[path][method].parameters.find((p) => p.in === 'body').schema
/** Each JSON-body route: its schema and the Go struct Docker decodes it into. */
const ROUTES = {
  'POST /containers/create': ['CreateRequest', body('/containers/create', 'post')],
  'POST /containers/{id}/update': ['UpdateConfig', body('/containers/{id}/update', 'post')],
  'POST /commit': ['Config', body('/commit', 'post')],
  'POST /containers/{id}/exec': ['ExecOptions', body('/containers/{id}/exec', 'post')],
  'POST /exec/{id}/start': ['ExecStartCheck', body('/exec/{id}/start', 'post')],
  'POST /volumes/create': ['CreateOptions', body('/volumes/create', 'post')],
  'POST /networks/create': ['CreateRequest', body('/networks/create', 'post')],
  'POST /networks/{id}/connect': ['ConnectOptions', body('/networks/{id}/connect', 'post')],
  'POST /networks/{id}/disconnect': ['DisconnectOptions', body('/networks/{id}/disconnect', 'post')],
  'POST /auth': ['AuthConfig', body('/auth', 'post')],
  'POST /plugins/{name}/set': ['', body('/plugins/{name}/set', 'post')],
  // swarm (Go decodes these into moby's api/types/swarm structs)
  'POST /swarm/init': ['InitRequest', body('/swarm/init', 'post')],
  'POST /swarm/join': ['JoinRequest', body('/swarm/join', 'post')],
  'POST /swarm/update': ['Spec', body('/swarm/update', 'post')],
  'POST /swarm/unlock': ['UnlockRequest', body('/swarm/unlock', 'post')],
  'POST /nodes/{id}/update': ['NodeSpec', body('/nodes/{id}/update', 'post')],
  'POST /services/create': ['ServiceSpec', body('/services/create', 'post')],
  'POST /services/{id}/update': ['ServiceSpec', body('/services/{id}/update', 'post')],
  'POST /secrets/create': ['SecretSpec', body('/secrets/create', 'post')],
  'POST /secrets/{id}/update': ['SecretSpec', body('/secrets/{id}/update', 'post')],
  'POST /configs/create': ['ConfigSpec', body('/configs/create', 'post')],
  'POST /configs/{id}/update': ['ConfigSpec', body('/configs/{id}/update', 'post')],
}
const out = {}
/** The Go package of structs the swagger names no package for: moby's api/types/swarm for the swarm routes. */
let defaultPkg = 'container'
for (const [route, [struct, s]] of Object.entries(ROUTES)) {
  defaultPkg = /^POST \/(swarm|nodes|services|secrets|configs)\//.test(route) ? 'swarm' : 'container'
  const c = convert(s)
  // The swarm bodies are the spec itself (the swagger's allOf only adds an example): no embedding.
  if (defaultPkg === 'swarm') for (const v of Object.values(c.properties ?? {})) delete v['x-embed']
  if (struct) { c['x-struct'] = struct; c['x-go'] = struct }
  // The top level must be the JSON type asked for (Go: "cannot unmarshal array into Go value of type ...").
  out[route] = c
}
const text = `// Generated by scripts/gen-api-schema.mjs from the Engine API v${spec.info.version} swagger: do not edit.
// JSON Schema of each JSON request body, typed as Go's encoding/json decodes it into moby's structs
// ('x-go': the Go type named in errors, 'x-struct': the struct that holds the fields).
/* eslint-disable */
export const ENGINE_API_BODIES: Record<string, object> = ${JSON.stringify(out)}
`
writeFileSync(join(root, 'src/api/schema/engine-api.ts'), text)
console.log(`wrote ${Object.keys(out).length} body schemas (${text.length} bytes)`)

// The validators, compiled once here (ajv's standalone code): compiling the create schema at run
// time costs berthd hundreds of milliseconds on its first create.
const { default: Ajv } = await import('ajv')
const { default: standalone } = await import('ajv/dist/standalone/index.js')
const ajv = new Ajv({ strict: false, allErrors: false, allowUnionTypes: true, validateSchema: false, code: { source: true, esm: true, optimize: true } })
const refs = {}
Object.keys(out).forEach((route, i) => { ajv.addSchema(out[route], `body${i}`); refs[`body${i}`] = `body${i}` })
let code = standalone(ajv, refs)
if (/require\(/.test(code)) throw new Error('the standalone validators need ajv runtime modules: bundle them')
const index = Object.fromEntries(Object.keys(out).map((route, i) => [route, `body${i}`]))
writeFileSync(join(root, 'src/api/schema/engine-api-validators.ts'), `// Generated by scripts/gen-api-schema.mjs (ajv standalone code of engine-api.ts): do not edit.
// @ts-nocheck
/* eslint-disable */
${code}
/** Route ("POST /containers/create") → the export validating its body. */
export const VALIDATOR_OF: Record<string, string> = ${JSON.stringify(index)}
`)
console.log(`wrote the standalone validators (${code.length} bytes)`)
