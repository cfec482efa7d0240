import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { invalid, isNotFoundErrno } from '../../lib/errors.js'
import { COMPOSE_SPEC } from './compose-spec.js'
import { modelPath, type ParsedFile } from './yaml.js'

interface AjvError { instancePath: string; keyword: string; message?: string; params: Record<string, unknown> }
type Validator = ((data: unknown) => boolean) & { errors?: AjvError[] | null }

let cached: Validator | undefined
let key: string | undefined
const schemaKey = () => (key ??= createHash('sha256').update(JSON.stringify(COMPOSE_SPEC)).digest('hex').slice(0, 16))
const cacheDir = () => join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'berth')

/**
 * The schema validator. Compiling the Compose schema with ajv takes about half a second, so the
 * compiled code (ajv's standalone output) is kept in the user's cache directory, keyed by the
 * schema's digest, and later runs load it in a few milliseconds.
 */
async function validator(): Promise<Validator> {
  if (cached) return cached
  const key = schemaKey()
  const dir = cacheDir()
  const file = join(dir, `compose-schema-${key}.cjs`)
  const equal = (await import('ajv/dist/runtime/equal.js')).default as unknown as { default?: unknown }
  const requireShim = (id: string) => {
    if (id === 'ajv/dist/runtime/equal') return equal
    throw new Error(`compose schema validator needs ${id}`)
  }
  const load = (code: string): Validator => {
    const m = { exports: {} as { default?: Validator } & Validator }
    new Function('require', 'module', 'exports', code)(requireShim, m, m.exports)
    return (m.exports.default ?? m.exports) as Validator
  }
  try {
    cached = load(readFileSync(file, 'utf8'))
    return cached
  } catch (err) {
    if (!isNotFoundErrno(err) && !(err instanceof SyntaxError)) throw err
  }
  const { default: Ajv } = await import('ajv')
  const { default: standalone } = await import('ajv/dist/standalone/index.js')
  const ajv = new (Ajv as unknown as typeof import('ajv').default)({ strict: false, allowUnionTypes: true, validateSchema: false, code: { source: true, optimize: false } })
  ajv.addFormat('duration', true)
  const fn = ajv.compile(COMPOSE_SPEC)
  const code = (standalone as unknown as (a: unknown, f: unknown) => string)(ajv, fn)
  try {
    mkdirSync(dir, { recursive: true })
    const tmp = `${file}.${process.pid}.tmp`
    writeFileSync(tmp, code)
    renameSync(tmp, file)
  } catch (err) {
    // An unwritable cache only costs the compile next time.
    if (process.env.BERTH_DEBUG) process.stderr.write(`compose: cannot cache the schema validator: ${(err as Error).message}\n`)
  }
  cached = fn as unknown as Validator
  return cached
}

/**
 * Validate one file's (interpolated) tree against the Compose Specification schema. The error
 * names the file, line and column, and the model path: `compose.yaml:7:9: services.web.ports[1] ...`.
 */
export async function validateFile(parsed: ParsedFile, data: unknown): Promise<void> {
  // A tree already found valid is not checked again: loading the validator costs more than the
  // rest of a no-change `up`. The stamp is the digest of schema and tree.
  const stamp = join(cacheDir(), 'compose-valid', createHash('sha256').update(schemaKey()).update(JSON.stringify(data)).digest('hex'))
  if (existsSync(stamp)) return
  const v = await validator()
  if (v(data)) {
    try {
      mkdirSync(dirname(stamp), { recursive: true })
      writeFileSync(stamp, '')
    } catch (err) {
      if (process.env.BERTH_DEBUG) process.stderr.write(`compose: cannot write ${stamp}: ${(err as Error).message}\n`)
    }
    return
  }
  const errors = v.errors ?? []
  // The deepest error is the most specific (oneOf branches report their own first).
  const best = [...errors].sort((a, b) => depth(b) - depth(a))[0]
  if (!best) throw invalid('ERR_COMPOSE_SCHEMA', `${parsed.file}: invalid compose file`)
  const segs = toSegments(data, best.instancePath)
  let msg: string
  if (best.keyword === 'additionalProperties') {
    const prop = String(best.params.additionalProperty)
    segs.push(prop)
    msg = `additional property ${prop} is not allowed`
  } else if (best.keyword === 'type') msg = `must be a ${String(best.params.type).replace(/,/g, ' or ')}`
  else if (best.keyword === 'enum') msg = `must be one of ${(best.params.allowedValues as unknown[]).map(String).join(', ')}`
  else if (best.keyword === 'required') msg = `${String(best.params.missingProperty)} is required`
  else msg = best.message ?? best.keyword
  const where = modelPath(segs) || '(root)'
  const pos = nearestPosition(parsed, segs)
  throw invalid('ERR_COMPOSE_SCHEMA', `${parsed.file}${pos ? `:${pos.line}:${pos.col}` : ''}: ${where} ${msg}`)
}

const depth = (e: AjvError) => e.instancePath.split('/').length + (e.keyword === 'additionalProperties' ? 1 : 0)

function toSegments(data: unknown, pointer: string): Array<string | number> {
  const out: Array<string | number> = []
  let cur = data
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    if (Array.isArray(cur)) { out.push(Number(seg)); cur = cur[Number(seg)] } else { out.push(seg); cur = (cur as Record<string, unknown> | undefined)?.[seg] }
  }
  return out
}

function nearestPosition(parsed: ParsedFile, segs: Array<string | number>): { line: number; col: number } | undefined {
  for (let n = segs.length; n >= 0; n--) {
    const p = parsed.positions.get(modelPath(segs.slice(0, n)))
    if (p) return p
  }
  return undefined
}
