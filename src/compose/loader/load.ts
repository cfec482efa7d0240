import { existsSync, readFileSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { invalid, isNotFoundErrno, notFound } from '../../lib/errors.js'
import type { ProjectModel } from '../model.js'
import { interpolateTree, parseDotenv, type Lookup } from './interpolate.js'
import { mergeTrees } from './merge.js'
import { absolutizePaths, absPath, canonicalize, normalizeProject } from './normalize.js'
import { validateFile } from './validate.js'
import { parseComposeYaml, withoutMarkers } from './yaml.js'

type Dict = Record<string, unknown>

export const DEFAULT_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml']
const OVERRIDE_FILES = ['compose.override.yaml', 'compose.override.yml', 'docker-compose.override.yaml', 'docker-compose.override.yml']

export interface LoadOptions {
  /** `-f` files in order; `-` reads stdin. */
  files?: string[]
  projectName?: string
  projectDirectory?: string
  envFiles?: string[]
  profiles?: string[]
  /** Services named on the command line (enabled whatever their profiles). */
  selected?: string[]
  cwd?: string
  /** The process environment (default process.env). */
  env?: Record<string, string | undefined>
  interpolate?: boolean
  /** What `-` reads (default: fd 0). */
  readStdin?: () => string
}

export interface LoadedProject {
  model: ProjectModel
  /** The merged, interpolated tree (for `config --no-normalize`-like output and hashing). */
  tree: Dict
}

/** Find the compose file from `dir` upwards (compose.yaml first), with its override file. */
export function discoverFiles(dir: string): string[] | undefined {
  let d = resolve(dir)
  for (;;) {
    const found = DEFAULT_FILES.find((f) => existsSync(join(d, f)))
    if (found) {
      const over = OVERRIDE_FILES.find((f) => existsSync(join(d, f)))
      return [join(d, found), ...(over ? [join(d, over)] : [])]
    }
    const up = dirname(d)
    if (up === d) return undefined
    d = up
  }
}

/** compose v2's normalisation of a directory name into a project name. */
export function normalizeProjectName(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[_-]+/, '')
}

/**
 * Load a project: find and read the files, resolve the environment (.env under the process
 * environment), interpolate, validate each file against the schema, merge, apply `include` and
 * `extends`, pick the project name, and normalise into the typed model.
 */
export async function loadProject(o: LoadOptions = {}): Promise<LoadedProject> {
  const cwd = o.cwd ?? process.cwd()
  const osEnv = o.env ?? process.env
  // COMPOSE_* may come from a .env in the working (or project) directory as well.
  const earlyDir = o.projectDirectory ? resolve(cwd, o.projectDirectory) : cwd
  const earlyDotenv = o.envFiles?.length ? readEnvFiles(o.envFiles.map((f) => resolve(cwd, f)), osEnv) : readOptionalEnv(join(earlyDir, '.env'), osEnv)
  const envVar = (k: string) => osEnv[k] ?? earlyDotenv[k]
  let files: string[] | undefined = o.files?.length ? o.files.map((f) => (f === '-' ? '-' : resolve(cwd, f))) : undefined
  if (!files && envVar('COMPOSE_FILE')) {
    const sep = envVar('COMPOSE_PATH_SEPARATOR') ?? ':'
    files = envVar('COMPOSE_FILE')!.split(sep).filter(Boolean).map((f) => resolve(earlyDir, f))
  }
  if (!files) files = discoverFiles(earlyDir)
  if (!files) throw notFound('ERR_COMPOSE_NO_FILE', 'no configuration file provided: not found')
  const projectDir = o.projectDirectory ? resolve(cwd, o.projectDirectory) : files[0] === '-' ? cwd : dirname(files[0]!)
  const dotenv = o.envFiles?.length ? earlyDotenv : readOptionalEnv(join(projectDir, '.env'), osEnv)
  const environment: Record<string, string> = { ...dotenv }
  for (const [k, v] of Object.entries(osEnv)) if (v !== undefined) environment[k] = v
  const lookup: Lookup = (k) => environment[k]
  const profiles = o.profiles?.length ? o.profiles : (environment.COMPOSE_PROFILES ?? '').split(',').map((s) => s.trim()).filter(Boolean)

  const tree = await loadFiles(files, { lookup, interpolate: o.interpolate !== false, readStdin: o.readStdin, projectDir, seen: new Set() })
  let name = o.projectName ?? osEnv.COMPOSE_PROJECT_NAME ?? dotenv.COMPOSE_PROJECT_NAME
  if (name !== undefined) {
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) throw invalid('ERR_COMPOSE_PROJECT_NAME', `invalid project name "${name}": must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number`)
  } else if (typeof tree.name === 'string' && tree.name) {
    name = tree.name
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) throw invalid('ERR_COMPOSE_PROJECT_NAME', `invalid project name "${name}": must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number`)
  } else {
    name = normalizeProjectName(basename(projectDir))
    if (!name) throw invalid('ERR_COMPOSE_PROJECT_NAME', `project name must not be empty (directory ${projectDir}); set one with -p or name:`)
  }
  const absolute = absolutizePaths(tree, projectDir)
  const model = normalizeProject(absolute, {
    name, workingDir: projectDir, configFiles: files.map((f) => (f === '-' ? '-' : f)), environment, lookup, profiles, ...(o.selected ? { selected: o.selected } : {}),
  })
  return { model, tree: absolute }
}

interface FileCtx { lookup: Lookup; interpolate: boolean; readStdin?: (() => string) | undefined; projectDir: string; seen: Set<string> }

/** Read, interpolate, validate and canonicalise each file, merge them, then apply include and extends. */
async function loadFiles(files: string[], ctx: FileCtx): Promise<Dict> {
  let merged: Dict = {}
  const cache = new Map<string, Dict>()
  for (const f of files) {
    const one = await loadOneFile(f, ctx)
    cache.set(f, one)
    merged = mergeTrees(merged, one)
  }
  merged = await applyIncludes(merged, ctx)
  merged = await applyExtends(merged, files[0] ?? '-', ctx, cache)
  delete merged.include
  return merged
}

async function loadOneFile(f: string, ctx: FileCtx): Promise<Dict> {
  let text: string
  const display = f === '-' ? '(stdin)' : f
  try {
    text = f === '-' ? (ctx.readStdin ?? (() => readFileSync(0, 'utf8')))() : readFileSync(f, 'utf8')
  } catch (err) {
    if (isNotFoundErrno(err)) throw notFound('ERR_COMPOSE_NO_FILE', `open ${f}: no such file or directory`)
    throw err
  }
  const parsed = parseComposeYaml(text, display)
  const data = ctx.interpolate ? interpolateTree(parsed.data, ctx.lookup) as Dict : parsed.data
  await validateFile(parsed, withoutMarkers(data))
  return canonicalize(data)
}

async function applyIncludes(tree: Dict, ctx: FileCtx): Promise<Dict> {
  const inc = tree.include
  if (!Array.isArray(inc) || inc.length === 0) return tree
  let out: Dict = { ...tree }
  delete out.include
  for (const entry of inc) {
    const e = typeof entry === 'string' ? { path: [entry] } : (entry as Dict)
    const paths = (Array.isArray(e.path) ? e.path : [e.path]).map((p) => absPath(ctx.projectDir, String(p)))
    const key = paths.join('\0')
    if (ctx.seen.has(key)) throw invalid('ERR_COMPOSE_INCLUDE', `include cycle: ${paths.join(', ')}`)
    const dir = e.project_directory ? absPath(ctx.projectDir, String(e.project_directory)) : dirname(paths[0]!)
    const envFiles = e.env_file === undefined ? [join(dir, '.env')] : (Array.isArray(e.env_file) ? e.env_file : [e.env_file]).map((x) => absPath(ctx.projectDir, String(x)))
    const incEnv = readEnvFiles(envFiles.filter((x, i) => e.env_file !== undefined || (i === 0 && existsSync(x))), {})
    const lookup: Lookup = (k) => ctx.lookup(k) ?? incEnv[k]
    const sub = absolutizePaths(await loadFiles(paths, { ...ctx, lookup, projectDir: dir, seen: new Set([...ctx.seen, key]) }), dir)
    for (const kind of ['services', 'networks', 'volumes', 'secrets', 'configs']) {
      const mine = (out[kind] ?? {}) as Dict
      const theirs = (sub[kind] ?? {}) as Dict
      for (const k of Object.keys(theirs)) {
        if (k in mine) throw invalid('ERR_COMPOSE_INCLUDE', `imported compose file ${paths[0]} defines conflicting ${kind.replace(/s$/, '')} ${k}`)
      }
      if (Object.keys(theirs).length) out = { ...out, [kind]: { ...theirs, ...mine } }
    }
  }
  return out
}

async function applyExtends(tree: Dict, file: string, ctx: FileCtx, cache: Map<string, Dict>): Promise<Dict> {
  const services = tree.services as Dict | undefined
  if (!services) return tree
  const resolved = new Map<string, Dict>()
  const resolveService = async (name: string, svcs: Dict, fromFile: string, trail: string[]): Promise<Dict> => {
    const id = `${fromFile}#${name}`
    if (fromFile === file && resolved.has(name)) return resolved.get(name)!
    if (trail.includes(id)) throw invalid('ERR_COMPOSE_EXTENDS', `circular reference with extends: ${[...trail, id].map((t) => t.split('#')[1]).join(' -> ')}`)
    const svc = svcs[name] as Dict | undefined
    if (!svc) throw invalid('ERR_COMPOSE_EXTENDS', `cannot extend service "${name}" in ${fromFile}: service not found`)
    const ext = svc.extends
    if (ext === undefined) return svc
    const e = typeof ext === 'string' ? { service: ext } : (ext as Dict)
    let baseSvcs = svcs
    let baseFile = fromFile
    if (e.file !== undefined) {
      baseFile = absPath(fromFile === '-' ? ctx.projectDir : dirname(fromFile), String(e.file))
      let other = cache.get(baseFile)
      if (!other) { other = await loadOneFile(baseFile, ctx); cache.set(baseFile, other) }
      other = absolutizePaths(other, dirname(baseFile))
      baseSvcs = (other.services ?? {}) as Dict
    }
    const base = await resolveService(String(e.service), baseSvcs, baseFile, [...trail, id])
    const { extends: _drop, ...own } = svc
    const baseCopy: Dict = { ...base }
    // depends_on is not inherited (as compose-go does), the rest merges like an override file.
    delete baseCopy.depends_on
    const merged = (mergeTrees({ services: { [name]: baseCopy } }, { services: { [name]: own } }).services as Dict)[name] as Dict
    if (fromFile === file) resolved.set(name, merged)
    return merged
  }
  const out: Dict = {}
  for (const name of Object.keys(services)) out[name] = await resolveService(name, services, file, [])
  return { ...tree, services: out }
}

function readOptionalEnv(path: string, osEnv: Record<string, string | undefined>): Record<string, string> {
  try {
    return parseDotenv(readFileSync(path, 'utf8'), path, (k) => osEnv[k])
  } catch (err) {
    if (isNotFoundErrno(err) || (err as NodeJS.ErrnoException).code === 'EISDIR') return {}
    throw err
  }
}

function readEnvFiles(paths: string[], osEnv: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const p of paths) {
    let text: string
    try {
      text = readFileSync(p, 'utf8')
    } catch (err) {
      if (isNotFoundErrno(err)) throw notFound('ERR_COMPOSE_ENV_FILE', `couldn't find env file: ${p}`)
      throw err
    }
    Object.assign(out, parseDotenv(text, p, (k) => osEnv[k] ?? out[k]))
  }
  return out
}
