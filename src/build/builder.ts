/**
 * The classic builder (`POST /build` without BuildKit): the context is unpacked, the Dockerfile
 * parsed, the stages the target needs are built in order, one image per instruction. Metadata
 * instructions make config-only images (`#(nop)` history, no layer); RUN runs a container from
 * the previous image and commits it; COPY/ADD write into a created (never started) container's
 * root filesystem and commit it. Each step is looked up in the build cache first (cache.ts).
 * Progress goes out as Docker's JSON stream messages through `emit`.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { lstat, mkdir, mkdtemp, open, readdir, readFile, readlink, rm, stat } from 'node:fs/promises'
import { join, posix } from 'node:path'
import { newContainerConfig, newHostConfig } from '../engine/containers/create.js'
import { decompressed } from '../core/decompress.js'
import { familiarString, parseNormalizedNamed, referenceString, tagNameOnly } from '../distribution/reference.js'
import { followInScope, extractToContainer } from '../engine/containers/archive.js'
import { readLogs } from '../engine/containers/logs.js'
import type { ContainerService } from '../engine/containers/service.js'
import { resolveUser } from '../engine/containers/user.js'
import { commitContainer } from '../engine/images/commit.js'
import type { ImageService } from '../engine/images/service.js'
import { MEDIA_TYPE_LAYER, type ContainerConfigFields, type ImageConfigFile, type ImageRecord } from '../engine/images/types.js'
import { chainIds, sha256, shortId, type Digest } from '../lib/digest.js'
import { EngineError, invalid, isNotFoundErrno, notFound, notImplemented } from '../lib/errors.js'
import { BuildCache } from './cache.js'
export type { CachePruneFilters } from './cache.js'
import { extractContext, MemContext } from './context.js'
import { parseDockerignore, type IgnorePattern } from './dockerignore.js'
import { diskFs, fakeStat, fileHash, globSources, looksLikeArchive, missingDirs, packEntries, walkDir, type SourceFs, type TarEntry } from './files.js'
import { flagValue, parseDockerfile, parseError, parseNameVal, splitRawWords, type Instruction } from './parser.js'
import { envMap, processWord, processWords } from './shell-lex.js'

export interface BuildOptions {
  dockerfile: string
  tags: string[]
  buildArgs: Record<string, string | null>
  target?: string
  noCache: boolean
  pull: boolean
  labels: Record<string, string>
  quiet: boolean
  rm: boolean
  forceRm: boolean
  memory?: number
  memorySwap?: number
  shmSize?: number
  networkMode?: string
  extraHosts: string[]
  cacheFrom: string[]
  platform?: string
  /** berth's own: say why each step missed the cache. */
  explainCache: boolean
  signal?: AbortSignal
}

export interface BuilderDeps {
  containers: ContainerService
  images: ImageService
  dataRoot: string
  log: (msg: string) => void
}

/** One message of the classic build stream. */
export type BuildMessage = { stream: string } | { aux: { ID: string } } | { errorDetail: { message: string; code?: number }; error: string }

/** A failure that carries the exit code docker build reports (a RUN's own code). */
export class BuildStepError extends Error {
  constructor(message: string, readonly code: number) { super(message) }
}

interface Stage {
  index: number
  name?: string
  base: string
  platform?: string
  instructions: Instruction[]
  from: Instruction
}

interface StageState {
  imageId?: Digest
  config: ContainerConfigFields
  /** Declared ARGs and their values (undefined: declared without value). */
  args: Map<string, string | undefined>
  shell: string[]
  /** MAINTAINER: the image's `author` (not part of the container config). */
  author?: string
}

const DEFAULT_SHELL = ['/bin/sh', '-c']


/** The stage a step runs in: where its output goes and its step counter. */
const stageOutput = new AsyncLocalStorage<{ sink: { buf: string[]; live: boolean; done: boolean }; step: number }>()

/** Run a build; returns the final image ID. Errors are thrown (the route turns them into errorDetail). */
export async function runBuild(deps: BuilderDeps, body: AsyncIterable<Buffer>, opts: BuildOptions, emit: (m: BuildMessage) => void): Promise<Digest> {
  const out = (s: string) => { if (!opts.quiet) emit({ stream: s }) }
  for (const t of opts.tags) {
    const ref = parseNormalizedNamed(t)
    if (ref.digest !== undefined) throw invalid('ERR_INVALID_REFERENCE', `invalid reference format`)
  }
  if (opts.platform && opts.platform !== 'linux' && !opts.platform.startsWith(`linux/${deps.images.deps.platform.architecture}`)) {
    throw notImplemented('ERR_BUILD_PLATFORM', `building for platform ${opts.platform} is not supported by this berthd (only the host's)`)
  }
  const tmpRoot = join(deps.dataRoot, 'build-cache', 'tmp')
  // What a previous berthd left (a crash during a build) goes before this process's first build.
  await sweeping.get(tmpRoot)
  await mkdir(tmpRoot, { recursive: true })
  if (opts.pull) emit({ stream: 'Note: --pull: this berthd cannot pull during a build; base images are used as they are stored here\n' })
  const ctxDir = await mkdtemp(join(tmpRoot, 'ctx-'))
  const b = new Build(deps, opts, out, ctxDir)
  try {
    const t0 = performance.now()
    const mem = new MemContext(ctxDir)
    const n = await extractContext(body, ctxDir, opts.signal, b.hashes, mem)
    if (!mem.spilled) b.mem = mem
    const t1 = performance.now()
    let id: Digest
    try { id = await b.run(emit) } finally {
      // The cache index is written behind the steps; the build answers once it is on disk.
      await b.cache.flush().catch((e: unknown) => deps.log(`build: cache index: ${String(e)}`))
    }
    deps.log(`build ${shortId(id)}: context of ${n} entries ${b.mem ? 'indexed in memory' : 'unpacked'} in ${Math.round(t1 - t0)} ms, steps in ${Math.round(performance.now() - t1)} ms (${b.stepTimes.join(', ')})`)
    return id
  } finally {
    await b.cleanup()
    await rm(ctxDir, { recursive: true, force: true })
  }
}

/** When this process started: what the builds' temp directory holds from before is a crash's. */
const processStart = Date.now() - performance.now()
/** The sweep of each temp root under way, so a build waits for it. */
const sweeping = new Map<string, Promise<void>>()

/**
 * Remove from the builds' temp directory what a killed berthd left (contexts, ADD downloads,
 * empty roots): every entry older than this process, so the running builds keep theirs. Run at
 * start and by builder prune.
 */
export function sweepBuildTemp(dataRoot: string, log: (m: string) => void): Promise<void> {
  const tmpRoot = join(dataRoot, 'build-cache', 'tmp')
  const prev = sweeping.get(tmpRoot) ?? Promise.resolve()
  const p = prev.then(async () => {
    let names: string[]
    try { names = await readdir(tmpRoot) } catch (err) { if (isNotFoundErrno(err)) return; throw err }
    for (const n of names) {
      const path = join(tmpRoot, n)
      const st = await lstat(path).catch(() => undefined)
      if (!st || Math.min(st.ctimeMs, st.birthtimeMs || Infinity) >= processStart) continue
      await rm(path, { recursive: true, force: true })
    }
  }).catch((e) => log(`build: sweep ${tmpRoot}: ${String(e)}`))
  sweeping.set(tmpRoot, p)
  void p.finally(() => { if (sweeping.get(tmpRoot) === p) sweeping.delete(tmpRoot) })
  return p
}

class Build {
  readonly cache: BuildCache
  /** sha256 of context files, by absolute path, recorded while the context was unpacked. */
  readonly hashes = new Map<string, string>()
  ignore: IgnorePattern[] = []
  escape = '\\'
  total = 0
  metaArgs = new Map<string, string | undefined>()
  readonly stagePromises = new Map<number, Promise<Digest>>()
  /** Aborted by the client going away or by the first failing stage (the others stop). */
  readonly abort = new AbortController()
  readonly signal: AbortSignal
  usedArgs = new Set<string>()
  /** Each step's wall time (ms), for the daemon log line of the build. */
  readonly stepTimes: string[] = []
  /** Containers made for reading images (COPY --from), removed at the end. */
  readers = new Map<string, string>()

  readonly opts: BuildOptions
  constructor(readonly deps: BuilderDeps, opts: BuildOptions, readonly rawOut: (s: string) => void, readonly ctxDir: string) {
    this.signal = opts.signal ? AbortSignal.any([opts.signal, this.abort.signal]) : this.abort.signal
    this.opts = { ...opts, signal: this.signal }
    this.cache = BuildCache.for(join(deps.dataRoot, 'build-cache'))
  }

  /** The context while it is held in memory (undefined once on disk: `ctxOnDisk`). */
  mem: MemContext | undefined

  /** Write the in-memory context into ctxDir, for the steps that need it there (ADD). */
  async ctxOnDisk(): Promise<void> {
    const m = this.mem
    if (!m) return
    await m.spill()
    if (this.mem === m) { this.mem = undefined; this.deps.log('build: context written to disk (ADD)') }
  }

  /** The context file `rel` (Dockerfile, .dockerignore), followed in scope. */
  async readContextFile(rel: string): Promise<string> {
    if (this.mem) return this.mem.readFile(posix.normalize(rel)).toString('utf8')
    return readFile(this.ctxDir + await followInScope(this.ctxDir, rel), 'utf8')
  }

  async fileHash(path: string): Promise<string> {
    const known = this.hashes.get(path) ?? this.hashes.get(posix.normalize(path))
    if (known) return known
    const data = this.mem?.data(path)
    return data ? createHash('sha256').update(data).digest('hex') : fileHash(path)
  }

  /** ADD URL downloads, removed with the context. */
  downloads: string[] = []

  async cleanup(): Promise<void> {
    for (const f of this.downloads) await rm(f, { force: true })
    for (const r of this.releases.splice(0)) r()
    await Promise.allSettled(this.holding)
    // The reader containers go together: the build's answer waits for this.
    await Promise.all([...this.readers.values()].map((id) => this.deps.containers.remove(id, { force: true }).catch((e) => this.deps.log(`build: remove ${id}: ${String(e)}`))))
  }

  async run(emit: (m: BuildMessage) => void): Promise<Digest> {
    const dfPath = posix.normalize(this.opts.dockerfile || 'Dockerfile')
    if (dfPath.startsWith('../') || dfPath.startsWith('/')) throw invalid('ERR_DOCKERFILE', `the Dockerfile (${this.opts.dockerfile}) must be within the build context`)
    let text: string
    try {
      text = await this.readContextFile(dfPath)
    } catch (err) {
      if (isNotFoundErrno(err) || (err as NodeJS.ErrnoException).code === 'EISDIR') throw invalid('ERR_DOCKERFILE', `Cannot locate specified Dockerfile: ${this.opts.dockerfile || 'Dockerfile'}`)
      throw err
    }
    for (const ign of [`${dfPath}.dockerignore`, '.dockerignore']) {
      try {
        this.ignore = parseDockerignore(await this.readContextFile(ign))
        break
      } catch (err) { if (!isNotFoundErrno(err)) throw err }
    }
    const df = parseDockerfile(text)
    this.escape = df.escape
    if (df.instructions.length === 0) throw invalid('ERR_DOCKERFILE', 'the Dockerfile (Dockerfile) cannot be empty')
    // Build labels are one more LABEL instruction at the end, as the classic builder adds them.
    const labelKeys = Object.keys(this.opts.labels)
    if (labelKeys.length) {
      const text = 'LABEL ' + labelKeys.map((k) => `${JSON.stringify(k)}=${JSON.stringify(this.opts.labels[k])}`).join(' ')
      const last = df.instructions.at(-1)!
      df.instructions.push({ cmd: 'label', line: last.endLine + 1, endLine: last.endLine + 1, original: text, flags: [], args: text.slice(6), heredocs: [] })
    }
    // Stages.
    const stages: Stage[] = []
    for (const ins of df.instructions) {
      if (ins.cmd === 'from') {
        const w = ins.args.trim().split(/\s+/)
        stages.push({ index: stages.length, base: w[0]!, ...(w[2] ? { name: w[2].toLowerCase() } : {}), ...(flagValue(ins, 'platform') ? { platform: flagValue(ins, 'platform') } : {}), instructions: [], from: ins })
      } else if (stages.length === 0) {
        if (ins.cmd !== 'arg') throw parseError(ins.line, 'no build stage in current context')
        for (const [k, v] of this.argPairs(ins)) this.metaArgs.set(k, v === undefined ? undefined : processWord(v, this.metaEnv(), this.escape))
      } else stages.at(-1)!.instructions.push(ins)
    }
    if (stages.length === 0) throw invalid('ERR_DOCKERFILE', 'no build stage in current context')
    let targetIdx = stages.length - 1
    if (this.opts.target) {
      const t = stages.find((s) => s.name === this.opts.target!.toLowerCase())
      if (!t) throw invalid('ERR_BUILD_TARGET', `failed to reach build target ${this.opts.target} in Dockerfile`)
      targetIdx = t.index
    }
    // The stages the target needs: FROM <stage> and COPY --from=<stage>.
    const byName = (ref: string, before: number): Stage | undefined => {
      const r = ref.toLowerCase()
      const named = stages.find((s) => s.index < before && s.name === r)
      if (named) return named
      if (/^\d+$/.test(r)) {
        const i = Number(r)
        if (i >= before) throw invalid('ERR_BUILD_STAGE', `invalid from flag value ${ref}: refers to current build stage`)
        return stages[i]
      }
      return undefined
    }
    const needed = new Set<number>()
    const visit = (s: Stage) => {
      if (needed.has(s.index)) return
      needed.add(s.index)
      const base = byName(this.subMeta(s.base), s.index)
      if (base) visit(base)
      for (const ins of s.instructions) {
        const f = ins.cmd === 'copy' ? flagValue(ins, 'from') : undefined
        if (f) { const dep = byName(this.subMeta(f), s.index); if (dep) visit(dep) }
      }
    }
    visit(stages[targetIdx]!)
    const order = stages.filter((s) => needed.has(s.index))
    this.total = order.reduce((n, s) => n + 1 + s.instructions.length, 0)
    // Stages run concurrently, each waiting only for the stages it uses (FROM, COPY --from).
    // Their output is kept in Dockerfile order: a stage's lines are held until the stages before
    // it have finished printing. Step numbers are fixed in advance.
    const sinks = order.map(() => ({ buf: [] as string[], live: false, done: false }))
    let head = 0
    const flush = () => {
      while (head < order.length) {
        const k = sinks[head]!
        for (const x of k.buf.splice(0)) this.rawOut(x)
        k.live = true
        if (!k.done) break
        head++
      }
    }
    flush()
    let firstErr: { err: unknown } | undefined
    let failedAt = -1
    let offset = 0
    order.forEach((s, i) => {
      const step = offset
      offset += 1 + s.instructions.length
      const p = stageOutput.run({ sink: sinks[i]!, step }, () => this.buildStage(s, (ref) => byName(ref, s.index)))
      this.stagePromises.set(s.index, p)
      p.then(() => { sinks[i]!.done = true; flush() }, (err: unknown) => {
        sinks[i]!.done = true
        if (!firstErr) { firstErr = { err }; failedAt = i; this.abort.abort(err) }
      })
    })
    await Promise.allSettled(this.stagePromises.values())
    if (firstErr) {
      for (let j = head; j <= failedAt; j++) for (const x of sinks[j]!.buf.splice(0)) this.rawOut(x)
      throw firstErr.err
    }
    const last = await this.stagePromises.get(order.at(-1)!.index)!
    const unused = Object.keys(this.opts.buildArgs).filter((k) => !this.usedArgs.has(k) && !this.metaArgs.has(k) && !BUILTIN_ARGS.has(k))
    if (unused.length) this.out(`[Warning] One or more build-args [${unused.join(' ')}] were not consumed\n`)
    const id = last
    emit({ aux: { ID: id } })
    this.out(`Successfully built ${shortId(id)}\n`)
    for (const t of this.opts.tags) {
      const ref = tagNameOnly(parseNormalizedNamed(t))
      await this.deps.images.tag(id, referenceString({ ...ref, tag: undefined }), ref.tag)
      this.out(`Successfully tagged ${familiarString(ref)}\n`)
    }
    if (this.opts.quiet) this.outQuiet(emit, `${id}\n`)
    return id
  }

  outQuiet(emit: (m: BuildMessage) => void, s: string): void { emit({ stream: s }) }

  metaEnv(): Map<string, string> {
    const m = new Map<string, string>()
    for (const [k, v] of this.metaArgs) {
      const given = this.opts.buildArgs[k]
      if (given !== undefined && given !== null) m.set(k, given)
      else if (v !== undefined) m.set(k, v)
    }
    return m
  }

  subMeta(s: string): string { return processWord(s, this.metaEnv(), this.escape) }

  argPairs(ins: Instruction): Array<[string, string | undefined]> {
    return splitRawWords(ins.args, this.escape).map((w) => {
      const i = w.indexOf('=')
      if (i === 0) throw parseError(ins.line, 'ARG names can not be blank')
      return i < 0 ? [w, undefined] : [w.slice(0, i), w.slice(i + 1)]
    })
  }

  stepHeader(original: string): void {
    if (this.signal.aborted) throw this.signal.reason
    const ctx = stageOutput.getStore()!
    ctx.step++
    this.out(`Step ${ctx.step}/${this.total} : ${original}\n`)
  }

  /** Output of the running stage (held back while an earlier stage still prints). */
  out(s: string): void {
    const ctx = stageOutput.getStore()
    if (!ctx || ctx.sink.live) this.rawOut(s)
    else ctx.sink.buf.push(s)
  }

  async buildStage(s: Stage, stageRef: (ref: string) => Stage | undefined): Promise<Digest> {
    this.stepHeader(s.from.original)
    const st: StageState = { config: {}, args: new Map(), shell: DEFAULT_SHELL }
    const baseName = this.subMeta(s.base)
    if (s.platform) {
      const p = processWord(s.platform, this.metaEnv(), this.escape)
      if (p !== 'linux' && !p.startsWith(`linux/${this.deps.images.deps.platform.architecture}`)) throw notImplemented('ERR_BUILD_PLATFORM', `FROM --platform=${p} is not supported by this berthd (only the host's platform)`)
    }
    const dep = stageRef(baseName)
    if (baseName.toLowerCase() === 'scratch') {
      st.imageId = undefined
      st.config = { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] }
      this.out(' ---> \n')
    } else {
      let img
      if (dep) img = this.deps.images.store.get(await this.stagePromises.get(dep.index)!)!
      else {
        try {
          img = this.deps.images.resolve(baseName)
        } catch (err) {
          if (err instanceof EngineError && err.kind === 'NotFound') throw notFound('ERR_BUILD_BASE', `pull access denied for ${baseName}: the image is not here and this berthd cannot pull during a build; load or pull it first`)
          throw err
        }
      }
      st.imageId = img.record.id
      st.config = structuredClone(img.config.config ?? {})
      if (st.config.Shell?.length) st.shell = st.config.Shell
      this.out(` ---> ${shortId(img.record.id)}\n`)
      const triggers = st.config.OnBuild ?? []
      if (triggers.length) {
        this.out(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}\n`)
        st.config.OnBuild = null
        for (const t of triggers) {
          for (const ins of parseDockerfile(t).instructions) await this.dispatch(st, ins, stageRef, true)
        }
      }
    }
    for (const ins of s.instructions) {
      this.stepHeader(ins.original)
      const t0 = performance.now()
      await this.dispatch(st, ins, stageRef, false)
      this.stepTimes.push(`${ins.cmd.toUpperCase()} ${Math.round(performance.now() - t0)}`)
    }
    if (!st.imageId) throw invalid('ERR_BUILD_EMPTY', 'No image was generated. Is your Dockerfile empty?')
    return st.imageId
  }

  /** The variables substitution sees: the stage's ENV over its declared ARGs. */
  env(st: StageState): Map<string, string> {
    const m = new Map<string, string>()
    for (const [k, v] of st.args) if (v !== undefined) m.set(k, v)
    for (const [k, v] of envMap(st.config.Env ?? [])) m.set(k, v)
    return m
  }

  word(st: StageState, s: string): string { return processWord(s, this.env(st), this.escape) }

  /** Declared ARGs with values not overridden by ENV: what RUN sees and the cache key holds. */
  runArgs(st: StageState): string[] {
    const envKeys = new Set(envMap(st.config.Env ?? []).keys())
    const out: string[] = []
    for (const [k, v] of [...st.args].sort(([a], [b]) => (a < b ? -1 : 1))) if (v !== undefined && !envKeys.has(k)) out.push(`${k}=${v}`)
    return out
  }

  async dispatch(st: StageState, ins: Instruction, stageRef: (ref: string) => Stage | undefined, trigger: boolean): Promise<void> {
    const c = st.config
    const meta = (text: string) => this.metaStep(st, text)
    switch (ins.cmd) {
      case 'env': {
        const env = envMap(c.Env ?? [])
        const parts: string[] = []
        // Every pair is substituted with the variables as they were before the instruction
        // (`ENV abc=bye def=$abc` gives def the old abc), as Docker does.
        const before = this.env(st)
        for (const [k, v] of parseNameVal(ins.args, 'env', ins.line, this.escape)) {
          const key = processWord(k, before, this.escape)
          const val = processWord(v, before, this.escape)
          env.set(key, val) // an existing variable keeps its place
          parts.push(`${key}=${val}`)
        }
        c.Env = [...env].map(([a, b]) => `${a}=${b}`)
        return meta(`ENV ${parts.join(' ')}`)
      }
      case 'label': {
        const labels = { ...(c.Labels ?? {}) }
        const parts: string[] = []
        for (const [k, v] of parseNameVal(ins.args, 'label', ins.line, this.escape)) {
          const key = this.word(st, k)
          const val = this.word(st, v)
          labels[key] = val
          parts.push(`${key}=${val}`)
        }
        c.Labels = labels
        return meta(`LABEL ${parts.join(' ')}`)
      }
      case 'maintainer': {
        const m = ins.args.trim()
        return this.metaStep(st, `MAINTAINER ${m}`, m)
      }
      case 'expose': {
        const ports = processWords(ins.args, this.env(st), this.escape)
        const ep = { ...(c.ExposedPorts ?? {}) }
        const list: string[] = []
        for (const p of ports) {
          const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(p)
          if (!m) throw invalid('ERR_BUILD_EXPOSE', `invalid containerPort: ${p}`)
          const proto = (m[3] ?? 'tcp').toLowerCase()
          for (let n = Number(m[1]); n <= Number(m[2] ?? m[1]); n++) { ep[`${n}/${proto}`] = {}; list.push(`${n}/${proto}`) }
        }
        c.ExposedPorts = ep
        return meta(`EXPOSE ${list.join(' ')}`)
      }
      case 'user': c.User = this.word(st, ins.args.trim()); return meta(`USER ${c.User}`)
      case 'stopsignal': c.StopSignal = this.word(st, ins.args.trim()); return meta(`STOPSIGNAL ${c.StopSignal}`)
      case 'volume': {
        const vols = ins.json ?? processWords(ins.args, this.env(st), this.escape)
        const v = { ...(c.Volumes ?? {}) }
        for (const p of vols) { if (!p.trim()) throw invalid('ERR_BUILD_VOLUME', 'VOLUME specified can not be an empty string'); v[p] = {} }
        c.Volumes = v
        return meta(`VOLUME [${vols.join(' ')}]`)
      }
      case 'cmd': case 'entrypoint': {
        const argv = ins.json ?? (ins.args.trim() ? [...st.shell, ins.args.trim()] : [])
        if (ins.cmd === 'cmd') c.Cmd = argv
        else {
          c.Entrypoint = argv
          // An ENTRYPOINT resets an inherited CMD, unless the stage set one itself.
          if (!this.stageSetCmd.has(st)) c.Cmd = null
        }
        if (ins.cmd === 'cmd') this.stageSetCmd.add(st)
        if (!ins.json) c.ArgsEscaped = true; else delete c.ArgsEscaped
        return meta(`${ins.cmd.toUpperCase()} [${argv.map((a) => JSON.stringify(a)).join(' ')}]`)
      }
      case 'shell': st.shell = ins.json!; c.Shell = ins.json!; return meta(`SHELL [${ins.json!.map((a) => JSON.stringify(a)).join(' ')}]`)
      case 'onbuild': {
        const expr = ins.args.trim()
        const i = expr.search(/\s/)
        const trig = i < 0 ? expr.toUpperCase() : expr.slice(0, i).toUpperCase() + expr.slice(i)
        c.OnBuild = [...(c.OnBuild ?? []), trig]
        return meta(`ONBUILD ${trig}`)
      }
      case 'healthcheck': {
        const w = ins.args.trim()
        if (/^none$/i.test(w)) c.Healthcheck = { Test: ['NONE'] }
        else {
          const rest = w.replace(/^cmd\s+/i, '')
          let test: string[]
          try {
            const j: unknown = rest.startsWith('[') ? JSON.parse(rest) : undefined
            test = Array.isArray(j) ? ['CMD', ...j.map(String)] : ['CMD-SHELL', rest]
          } catch { test = ['CMD-SHELL', rest] }
          const h: NonNullable<ContainerConfigFields['Healthcheck']> = { Test: test }
          const dur = (name: string) => { const v = flagValue(ins, name); return v === undefined ? undefined : parseDuration(v, name) }
          const iv = dur('interval'); if (iv !== undefined) h.Interval = iv
          const to = dur('timeout'); if (to !== undefined) h.Timeout = to
          const sp = dur('start-period'); if (sp !== undefined) h.StartPeriod = sp
          const si = dur('start-interval'); if (si !== undefined) h.StartInterval = si
          const r = flagValue(ins, 'retries')
          if (r !== undefined) { const n = Number(r); if (!Number.isInteger(n) || n < 0) throw invalid('ERR_BUILD_HEALTHCHECK', '--retries must be at least 0'); h.Retries = n }
          c.Healthcheck = h
        }
        return meta(`HEALTHCHECK ${JSON.stringify(c.Healthcheck)}`)
      }
      case 'arg': {
        const parts: string[] = []
        for (const [k, v] of this.argPairs(ins)) {
          let val: string | undefined
          const given = this.opts.buildArgs[k]
          if (given !== undefined && given !== null) val = given
          else if (v !== undefined) val = this.word(st, v)
          else if (this.metaArgs.has(k)) val = this.metaEnv().get(k)
          st.args.set(k, val)
          this.usedArgs.add(k)
          parts.push(val === undefined ? k : `${k}=${val}`)
        }
        return meta(`ARG ${parts.join(' ')}`)
      }
      case 'workdir': {
        const w = this.word(st, ins.args.trim())
        c.WorkingDir = posix.normalize(w.startsWith('/') ? w : posix.join(c.WorkingDir || '/', w))
        return this.directLayerStep(st, `#(nop) WORKDIR ${c.WorkingDir}`, '', async (root) => {
          const dir = await followInScope(root, c.WorkingDir!)
          return { entries: await missingDirs(root, dir, 0, 0) }
        })
      }
      case 'run': return this.runStep(st, ins)
      case 'copy': case 'add': return this.copyStep(st, ins, stageRef)
      case 'from': throw parseError(ins.line, 'FROM isn\'t allowed as an ONBUILD trigger')
    }
    void trigger
  }

  stageSetCmd = new WeakSet<StageState>()

  /** A config-only image over the stage's current image (cached like every step). */
  async metaStep(st: StageState, text: string, author?: string): Promise<void> {
    const createdBy = `${st.shell === DEFAULT_SHELL ? '/bin/sh -c' : st.shell.join(' ')} #(nop)  ${text}`
    if (author !== undefined) st.author = author
    const key = JSON.stringify({ createdBy, config: st.config, author: st.author })
    if (await this.tryCache(st, key, '')) return
    const id = await this.deriveImage(st, undefined, createdBy, true)
    await this.cache.put(st.imageId ?? 'scratch', key, '', id)
    st.imageId = id
    this.out(` ---> ${shortId(id)}\n`)
  }

  #sources: Set<string> | undefined | null = null
  /**
   * With `--cache-from`, as the classic builder does, only those images (and their parents) are
   * cache sources, not the whole local cache. Undefined: every cached step counts.
   */
  cacheSources(): Set<string> | undefined {
    if (this.#sources !== null) return this.#sources
    if (this.opts.cacheFrom.length === 0) return (this.#sources = undefined)
    const set = new Set<string>()
    for (const ref of this.opts.cacheFrom) {
      let img
      try { img = this.deps.images.resolve(ref) } catch (err) {
        if (err instanceof EngineError && err.kind === 'NotFound') { this.rawOut(`Note: --cache-from ${ref}: no such image here; ignored\n`); continue }
        throw err
      }
      for (let id: string | undefined = img.record.id; id && !set.has(id); id = this.deps.images.store.get(id)?.record.parent) set.add(id)
    }
    return (this.#sources = set)
  }

  async tryCache(st: StageState, key: string, contentHash: string): Promise<boolean> {
    const parent = st.imageId ?? 'scratch'
    if (this.opts.noCache) return false
    const hit = await this.cache.get(parent, key, contentHash)
    const allowed = this.cacheSources()
    if (hit && this.deps.images.store.get(hit) && (!allowed || allowed.has(hit))) {
      this.out(' ---> Using cache\n')
      this.out(` ---> ${shortId(hit)}\n`)
      st.imageId = hit
      const img = this.deps.images.store.get(hit)!
      st.config = structuredClone(img.config.config ?? {})
      if (img.config.author) st.author = img.config.author
      return true
    }
    if (this.opts.explainCache) {
      const why = hit && allowed && !allowed.has(hit) && this.deps.images.store.get(hit) ? 'the cached image is not from the --cache-from images' : await this.cache.explain(parent, key, contentHash, (id) => !!this.deps.images.store.get(id))
      this.out(` ---> Cache miss: ${why}\n`)
    }
    return false
  }

  /**
   * Store an image whose config is the stage's config over `from` (the stage's current image, or
   * a committed one whose layers it keeps), with a history entry `createdBy`.
   */
  async deriveImage(st: StageState, from: Digest | undefined, createdBy: string, empty: boolean): Promise<Digest> {
    const { deps } = this.deps.images
    const baseId = from ?? st.imageId
    const base = baseId ? deps.store.get(baseId) : undefined
    if (!base && !empty) throw invalid('ERR_BUILD', 'no base image')
    const pc: ImageConfigFile = base ? base.config : { architecture: deps.platform.architecture, os: deps.platform.os, rootfs: { type: 'layers', diff_ids: [] }, history: [] }
    const created = new Date().toISOString()
    const history = [...(pc.history ?? [])]
    if (from) history.pop()
    history.push({ created, created_by: createdBy, ...(empty ? { empty_layer: true } : {}) })
    const config: ImageConfigFile = {
      ...pc,
      created,
      ...(st.author ? { author: st.author } : {}),
      config: structuredClone(st.config),
      container_config: { ...structuredClone(st.config), Cmd: [...st.shell, createdBy.replace(/^.*? #\(nop\) /, '#(nop) ')] },
      history,
    }
    delete config.container
    const bytes = Buffer.from(JSON.stringify(config))
    const id = sha256(bytes)
    const lease = deps.content.lease()
    try {
      await deps.content.put(bytes, id, lease)
      const rec: ImageRecord = base
        ? { ...base.record, id, parent: (from ? base.record.parent : base.record.id) ?? base.record.id, loadedAt: created }
        : { id, layers: [], blobs: [], size: 0, loadedAt: created }
      delete rec.lastTagTime
      if (!base) delete rec.parent
      await deps.store.put(rec, config)
    } finally { lease.release() }
    return id
  }

  /** Create a build container over the stage's image (not started). */
  async createContainer(st: StageState, cmd: string[], env: string[]): Promise<string> {
    if (!st.imageId) throw notImplemented('ERR_BUILD_SCRATCH', 'RUN, COPY, ADD and WORKDIR in a FROM scratch stage before any layer are not supported by this berthd yet')
    const c = st.config
    // The engine's own defaults (create.ts), not the API's wire parser.
    const config = newContainerConfig({ image: st.imageId, cmd, entrypoint: [], env, workingDir: c.WorkingDir ?? '', user: c.User ?? '', labels: c.Labels ?? {}, attachStdout: true, attachStderr: true })
    const hostConfig = newHostConfig({
      ...(this.opts.networkMode ? { networkMode: this.opts.networkMode } : {}),
      ...(this.opts.memory ? { memory: this.opts.memory } : {}),
      ...(this.opts.memorySwap ? { memorySwap: this.opts.memorySwap } : {}),
      ...(this.opts.shmSize ? { shmSize: this.opts.shmSize } : {}),
      ...(this.opts.extraHosts.length ? { extraHosts: [...this.opts.extraHosts] } : {}),
    })
    const { id } = await this.deps.containers.create({ config, hostConfig })
    return id
  }

  async removeContainer(id: string): Promise<void> {
    await this.deps.containers.remove(id, { force: true }).catch((e) => this.deps.log(`build: remove ${id}: ${String(e)}`))
  }

  /** Commit a build container as the stage's next image, with Docker's history line. */
  async commitStep(st: StageState, ctr: string, createdBy: string): Promise<Digest> {
    const tmp = await commitContainer(this.deps.containers, this.deps.images, ctr, { pause: false, config: st.config })
    const img = this.deps.images.store.get(tmp)!
    const empty = img.config.rootfs?.diff_ids.length === this.deps.images.store.get(st.imageId!)!.config.rootfs?.diff_ids.length
    const id = await this.deriveImage(st, tmp, createdBy, empty)
    if (id !== tmp && this.deps.images.store.refsOf(tmp).length === 0) await this.deps.images.store.deleteRecord(tmp)
    return id
  }

  async runStep(st: StageState, ins: Instruction): Promise<void> {
    requireNoBuildkitFlags(ins, [])
    let argv: string[]
    if (ins.json) argv = ins.json
    else {
      let script = ins.args.trim()
      if (ins.heredocs.length) {
        const only = ins.heredocs.length === 1 && /^<<-?\s*["']?[A-Za-z_][A-Za-z0-9_]*["']?$/.test(script)
        if (only && ins.heredocs[0]!.content.startsWith('#!')) throw notImplemented('ERR_BUILD_HEREDOC', `Dockerfile line ${ins.line}: a RUN heredoc with a #! interpreter line is not supported by this berthd (write the script with COPY and run it)`)
        script = only ? ins.heredocs[0]!.content : `${script}\n${ins.heredocs.map((h) => `${h.content}${h.name}\n`).join('')}`
      }
      argv = [...st.shell, script]
    }
    const args = this.runArgs(st)
    for (const a of args) this.usedArgs.add(a.split('=')[0]!)
    const saved = args.length ? [`|${args.length}`, ...args, ...argv] : argv
    const createdBy = saved.join(' ')
    const key = JSON.stringify({ run: saved, config: st.config })
    if (await this.tryCache(st, key, '')) return
    // Docker's predefined proxy ARGs reach RUN without a declaration, and stay out of the history.
    const declared = new Set(args.map((a) => a.split('=')[0]))
    const proxies = Object.entries(this.opts.buildArgs).filter(([k, v]) => BUILTIN_ARGS.has(k) && v !== null && !declared.has(k)).map(([k, v]) => `${k}=${v}`)
    const env = [...(st.config.Env ?? []), ...args, ...proxies]
    const ctr = await this.createContainer(st, argv, env)
    this.out(` ---> Running in ${ctr.slice(0, 12)}\n`)
    let ok = false
    try {
      await this.deps.containers.start(ctr, { ...(this.opts.signal ? { signal: this.opts.signal } : {}) })
      const rec = this.deps.containers.resolve(ctr)
      const reading = (async () => {
        for await (const r of readLogs(rec.logPath, { stdout: true, stderr: true, follow: true, ...(this.opts.signal ? { signal: this.opts.signal } : {}), stopped: () => !['running', 'paused', 'restarting'].includes(this.deps.containers.store.get(ctr)?.state.status ?? '') })) {
          // The classic builder wraps each write of stderr in red (streamformatter's stderr writer).
          const text = r.data.toString('utf8')
          this.out(r.stream === 'stderr' ? `\x1b[91m${text}\x1b[0m` : text)
        }
      })().catch((e: unknown) => { if (!this.signal.aborted) this.deps.log(`build: log of ${ctr}: ${String(e)}`) })
      // An already aborted signal must stop the wait too (a listener added after abort never fires).
      const res = await abortable(this.deps.containers.wait(ctr, 'not-running'), this.signal)
      await reading
      if (res.statusCode !== 0) throw new BuildStepError(`The command '${argv.join(' ')}' returned a non-zero code: ${res.statusCode}`, res.statusCode)
      const id = await this.commitStep(st, ctr, createdBy)
      await this.cache.put(st.imageId!, key, '', id)
      ok = true
      if (this.opts.rm || this.opts.forceRm) this.out(`Removing intermediate container ${ctr.slice(0, 12)}\n`)
      st.imageId = id
      this.out(` ---> ${shortId(id)}\n`)
    } finally {
      if (this.opts.forceRm || this.opts.rm || !ok) await this.removeContainer(ctr)
    }
  }

  /** A step that writes into a created container's rootfs (COPY, ADD, WORKDIR) then commits. */
  async layerStep(st: StageState, nopText: string, contentHash: string, write: (root: string, ctr: string) => Promise<{ entries: TarEntry[]; after?: (ctr: string) => Promise<void> }>): Promise<void> {
    const createdBy = `${st.shell.join(' ')} ${nopText}`
    const key = JSON.stringify({ step: contentHash ? nopText.replace(contentHash, "<content>") : nopText, config: st.config })
    if (await this.tryCache(st, key, contentHash)) return
    const ctr = await this.createContainer(st, [...st.shell, nopText], st.config.Env ?? [])
    try {
      await this.deps.containers.withRootfs(ctr, async (root) => {
        const { entries, after } = await write(root, ctr)
        if (entries.length) await extractToContainer(this.deps.containers, ctr, '/', packEntries(entries), {})
        if (after) await after(ctr)
      })
      const id = await this.commitStep(st, ctr, createdBy)
      await this.cache.put(st.imageId!, key, contentHash, id)
      st.imageId = id
      this.out(` ---> ${shortId(id)}\n`)
    } finally {
      await this.removeContainer(ctr)
    }
  }

  async copyStep(st: StageState, ins: Instruction, stageRef: (ref: string) => Stage | undefined): Promise<void> {
    requireNoBuildkitFlags(ins, ['from', 'chown', 'chmod', 'link'])
    const isAdd = ins.cmd === 'add'
    const up = ins.cmd.toUpperCase()
    const env = this.env(st)
    const words = ins.json ?? processWords(ins.args, env, this.escape)
    if (words.length < 2 && ins.heredocs.length === 0) throw parseError(ins.line, `${up} requires at least two arguments, but only one was provided. Destination could not be determined.`)
    const destGiven = words.at(-1)!
    let destRaw = destGiven
    const srcs = words.slice(0, -1)
    if (!destRaw.startsWith('/')) {
      destRaw = posix.join(st.config.WorkingDir || '/', destRaw)
      if ((destGiven.endsWith('/') || destGiven === '.') && !destRaw.endsWith('/')) destRaw += '/'
    }
    // Flags are substituted too (`--chown=$UID:$GID`).
    const chownRaw = flagValue(ins, 'chown')
    const chown = chownRaw === undefined ? undefined : this.word(st, chownRaw)
    const chmodRaw = flagValue(ins, 'chmod')
    const chmodS = chmodRaw === undefined ? undefined : this.word(st, chmodRaw)
    let chmodV: number | undefined
    if (chmodS !== undefined) {
      if (!/^[0-7]{3,4}$/.test(chmodS)) throw invalid('ERR_BUILD_CHMOD', `invalid chmod parameter: ${chmodS}`)
      chmodV = parseInt(chmodS, 8)
    }
    // Where the sources come from: the context, another stage's image or an image.
    const fromFlag = ins.cmd === 'copy' ? flagValue(ins, 'from') : undefined
    let srcRoot = this.ctxDir
    let ignore = this.ignore
    if (fromFlag) {
      const ref = processWord(fromFlag, this.metaEnv(), this.escape)
      const s = stageRef(ref)
      const imageId = s ? await this.stagePromises.get(s.index) : this.deps.images.resolve(ref).record.id
      if (!imageId) throw invalid('ERR_BUILD_STAGE', `invalid from flag value ${ref}`)
      srcRoot = await this.imageRoot(imageId)
      ignore = []
    }
    // ADD may unpack local archives (read by path): the context goes to disk first.
    if (isAdd && srcRoot === this.ctxDir) await this.ctxOnDisk()
    // Context sources come from the in-memory index while there is one.
    const mem = srcRoot === this.ctxDir ? this.mem : undefined
    const sfs: SourceFs = mem ?? diskFs
    // Collect the files, hashing content and metadata.
    const hash = createHash('sha256')
    const collected: Array<{ rel: string; abs: string; st: import('node:fs').Stats; isArchive?: boolean; url?: string; data?: Buffer }> = []
    for (const h of ins.heredocs) {
      const data = Buffer.from(h.expand ? processWord(h.content.replace(/["'\\]/g, (m) => `\\${m}`), env, '\\') : h.content)
      collected.push({ rel: h.name, abs: '', st: fakeStat(data.length), data })
      hash.update(`heredoc ${h.name} ${sha256(data)}\n`)
    }
    for (const src of srcs) {
      if (ins.heredocs.some((h) => src === `<<${h.name}` || src === `<<-${h.name}`)) continue
      if (isAdd && /^https?:\/\//.test(src)) {
        const res = await fetch(src, { ...(this.opts.signal ? { signal: this.opts.signal } : {}) })
        if (!res.ok || !res.body) throw invalid('ERR_BUILD_ADD_URL', `failed to GET ${src} with status ${res.status} ${res.statusText}`)
        // Downloaded to a file beside the context (not into memory), hashed as it comes.
        const file = join(this.ctxDir, '..', `${posix.basename(this.ctxDir)}-url-${collected.length}`)
        this.downloads.push(file)
        const fh = await open(file, 'wx', 0o600)
        const hh = createHash('sha256')
        let size = 0
        try {
          for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) { hh.update(chunk); size += chunk.length; await fh.write(chunk) }
        } finally { await fh.close() }
        const name = posix.basename(new URL(src).pathname) || 'index.html'
        const stt = fakeStat(size, 0o600)
        const lm = res.headers.get('last-modified')
        if (lm && !Number.isNaN(Date.parse(lm))) stt.mtime = new Date(lm)
        const digest = hh.digest('hex')
        this.hashes.set(file, digest)
        collected.push({ rel: name, abs: file, st: stt, url: src })
        hash.update(`url ${src} ${digest}\n`)
        continue
      }
      if (/^[a-z]+:\/\//.test(src) || src.startsWith('git@')) throw notImplemented('ERR_BUILD_ADD_REMOTE', `${up} of ${src} is not supported by this berthd (only http and https URLs with ADD)`)
      const matches = await globSources(srcRoot, src, ignore, sfs)
      if (matches.length === 0) {
        if (/[*?[]/.test(src)) throw invalid('ERR_BUILD_COPY', `${up} failed: no source files were specified`)
        throw invalid('ERR_BUILD_COPY', `${up} failed: file not found in build context or excluded by .dockerignore: stat ${src}: file does not exist`)
      }
      for (const m of matches) {
        // An in-memory context has no symlinks to follow.
        const real = mem ? posix.normalize('/' + m) : await followInScope(srcRoot, m)
        const s = await (mem ? mem.lstat(srcRoot + real) : stat(srcRoot + real)).catch(() => undefined)
        if (!s) throw invalid('ERR_BUILD_COPY', `${up} failed: file not found in build context or excluded by .dockerignore: stat ${src}: file does not exist`)
        const isArchive = isAdd && s.isFile() && await looksLikeArchive(srcRoot + real)
        collected.push({ rel: m, abs: srcRoot + real, st: s, isArchive })
      }
    }
    const destIsDir = destRaw.endsWith('/') || collected.length > 1 || srcs.some((s) => /[*?[]/.test(s))
    if (collected.length > 1 && !destRaw.endsWith('/')) throw invalid('ERR_BUILD_COPY', `When using ${up} with more than one source file, the destination must be a directory and end with a /`)
    // Walk directories now, so the hash covers their content.
    const files: Array<{ dest: string; abs: string; st: import('node:fs').Stats; data?: Buffer; archive?: boolean; top?: boolean }> = []
    const destClean = posix.normalize(destRaw)
    for (const c of collected) {
      if (c.st.isDirectory()) {
        await walkDir(c.abs, c.rel, ignore, srcRoot === this.ctxDir, async (rel, abs, s) => {
          files.push({ dest: posix.join(destClean, rel), abs, st: s })
          hash.update(`${rel} ${s.mode} ${s.size} ${s.isFile() ? await this.fileHash(abs) : s.isSymbolicLink() ? await readlink(abs) : ''}\n`)
        }, '', sfs)
        // The destination of a directory's content is made 0755, as Docker makes it, whatever the
        // source directory's own mode (the context root is a private 0700 directory here).
        files.push({ dest: destClean, abs: c.abs, st: c.st, top: true })
      } else {
        files.push({ dest: destIsDir ? posix.join(destClean, posix.basename(c.rel)) : destClean, abs: c.abs, st: c.st, ...(c.data ? { data: c.data } : {}), ...(c.isArchive ? { archive: true } : {}) })
        if (!c.data) hash.update(`${c.rel} ${c.st.mode} ${c.st.size} ${await this.fileHash(c.abs)}\n`)
      }
    }
    hash.update(`chown=${chown ?? ''} chmod=${chmodS ?? ''} dest=${destRaw}\n`)
    const contentHash = hash.digest('hex')
    const nop = `#(nop) ${up} ${ins.heredocs.length ? 'heredoc' : collected.length === 1 && !collected[0]!.st.isDirectory() ? 'file' : 'dir'}:${contentHash} in ${destGiven} `
    const plan = async (root: string) => {
      let uid = 0, gid = 0
      if (chown) { const u = await resolveUser(root, chown); uid = u.uid; gid = u.gid }
      const entries: TarEntry[] = []
      const archives: Array<{ dest: string; abs: string }> = []
      // A single file onto an existing directory goes inside it.
      if (!destIsDir && files.length === 1 && !files[0]!.st.isDirectory()) {
        const real = await followInScope(root, destClean)
        const s = await lstat(root + real).catch(() => undefined)
        if (s?.isDirectory()) files[0]!.dest = posix.join(destClean, posix.basename(collected[0]!.rel))
      }
      const made = new Set<string>()
      const looked = new Set<string>()
      const realDirs = new Map<string, string>()
      const follow = async (p: string) => {
        let r = realDirs.get(p)
        if (r === undefined) { r = await followInScope(root, p); realDirs.set(p, r) }
        return r
      }
      for (const f of files.sort((a, b) => (a.dest < b.dest ? -1 : 1))) {
        if (f.archive) {
          for (const d of await missingDirs(root, await follow(destClean), uid, gid)) if (!made.has(d.name)) { made.add(d.name); entries.push(d) }
          archives.push({ dest: destClean, abs: f.abs })
          continue
        }
        if (f.dest === '/') continue
        const parentReal = await follow(posix.dirname(f.dest))
        // Nothing is written while planning: one look per parent directory is enough.
        if (!looked.has(parentReal)) {
          looked.add(parentReal)
          for (const d of await missingDirs(root, parentReal, uid, gid)) if (!made.has(d.name)) { made.add(d.name); entries.push(d) }
        }
        // Entries are named by their followed parent, so a symlinked directory is written through.
        const name = posix.join(parentReal, posix.basename(f.dest)).replace(/^\/+/, '')
        const mode = chmodV ?? (f.top ? 0o755 : f.st.mode & 0o7777)
        if (f.st.isDirectory()) {
          const exists = await lstat(root + await follow(f.dest)).then((s) => s.isDirectory(), () => false)
          if (!exists && !made.has(name)) { made.add(name); entries.push({ name, type: 'directory', mode, uid, gid }) }
        } else if (f.st.isSymbolicLink()) entries.push({ name, type: 'symlink', linkname: await readlink(f.abs), mode: 0o777, uid, gid })
        else {
          const data = f.data ?? mem?.data(f.abs)
          entries.push({ name, type: 'file', mode, uid, gid, size: data ? data.length : f.st.size, mtime: f.st.mtime, ...(data ? { data } : { path: f.abs }) })
        }
      }
      return { entries, archives }
    }
    if (!files.some((f) => f.archive)) {
      // Plain files: the layer is written directly, no container needed.
      return this.directLayerStep(st, nop, contentHash, plan)
    }
    await this.layerStep(st, nop, contentHash, async (root) => {
      const { entries, archives } = await plan(root)
      return {
        entries,
        after: async (ctr: string) => {
          for (const a of archives) await extractToContainer(this.deps.containers, ctr, a.dest, decompressed(createReadStream(a.abs) as AsyncIterable<Buffer>), {})
        },
      }
    })
  }

  /**
   * COPY/ADD of plain files: the entries become a layer tar at once (stored as a blob and unpacked
   * by the layer store), over the parent image. Existing directories on the way are written with
   * their own metadata, so the layer changes nothing but the copied files.
   */
  async directLayerStep(st: StageState, nopText: string, contentHash: string, plan: (root: string) => Promise<{ entries: TarEntry[] }>): Promise<void> {
    const createdBy = `${st.shell.join(' ')} ${nopText}`
    const key = JSON.stringify({ step: contentHash ? nopText.replace(contentHash, "<content>") : nopText, config: st.config })
    if (await this.tryCache(st, key, contentHash)) return
    const { deps } = this.deps.images
    let root: string
    let emptyRoot: string | undefined
    if (st.imageId && (deps.store.get(st.imageId)?.record.layers.length ?? 0) > 0) root = await this.imageRoot(st.imageId)
    else root = emptyRoot = await mkdtemp(join(this.ctxDir, '..', 'empty-'))
    try {
      const { entries } = await plan(root)
      if (entries.length === 0) {
        // Nothing to write (WORKDIR of an existing directory): a config-only image.
        const id = await this.deriveImage(st, undefined, createdBy, true)
        await this.cache.put(st.imageId ?? 'scratch', key, contentHash, id)
        st.imageId = id
        this.out(` ---> ${shortId(id)}\n`)
        return
      }
      // Existing parents of every entry, with their metadata.
      const names = new Set(entries.map((e) => e.name))
      const parents: TarEntry[] = []
      for (const e of entries) {
        const parts = e.name.split('/').slice(0, -1)
        for (let i = 1; i <= parts.length; i++) {
          const d = parts.slice(0, i).join('/')
          if (names.has(d)) continue
          names.add(d)
          const s = await lstat(`${root}/${d}`)
          parents.push({ name: d, type: 'directory', mode: s.mode & 0o7777, uid: s.uid, gid: s.gid, mtime: s.mtime })
        }
      }
      const all = [...parents, ...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      const base = st.imageId ? deps.store.get(st.imageId) : undefined
      const lease = deps.content.lease()
      const writer = deps.content.writer(lease)
      const ex = await deps.layers.extractor()
      let done = false
      try {
        // The packer's chunks (a header, the data, the padding of each entry) go out gathered
        // into writes of about 1 MiB, the blob and the layer side by side.
        let batch: Buffer[] = []
        let batched = 0
        const flush = async () => {
          if (!batched) return
          const buf = batch.length === 1 ? batch[0]! : Buffer.concat(batch, batched)
          batch = []
          batched = 0
          await Promise.all([writer.write(buf), ex.write(buf)])
        }
        for await (const chunk of packEntries(all)) {
          if (this.opts.signal?.aborted) throw this.opts.signal.reason
          batch.push(chunk)
          batched += chunk.length
          if (batched >= 1 << 20) await flush()
        }
        await flush()
        const staged = await ex.finish()
        const blob = await writer.commit()
        const parentTop = base?.record.layers.at(-1)
        const chain = parentTop ? chainIds([parentTop, staged.diffId])[1]! : staged.diffId
        const release = deps.store.lease([...(base?.record.layers ?? []), chain])
        try {
          const layer = await deps.layers.commit(staged, parentTop)
          done = true
          const created = new Date().toISOString()
          const pc: ImageConfigFile = base ? base.config : { architecture: deps.platform.architecture, os: deps.platform.os, rootfs: { type: 'layers', diff_ids: [] }, history: [] }
          const config: ImageConfigFile = {
            ...pc,
            created,
            ...(st.author ? { author: st.author } : {}),
            config: structuredClone(st.config),
            container_config: { ...structuredClone(st.config), Cmd: [...st.shell, nopText] },
            rootfs: { type: 'layers', diff_ids: [...(pc.rootfs?.diff_ids ?? []), staged.diffId] },
            history: [...(pc.history ?? []), { created, created_by: createdBy }],
          }
          delete config.container
          const bytes = Buffer.from(JSON.stringify(config))
          const id = sha256(bytes)
          await deps.content.put(bytes, id, lease)
          const rec: ImageRecord = {
            id, layers: [...(base?.record.layers ?? []), layer.chainId], blobs: [...(base?.record.blobs ?? []), { digest: blob.digest, size: blob.size, mediaType: MEDIA_TYPE_LAYER }],
            ...(base ? { parent: base.record.id } : {}), size: (base?.record.size ?? 0) + layer.size, loadedAt: created,
          }
          await deps.store.put(rec, config)
          await this.cache.put(st.imageId ?? 'scratch', key, contentHash, id)
          st.imageId = id
          this.out(` ---> ${shortId(id)}\n`)
        } finally { release() }
      } finally {
        if (!done) { await writer.abort().catch(() => undefined); await ex.abort().catch(() => undefined) }
        lease.release()
      }
    } finally {
      if (emptyRoot) await rm(emptyRoot, { recursive: true, force: true })
    }
  }

  /** A mounted root filesystem of an image (a created container's), for COPY --from. */
  async imageRoot(imageId: Digest): Promise<string> {
    let ctr = this.readers.get(imageId)
    if (!ctr) {
      ctr = (await this.deps.containers.create({ config: newContainerConfig({ image: imageId, cmd: ['#(nop) COPY --from'], entrypoint: [] }), hostConfig: newHostConfig() })).id
      this.readers.set(imageId, ctr)
    }
    // The rootfs stays mounted while the build holds it: withRootfs is entered and left open
    // until cleanup (released when the container is removed).
    const known = this.roots.get(imageId)
    if (known) return known
    const root = await new Promise<string>((resolve, reject) => {
      this.holding.push(this.deps.containers.withRootfs(ctr, (root) => {
        resolve(root)
        return new Promise<void>((done) => this.releases.push(done))
      }).catch(reject))
    })
    this.roots.set(imageId, root)
    return root
  }

  releases: Array<() => void> = []
  holding: Array<Promise<unknown>> = []
  roots = new Map<string, string>()
}

/** `p`, or a rejection as soon as `signal` is (or already was) aborted. */
function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) { p.catch(() => undefined); return Promise.reject(signal.reason) }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    p.then((v) => { signal.removeEventListener('abort', onAbort); resolve(v) }, (e: unknown) => { signal.removeEventListener('abort', onAbort); reject(e) })
  })
}

/** Flags the parser knows but only BuildKit implements: refused, as the classic builder does. */
function requireNoBuildkitFlags(ins: Instruction, supported: string[]): void {
  const f = ins.flags.find((x) => !supported.includes(x.name))
  if (f) throw invalid('ERR_BUILD_BUILDKIT_FLAG', `the --${f.name} option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled`)
}

const BUILTIN_ARGS = new Set(['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'])

function parseDuration(v: string, name: string): number {
  const m = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)$/.exec(v)
  if (!m) throw invalid('ERR_BUILD_HEALTHCHECK', `invalid argument "${v}" for "--${name}" flag: time: invalid duration "${v}"`)
  const mult: Record<string, number> = { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 }
  return Math.round(Number(m[1]) * mult[m[2]!]!)
}

