/**
 * berth compose: compose v2's commands over src/compose (loader → observe → plan → execute) and
 * the typed client. Also what the docker CLI runs as its `compose` plugin.
 */
import { writeFileSync } from 'node:fs'
import { demuxer } from '../../client/client.js'
import { Docker, isNotFound } from '../../client/sdk.js'
import type { ContainerSummary } from '../../client/types.js'
import { COMPOSE_VERSION, containerName, imageOf, L, serviceHash, toCreateRequest } from '../../compose/convert.js'
import { buildService, createContainer, down, executeUp, planProjectUp, reverseOrder, sleep, type UpOptions } from '../../compose/execute.js'
import { loadProject, type LoadOptions } from '../../compose/loader/load.js'
import { shellSplit } from '../../compose/loader/normalize.js'
import type { ProjectModel } from '../../compose/model.js'
import { listProjects, nameOf, numberOf, observeProject, serviceOf } from '../../compose/observe.js'
import { withDependencies } from '../../compose/plan.js'
import { LogPrefixer, makeReporter, type Reporter } from '../../compose/progress.js'
import { findEngineError } from '../../lib/errors.js'
import { type CliContext, CliExit } from '../context.js'
import { flagHelp, parseFlags, UsageError, type FlagValues } from '../flags.js'
import { SUBCOMMANDS, COMPOSE_FLAGS, type ComposeSub } from '../specs/compose.js'

interface Cmd {
  ctx: CliContext
  g: FlagValues
  f: FlagValues
  args: string[]
  docker: Docker
  reporter: Reporter
  dryRun: boolean
  load(o?: Partial<LoadOptions>): Promise<ProjectModel>
  /** The project name without needing the files when -p is given. */
  projectName(): Promise<string>
}

export async function compose(ctx: CliContext): Promise<number> {
  const [sub, ...rest] = ctx.args
  if (!sub || sub === 'help') { ctx.out.write(help()); return 0 }
  if (sub === 'docker-cli-plugin-metadata') { ctx.out.write(`${JSON.stringify(PLUGIN_METADATA)}\n`); return 0 }
  const spec = SUBCOMMANDS.find((s) => s.name === sub)
  if (!spec) { ctx.err.write(`unknown docker command: "compose ${sub}"\n`); return 1 }
  let parsed
  try {
    parsed = parseFlags(rest, spec.flags, { interspersed: !['run', 'exec'].includes(spec.name) })
  } catch (err) {
    if (err instanceof UsageError) { ctx.err.write(`${err.message}\n`); return 1 }
    throw err
  }
  if (parsed.help) { ctx.out.write(subHelp(spec)); return 0 }
  const a = spec.args
  if (a?.min !== undefined && parsed.args.length < a.min) { ctx.err.write(`"compose ${spec.name}" requires at least ${a.min} argument${a.min > 1 ? 's' : ''}.\n`); return 1 }
  if (a?.exact !== undefined && parsed.args.length !== a.exact) { ctx.err.write(`"compose ${spec.name}" requires exactly ${a.exact} argument${a.exact !== 1 ? 's' : ''}.\n`); return 1 }
  const g = ctx.flags
  const dryRun = !!g['dry-run'] || !!parsed.flags['dry-run']
  const progress = (g.progress as string) === 'plain' || (g.ansi as string) === 'never' ? 'plain' : (g.progress as string) === 'quiet' ? 'quiet' : (g.progress as string) === 'tty' ? 'tty' : 'auto'
  let loaded: ProjectModel | undefined
  const c: Cmd = {
    ctx, g, f: parsed.flags, args: parsed.args, dryRun,
    docker: new Docker(ctx.client()),
    reporter: makeReporter(ctx.err, progress),
    async load(o = {}) {
      if (loaded) return loaded
      loaded = (await loadProject({
        ...(g.file ? { files: g.file as string[] } : {}),
        ...(g['project-name'] ? { projectName: g['project-name'] as string } : {}),
        ...(g['project-directory'] ? { projectDirectory: g['project-directory'] as string } : {}),
        ...(g['env-file'] ? { envFiles: g['env-file'] as string[] } : {}),
        ...(g.profile ? { profiles: g.profile as string[] } : {}),
        ...o,
      })).model
      return loaded
    },
    async projectName() {
      if (g['project-name']) return g['project-name'] as string
      return (await this.load()).name
    },
  }
  try {
    const run = RUNNERS[spec.name]
    if (!run) throw new CliExit(1, `compose ${spec.name} is not implemented by berth compose yet`)
    return (await run(c)) ?? 0
  } catch (err) {
    c.reporter.close()
    const e = findEngineError(err)
    if (e) throw new CliExit(e.kind === 'NotFound' && e.code === 'ERR_COMPOSE_NO_FILE' ? 14 : 1, e.message)
    throw err
  } finally {
    c.reporter.close()
  }
}

const PLUGIN_METADATA = { SchemaVersion: '0.1.0', Vendor: 'Berth', Version: `v${COMPOSE_VERSION}`, ShortDescription: 'Docker Compose (berth compose)' }

function help(): string {
  let s = '\nUsage:  docker compose [OPTIONS] COMMAND\n\nDefine and run multi-container applications with Docker\n\nOptions:\n'
  s += `${flagHelp(COMPOSE_FLAGS)}\n\nCommands:\n`
  const w = Math.max(...SUBCOMMANDS.map((x) => x.name.length))
  for (const x of SUBCOMMANDS) s += `  ${x.name.padEnd(w)}   ${x.description}\n`
  return `${s}\nRun 'docker compose COMMAND --help' for more information on a command.\n`
}

function subHelp(spec: ComposeSub): string {
  return `\nUsage:  docker compose ${spec.name} ${spec.usage}\n\n${spec.description}\n\nOptions:\n${flagHelp(spec.flags)}\n`
}

type Runner = (c: Cmd) => Promise<number | void>

function scaleFlags(list: unknown): Record<string, number> {
  const out: Record<string, number> = {}
  for (const s of (list as string[] | undefined) ?? []) {
    const [svc, n] = s.split('=')
    if (!svc || n === undefined || !/^\d+$/.test(n)) throw new CliExit(1, `invalid --scale option "${s}": must be SERVICE=NUM`)
    out[svc] = Number(n)
  }
  return out
}

function checkServices(p: ProjectModel, names: string[]): void {
  for (const n of names) if (!p.services[n]) throw new CliExit(1, p.disabled[n] ? `service "${n}" is disabled by its profiles` : `no such service: ${n}`)
}

async function up(c: Cmd, create = false): Promise<number> {
  const f = c.f
  const p = await c.load({ selected: c.args })
  checkServices(p, c.args)
  if (f['force-recreate'] && f['no-recreate']) throw new CliExit(1, '--force-recreate and --no-recreate are incompatible')
  if (f.build && f['no-build']) throw new CliExit(1, '--build and --no-build are incompatible')
  const pull = f.pull as string
  if (pull && !['policy', 'always', 'missing', 'never', 'build'].includes(pull)) throw new CliExit(1, `invalid --pull option "${pull}"`)
  const detach = !!f.detach || !!f.wait || create
  if (f.detach && (f['abort-on-container-exit'] || f['exit-code-from'])) throw new CliExit(1, '--abort-on-container-exit and --detach are incompatible')
  const services = c.args.length ? (f['no-deps'] ? c.args : undefined) : undefined
  const o: UpOptions = {
    ...(c.args.length ? { services: c.args } : {}),
    forceRecreate: !!f['force-recreate'], noRecreate: !!f['no-recreate'], alwaysRecreateDeps: !!f['always-recreate-deps'],
    removeOrphans: !!f['remove-orphans'] || process.env.COMPOSE_REMOVE_ORPHANS === 'true', scale: scaleFlags(f.scale), build: !!f.build, noBuild: !!f['no-build'],
    ...(pull && pull !== 'policy' ? { pull: pull as 'always' } : {}),
    noStart: !!f['no-start'] || create, wait: !!f.wait,
    ...(f['wait-timeout'] !== undefined ? { waitTimeout: f['wait-timeout'] as number } : {}),
    ...(f.timeout !== undefined ? { timeout: f.timeout as number } : {}),
  }
  if (f['no-deps'] && c.args.length) {
    // Only the named services: their dependencies are neither created nor waited for.
    for (const [n, s] of Object.entries(p.services)) if (!c.args.includes(n)) delete p.services[n]
    for (const s of Object.values(p.services)) s.depends_on = {}
  }
  void services
  const { plan, observed, images } = await planProjectUp(c.docker, p, o)
  if (c.dryRun) { c.ctx.out.write(`${plan.toString()}\n`); return 0 }
  await executeUp(c.docker, p, plan, images, observed, o, c.reporter)
  if (!plan.changes && detach) c.reporter.event('Service', p.name, 'up to date: nothing to do')
  c.reporter.close()
  if (detach) return 0
  return attachLogs(c, p, o.services ? withDependencies(p, o.services) : Object.keys(p.services))
}

/** Attached `up`: prefixed logs of every service until the containers exit or Ctrl-C stops them. */
async function attachLogs(c: Cmd, p: ProjectModel, services: string[]): Promise<number> {
  const f = c.f
  const attachOnly = f.attach as string[] | undefined
  const noAttach = new Set((f['no-attach'] as string[] | undefined) ?? [])
  const shown = services.filter((s) => (!attachOnly || attachOnly.includes(s)) && !noAttach.has(s) && p.services[s]!.attach !== false)
  const observed = await observeProject(c.docker, p.name)
  const ctrs = observed.containers.filter((x) => shown.includes(serviceOf(x)))
  const color = !f['no-color'] && !!c.ctx.out.isTTY
  const pre = new LogPrefixer(color, !f['no-log-prefix'])
  for (const x of ctrs) pre.add(nameOf(x).replace(`${p.name}-`, ''))
  const ac = new AbortController()
  const exitFrom = f['exit-code-from'] as string | undefined
  const abortOnExit = !!f['abort-on-container-exit'] || !!exitFrom
  let exitCode = 0
  let stopping = false
  const stopAll = async () => {
    if (stopping) return
    stopping = true
    c.ctx.err.write('Gracefully stopping... (press Ctrl+C again to force)\n')
    const all = (await observeProject(c.docker, p.name)).containers
    const order = reverseOrder(p)
    for (const svc of order) {
      await Promise.all(all.filter((x) => serviceOf(x) === svc && x.State === 'running').map(async (x) => {
        c.reporter.event('Container', nameOf(x), 'Stopping')
        await c.docker.containers.stop(x.Id, { ...(f.timeout !== undefined ? { t: f.timeout as number } : {}) }).catch(() => {})
        c.reporter.event('Container', nameOf(x), 'Stopped')
      }))
    }
    ac.abort()
  }
  const onSig = () => { if (stopping) process.exit(130); void stopAll() }
  process.on('SIGINT', onSig)
  process.on('SIGTERM', onSig)
  c.ctx.out.write(`Attaching to ${ctrs.map((x) => nameOf(x)).join(', ')}\n`)
  await Promise.all(ctrs.map(async (x) => {
    const label = nameOf(x).replace(`${p.name}-`, '')
    await streamLogs(c, x, label, pre, { follow: true, since: String(Math.floor(Date.now() / 1000) - 1), signal: ac.signal }).catch((err) => { if (!ac.signal.aborted) throw err })
    if (ac.signal.aborted) return
    const w = await c.docker.containers.wait(x.Id).catch(() => ({ StatusCode: 0 }))
    c.ctx.out.write(`${label} exited with code ${w.StatusCode}\n`)
    if (exitFrom === serviceOf(x) || (!exitFrom && abortOnExit && exitCode === 0)) exitCode = w.StatusCode
    if (abortOnExit) {
      if (!stopping) c.ctx.out.write('Aborting on container exit...\n')
      await stopAll()
    }
  }))
  process.off('SIGINT', onSig)
  process.off('SIGTERM', onSig)
  return exitCode
}

async function streamLogs(c: Cmd, x: ContainerSummary, label: string, pre: LogPrefixer, o: { follow?: boolean; since?: string; until?: string; tail?: string; timestamps?: boolean; signal?: AbortSignal }): Promise<void> {
  const info = await c.docker.containers.inspect(x.Id)
  const res = await c.docker.containers.logs(x.Id, { ...o, ...(o.signal ? { signal: o.signal } : {}) })
  let buf = { 1: '', 2: '' } as Record<number, string>
  const emit = (stream: number, payload: Buffer) => {
    buf[stream] += payload.toString('utf8')
    let nl: number
    while ((nl = buf[stream]!.indexOf('\n')) >= 0) {
      const line = buf[stream]!.slice(0, nl).replace(/\r$/, '')
      buf[stream] = buf[stream]!.slice(nl + 1)
      ;(stream === 2 && !pre.prefix ? c.ctx.err : c.ctx.out).write(pre.line(label, line))
    }
  }
  const feed = info.Config.Tty ? (b: Buffer) => emit(1, b) : demuxer(emit)
  try {
    for await (const chunk of res) feed(chunk as Buffer)
  } catch (err) {
    if (!o.signal?.aborted) throw err
  }
  for (const s of [1, 2]) if (buf[s]) c.ctx.out.write(pre.line(label, buf[s]!))
  buf = { 1: '', 2: '' }
}

async function selectContainers(c: Cmd, services: string[], o: { all?: boolean; oneoff?: boolean } = {}): Promise<{ p: ProjectModel | undefined; name: string; ctrs: ContainerSummary[] }> {
  let p: ProjectModel | undefined
  try {
    p = await c.load()
  } catch (err) {
    // -p alone names a project whose files are not here (compose v2 works from labels then).
    if (!c.g['project-name']) throw err
  }
  const name = p?.name ?? (c.g['project-name'] as string)
  if (p && services.length) checkServices(p, services)
  const observed = await observeProject(c.docker, name, { oneoff: !!o.oneoff })
  return { p, name, ctrs: observed.containers.filter((x) => !services.length || services.includes(serviceOf(x))) }
}

const simple = (verb: 'Stopping' | 'Starting' | 'Restarting' | 'Killing' | 'Pausing' | 'Unpausing', done: string, op: (c: Cmd, x: ContainerSummary) => Promise<unknown>, want?: (x: ContainerSummary) => boolean): Runner => async (c) => {
  const { p, ctrs } = await selectContainers(c, c.args)
  let list = ctrs.filter((x) => !want || want(x))
  if (p && (verb === 'Stopping' || verb === 'Killing')) {
    const order = reverseOrder(p)
    list = [...list].sort((a, b) => order.indexOf(serviceOf(a)) - order.indexOf(serviceOf(b)))
  } else if (p) {
    const order = reverseOrder(p).reverse()
    list = [...list].sort((a, b) => order.indexOf(serviceOf(a)) - order.indexOf(serviceOf(b)))
  }
  if (c.dryRun) { for (const x of list) c.ctx.out.write(`${nameOf(x)}: ${verb.toLowerCase().replace(/ing$/, '').replace(/pp$/, 'p')}, requested\n`); return 0 }
  if (verb === 'Starting' && p) {
    // Start in dependency order, waiting for the conditions like `up` does.
    const up: UpOptions = { noRecreate: true, ...(c.args.length ? { services: c.args } : {}) }
    const { plan, observed, images } = await planProjectUp(c.docker, p, up)
    const startOnly = plan.actions.filter((a) => a.kind === 'start' || a.kind === 'keep')
    await executeUp(c.docker, p, new (plan.constructor as typeof import('../../compose/plan.js').Plan)(p.name, startOnly), images, observed, up, c.reporter)
    return 0
  }
  for (const x of list) {
    c.reporter.event('Container', nameOf(x), verb)
    await op(c, x)
    c.reporter.event('Container', nameOf(x), done)
  }
  return 0
}

const tOpt = (c: Cmd) => (c.f.timeout !== undefined ? { t: c.f.timeout as number } : {})

const RUNNERS: Record<string, Runner> = {
  up: (c) => up(c),
  create: (c) => up(c, true),
  async down(c) {
    let p: ProjectModel | undefined
    try { p = await c.load() } catch (err) { if (!c.g['project-name']) throw err }
    const name = p?.name ?? (c.g['project-name'] as string)
    const rmi = c.f.rmi as string | undefined
    if (rmi && rmi !== 'local' && rmi !== 'all') throw new CliExit(1, `invalid --rmi option "${rmi}"`)
    const lines = await down(c.docker, p, name, { volumes: !!c.f.volumes, removeOrphans: !!c.f['remove-orphans'], ...(rmi ? { rmi: rmi as 'all' } : {}), ...(c.f.timeout !== undefined ? { timeout: c.f.timeout as number } : {}), dryRun: c.dryRun }, c.reporter)
    if (c.dryRun) c.ctx.out.write(lines.length ? `${lines.join('\n')}\n` : '')
    return 0
  },
  async ps(c) {
    const { ctrs } = await selectContainers(c, c.args, { oneoff: true })
    let list = ctrs.filter((x) => c.f.all || x.State === 'running' || x.State === 'restarting' || x.State === 'paused')
    const statuses = [...((c.f.status as string[] | undefined) ?? [])]
    const filter = c.f.filter as string | undefined
    if (filter) { const m = /^status=(.+)$/.exec(filter); if (!m) throw new CliExit(1, `invalid filter "${filter}"`); statuses.push(m[1]!) }
    if (statuses.length) list = ctrs.filter((x) => statuses.includes(x.State))
    if (c.f.services) { for (const s of [...new Set(list.map(serviceOf))]) c.ctx.out.write(`${s}\n`); return 0 }
    if (c.f.quiet) { for (const x of list) c.ctx.out.write(`${x.Id}\n`); return 0 }
    const rows = list.map((x) => ({
      ID: x.Id, Name: nameOf(x), Names: nameOf(x), Image: x.Image, Command: c.f['no-trunc'] ? x.Command : truncate(x.Command, 20), Project: x.Labels[L.project] ?? '', Service: serviceOf(x),
      CreatedAt: new Date(x.Created * 1000).toISOString(), State: x.State, Status: x.Status, Health: /\((healthy|unhealthy|health: starting)\)/.exec(x.Status)?.[1]?.replace('health: ', '') ?? '', ExitCode: Number(/Exited \((\d+)\)/.exec(x.Status)?.[1] ?? 0),
      Publishers: x.Ports.map((pt) => ({ URL: pt.IP ?? '', TargetPort: pt.PrivatePort, PublishedPort: pt.PublicPort ?? 0, Protocol: pt.Type })),
      Ports: portsText(x), Labels: Object.entries(x.Labels).map(([k, v]) => `${k}=${v}`).join(','), LocalVolumes: String((x.Mounts ?? []).filter((m) => m.Type === 'volume').length), Mounts: (x.Mounts ?? []).map((m) => m.Name ?? m.Source).join(','), Networks: Object.keys(x.NetworkSettings?.Networks ?? {}).join(','), RunningFor: x.Status, Size: '0B',
    }))
    const fmt = (c.f.format as string) || 'table'
    if (fmt === 'json') { for (const r of rows) c.ctx.out.write(`${JSON.stringify(r)}\n`); return 0 }
    if (fmt !== 'table') {
      const { executeTemplate } = await import('../format.js')
      for (const r of rows) c.ctx.out.write(`${executeTemplate(fmt.replace(/^table /, ''), r)}\n`)
      return 0
    }
    table(c, ['NAME', 'IMAGE', 'COMMAND', 'SERVICE', 'CREATED', 'STATUS', 'PORTS'], rows.map((r, i) => [r.Name, r.Image, `"${r.Command}"`, r.Service, createdAgo(list[i]!.Created), r.Status, r.Ports]))
    return 0
  },
  async logs(c) {
    const { p, ctrs } = await selectContainers(c, c.args, { oneoff: false })
    let list = ctrs
    if (c.f.index !== undefined) list = list.filter((x) => numberOf(x) === c.f.index)
    const color = !c.f['no-color'] && !!c.ctx.out.isTTY
    const pre = new LogPrefixer(color, !c.f['no-log-prefix'])
    const label = (x: ContainerSummary) => nameOf(x).replace(`${p?.name ?? x.Labels[L.project]}-`, '')
    for (const x of list) pre.add(label(x))
    const tail = c.f.tail as string
    const opts = {
      follow: !!c.f.follow, ...(c.f.since ? { since: c.f.since as string } : {}), ...(c.f.until ? { until: c.f.until as string } : {}),
      ...(tail && tail !== 'all' ? { tail } : {}), timestamps: !!c.f.timestamps,
    }
    if (!c.f.follow) {
      await Promise.all(list.map((x) => streamLogs(c, x, label(x), pre, opts)))
      return 0
    }
    // As compose v2: following also picks up the project's containers that start later (scale
    // up, recreate, a restart), from their start on; it ends once no followed stream is left.
    const project = p?.name ?? list[0]?.Labels[L.project]
    const wanted = (x: { Labels: Record<string, string> }) => (!c.args.length || c.args.includes(x.Labels[L.service] ?? '')) && x.Labels[L.oneoff] !== 'True' && (c.f.index === undefined || Number(x.Labels[L.number]) === c.f.index)
    const ac = new AbortController()
    const following = new Set<string>()
    let live = 0
    const follow = (x: ContainerSummary, o: typeof opts & { since?: string }) => {
      following.add(x.Id)
      live++
      pre.add(label(x))
      return streamLogs(c, x, label(x), pre, { ...o, signal: ac.signal }).catch((err) => { if (!ac.signal.aborted) throw err }).finally(() => {
        following.delete(x.Id)
        if (--live === 0) ac.abort()
      })
    }
    const streams: Promise<void>[] = list.map((x) => follow(x, opts))
    if (!streams.length) return 0
    const watch = project ? (async () => {
      try {
        for await (const e of c.docker.system.events({ since: String(Math.floor(Date.now() / 1000)), filters: { label: [`${L.project}=${project}`], type: ['container'], event: ['start'] }, signal: ac.signal })) {
          if (following.has(e.Actor.ID) || !wanted({ Labels: e.Actor.Attributes })) continue
          const x = (await c.docker.containers.list({ all: true, filters: { id: [e.Actor.ID] } }))[0]
          if (!x || following.has(x.Id)) continue
          const { tail: _all, ...fromStart } = opts
          streams.push(follow(x, { ...fromStart, since: String(Math.floor(e.timeNano / 1e9) - 1) }))
        }
      } catch (err) {
        if (!ac.signal.aborted) throw err
      }
    })() : Promise.resolve()
    while (streams.length) await streams.shift()
    ac.abort()
    await watch
    return 0
  },
  start: simple('Starting', 'Started', (c, x) => c.docker.containers.start(x.Id)),
  stop: simple('Stopping', 'Stopped', (c, x) => c.docker.containers.stop(x.Id, tOpt(c)), (x) => x.State === 'running' || x.State === 'paused' || x.State === 'restarting'),
  restart: simple('Restarting', 'Started', (c, x) => c.docker.containers.restart(x.Id, tOpt(c))),
  kill: simple('Killing', 'Killed', (c, x) => c.docker.containers.kill(x.Id, { signal: c.f.signal as string }), (x) => x.State === 'running' || x.State === 'paused'),
  pause: simple('Pausing', 'Paused', (c, x) => c.docker.containers.pause(x.Id), (x) => x.State === 'running'),
  unpause: simple('Unpausing', 'Unpaused', (c, x) => c.docker.containers.unpause(x.Id), (x) => x.State === 'paused'),
  async rm(c) {
    const { ctrs } = await selectContainers(c, c.args, { oneoff: true })
    const running = ctrs.filter((x) => x.State === 'running' || x.State === 'paused' || x.State === 'restarting')
    if (running.length && c.f.stop) {
      for (const x of running) { c.reporter.event('Container', nameOf(x), 'Stopping'); await c.docker.containers.stop(x.Id); c.reporter.event('Container', nameOf(x), 'Stopped') }
    }
    const list = c.f.stop ? ctrs : ctrs.filter((x) => !running.includes(x))
    if (!list.length) { c.ctx.err.write('No stopped containers\n'); return 0 }
    if (c.dryRun) { for (const x of list) c.ctx.out.write(`${nameOf(x)}: remove, requested\n`); return 0 }
    if (!c.f.force) {
      const { confirm } = await import('../format.js')
      if (!(await confirm(c.ctx, `Going to remove ${list.map(nameOf).join(', ')}\nAre you sure you want to continue?`))) return 0
    }
    for (const x of list) { c.reporter.event('Container', nameOf(x), 'Removing'); await c.docker.containers.remove(x.Id, { force: true, v: !!c.f.volumes }); c.reporter.event('Container', nameOf(x), 'Removed') }
    return 0
  },
  async run(c) {
    const p = await c.load({ selected: [c.args[0]!] })
    const [svcName, ...cmd] = c.args
    checkServices(p, [svcName!])
    const s = { ...p.services[svcName!]! }
    if (!c.f['no-deps'] && Object.keys(s.depends_on).length) {
      const deps = withDependencies(p, [svcName!]).filter((n) => n !== svcName)
      const o: UpOptions = { services: deps, noRecreate: false }
      const { plan, observed, images } = await planProjectUp(c.docker, p, o)
      if (!c.dryRun) await executeUp(c.docker, p, plan, images, observed, o, c.reporter)
    }
    if (cmd.length) s.command = cmd
    if (c.f.entrypoint !== undefined) s.entrypoint = shellSplit(c.f.entrypoint as string)
    for (const e of (c.f.env as string[] | undefined) ?? []) { const i = e.indexOf('='); if (i < 0) s.environment[e] = process.env[e] ?? null; else s.environment[e.slice(0, i)] = e.slice(i + 1) }
    s.environment = { ...s.environment }
    s.labels = { ...s.labels }
    for (const l of (c.f.label as string[] | undefined) ?? []) { const i = l.indexOf('='); s.labels[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1) }
    if (c.f.workdir) s.working_dir = c.f.workdir as string
    if (c.f.user) s.user = c.f.user as string
    if (!c.f['service-ports']) s.ports = []
    if (c.f.publish) {
      const { normalizePort } = await import('../../compose/loader/normalize.js')
      s.ports = [...s.ports, ...(c.f.publish as string[]).flatMap((x, i) => normalizePort(x, `--publish[${i}]`))]
    }
    if (c.f.volume) {
      const { normalizeMount } = await import('../../compose/loader/normalize.js')
      s.volumes = [...s.volumes, ...(c.f.volume as string[]).map((v, i) => normalizeMount(v, `--volume[${i}]`, process.cwd()))]
    }
    const tty = !c.f['no-TTY'] && !!process.stdin.isTTY && !!process.stdout.isTTY
    const interactive = !!c.f.interactive && !c.f.detach
    s.tty = tty
    s.stdin_open = interactive
    s.restart = 'no'
    delete s.deploy
    const suffix = Math.random().toString(16).slice(2, 14).padEnd(12, '0')
    s.container_name = (c.f.name as string | undefined) ?? `${p.name}-${s.name}-run-${suffix}`
    if (s.build && (c.f.build || (await c.docker.images.inspect(imageOf(p, s)).then(() => false, (e) => { if (isNotFound(e)) return true; throw e })))) await buildService(c.docker, p, s, c.reporter)
    if (c.dryRun) { c.ctx.out.write(`${s.container_name}: create and start, run\n`); return 0 }
    const ids = await observeProject(c.docker, p.name)
    const containerOf = (svc: string) => ids.containers.find((x) => serviceOf(x) === svc)?.Id
    const { body, name } = toCreateRequest(p, s, { containerOf, number: 1, oneoff: true, hash: serviceHash(s) })
    if (c.f['use-aliases'] && body.NetworkingConfig?.EndpointsConfig) for (const ep of Object.values(body.NetworkingConfig.EndpointsConfig)) ep.Aliases = [s.name, ...(ep.Aliases ?? [])]
    body.Labels![L.oneoff] = 'True'
    body.Labels!['com.docker.compose.slug'] = suffix
    body.AttachStdin = interactive
    body.OpenStdin = interactive
    body.StdinOnce = interactive
    if (c.f.rm) body.HostConfig = { ...body.HostConfig, AutoRemove: false }
    const { Id: id } = await c.docker.containers.create(body, { name })
    const cleanup = async () => { if (c.f.rm) await c.docker.containers.remove(id, { force: true, v: true }).catch(() => {}) }
    if (c.f.detach) { await c.docker.containers.start(id); c.ctx.out.write(`${name}\n`); return 0 }
    const { hijackStream } = await import('./containers.js')
    const stream = await hijackStream(c.ctx.client(), `/containers/${id}/attach`, { query: { stream: true, stdin: interactive, stdout: true, stderr: true } }, { stdin: interactive, tty })
    const waiter = c.docker.containers.wait(id, { condition: 'next-exit' })
    try {
      await c.docker.containers.start(id)
    } catch (err) {
      stream.close()
      await cleanup()
      throw err
    }
    const res = await waiter
    await stream.done
    await cleanup()
    return res.StatusCode
  },
  async exec(c) {
    const p = await c.load()
    const [svc, ...cmd] = c.args
    checkServices(p, [svc!])
    const observed = await observeProject(c.docker, p.name)
    const x = observed.containers.find((y) => serviceOf(y) === svc && numberOf(y) === (c.f.index as number) && y.State === 'running')
    if (!x) throw new CliExit(1, `service "${svc}" is not running`)
    const tty = !c.f['no-TTY'] && !!process.stdin.isTTY && !!process.stdout.isTTY
    const interactive = !!c.f.interactive && !c.f.detach && !!process.stdin.isTTY
    const { Id } = await c.docker.exec.create(x.Id, {
      Cmd: cmd, Tty: tty, AttachStdin: interactive, AttachStdout: !c.f.detach, AttachStderr: !c.f.detach, Privileged: !!c.f.privileged,
      ...(c.f.user ? { User: c.f.user as string } : {}), ...(c.f.workdir ? { WorkingDir: c.f.workdir as string } : {}), Env: (c.f.env as string[] | undefined) ?? [],
    })
    if (c.f.detach) { await c.docker.exec.startDetached(Id); return 0 }
    const { hijackStream } = await import('./containers.js')
    const stream = await hijackStream(c.ctx.client(), `/exec/${Id}/start`, { body: { Detach: false, Tty: tty } }, { stdin: interactive, tty })
    await stream.done
    return (await c.docker.exec.inspect(Id)).ExitCode ?? 0
  },
  async build(c) {
    const p = await c.load()
    checkServices(p, c.args)
    const names = (c.args.length ? c.args : Object.keys(p.services)).filter((n) => p.services[n]!.build)
    for (const a of (c.f['build-arg'] as string[] | undefined) ?? []) {
      const i = a.indexOf('=')
      for (const n of names) { const b = p.services[n]!.build!; b.args = { ...b.args, [i < 0 ? a : a.slice(0, i)]: i < 0 ? process.env[a] ?? null : a.slice(i + 1) } }
    }
    if (c.dryRun) { for (const n of names) c.ctx.out.write(`image ${imageOf(p, p.services[n]!)}: build, requested (service ${n})\n`); return 0 }
    await Promise.all(names.map((n) => buildService(c.docker, p, p.services[n]!, c.reporter, { noCache: !!c.f['no-cache'], pull: !!c.f.pull, ...(c.f.quiet ? {} : { onLine: (l: string) => c.ctx.err.write(`#${n} ${l.endsWith('\n') ? l : `${l}\n`}`) }) })))
    return 0
  },
  async pull(c) {
    const p = await c.load()
    checkServices(p, c.args)
    const names = (c.args.length ? c.args : Object.keys(p.services)).filter((n) => !(c.f['ignore-buildable'] && p.services[n]!.build) && p.services[n]!.image)
    const refs = [...new Set(names.map((n) => p.services[n]!.image!))]
    if (c.dryRun) { for (const r of refs) c.ctx.out.write(`image ${r}: pull, requested\n`); return 0 }
    let failed = 0
    await Promise.all(names.map(async (n) => {
      const s = p.services[n]!
      if (s.pull_policy === 'never' || (s.build && (s.pull_policy === 'build'))) { c.reporter.event('Image', s.image!, 'Skipped'); return }
      c.reporter.event('Image', s.image!, 'Pulling')
      try {
        await c.docker.images.pull(s.image!)
        c.reporter.event('Image', s.image!, 'Pulled')
      } catch (err) {
        if (s.build) { c.reporter.event('Image', s.image!, 'Skipped (buildable)'); return }
        c.reporter.event('Image', s.image!, `Error ${(err as Error).message}`, true)
        if (!c.f['ignore-pull-failures']) failed++
      }
    }))
    return failed ? 1 : 0
  },
  async push(c) {
    const p = await c.load()
    checkServices(p, c.args)
    const names = (c.args.length ? c.args : Object.keys(p.services)).filter((n) => p.services[n]!.image)
    if (c.dryRun) { for (const n of names) c.ctx.out.write(`image ${p.services[n]!.image}: push, requested\n`); return 0 }
    for (const n of names) {
      const ref = p.services[n]!.image!
      c.reporter.event('Image', ref, 'Pushing')
      try {
        await c.docker.images.push(ref)
        c.reporter.event('Image', ref, 'Pushed')
      } catch (err) {
        if (!c.f['ignore-push-failures']) throw err
      }
    }
    return 0
  },
  async scale(c) {
    const scale: Record<string, number> = {}
    for (const a of c.args) { const [s, n] = a.split('='); if (!s || !n || !/^\d+$/.test(n)) throw new CliExit(1, `invalid argument "${a}": must be SERVICE=REPLICAS`); scale[s] = Number(n) }
    const p = await c.load()
    checkServices(p, Object.keys(scale))
    const o: UpOptions = { services: Object.keys(scale), scale, noRecreate: true }
    const { plan, observed, images } = await planProjectUp(c.docker, p, o)
    if (c.dryRun) { c.ctx.out.write(`${plan.toString()}\n`); return 0 }
    await executeUp(c.docker, p, plan, images, observed, o, c.reporter)
    return 0
  },
  async top(c) {
    const { ctrs } = await selectContainers(c, c.args)
    for (const x of ctrs.filter((y) => y.State === 'running')) {
      const t = await c.docker.containers.top(x.Id)
      c.ctx.out.write(`${nameOf(x)}\n`)
      table(c, t.Titles, t.Processes)
      c.ctx.out.write('\n')
    }
    return 0
  },
  async port(c) {
    const [svc, priv] = c.args
    const { ctrs } = await selectContainers(c, [svc!])
    const x = ctrs.find((y) => numberOf(y) === (c.f.index as number))
    if (!x) throw new CliExit(1, `service "${svc}" is not running`)
    const port = Number(priv)
    const pt = x.Ports.find((q) => q.PrivatePort === port && q.Type === c.f.protocol && q.PublicPort)
    if (!pt) throw new CliExit(1, `no port ${priv}/${c.f.protocol as string} for container ${nameOf(x)}: ${x.Ports.length ? '' : 'no ports published'}`)
    c.ctx.out.write(`${pt.IP || '0.0.0.0'}:${pt.PublicPort}\n`)
    return 0
  },
  async images(c) {
    const { ctrs } = await selectContainers(c, c.args, { oneoff: true })
    const rows = await Promise.all(ctrs.map(async (x) => {
      const img = await c.docker.images.inspect(x.ImageID).catch(() => undefined)
      const [repo = x.Image, tag = 'latest'] = (img?.RepoTags?.[0] ?? x.Image).split(/:(?=[^:/]*$)/)
      return { ContainerName: nameOf(x), Repository: repo, Tag: tag, ID: x.ImageID, Size: img?.Size ?? 0, Created: img?.Created ?? '' }
    }))
    if (c.f.quiet) { for (const id of new Set(rows.map((r) => r.ID))) c.ctx.out.write(`${id}\n`); return 0 }
    if (c.f.format === 'json') { c.ctx.out.write(`${JSON.stringify(rows)}\n`); return 0 }
    const { humanSize } = await import('../format.js')
    table(c, ['CONTAINER', 'REPOSITORY', 'TAG', 'IMAGE ID', 'SIZE'], rows.map((r) => [r.ContainerName, r.Repository, tagOf(r.Tag), r.ID.replace('sha256:', '').slice(0, 12), humanSize(r.Size)]))
    return 0
  },
  async events(c) {
    const name = await c.projectName()
    const filters = { label: [`${L.project}=${name}`], type: ['container'] }
    for await (const e of c.docker.system.events({ filters })) {
      const svc = e.Actor.Attributes[L.service] ?? ''
      if (c.args.length && !c.args.includes(svc)) continue
      const attrs = Object.fromEntries(Object.entries(e.Actor.Attributes).filter(([k]) => !k.startsWith('com.docker.compose.')))
      const time = new Date(Math.floor((e.timeNano ?? e.time * 1e9) / 1e6)).toISOString()
      if (c.f.json) c.ctx.out.write(`${JSON.stringify({ time, type: e.Type, action: e.Action, id: e.Actor.ID, service: svc, attributes: attrs })}\n`)
      else c.ctx.out.write(`${time} ${e.Type} ${e.Action} ${e.Actor.ID} (${Object.entries(attrs).map(([k, v]) => `${k}=${v}`).join(', ')})\n`)
    }
    return 0
  },
  async wait(c) {
    const { ctrs } = await selectContainers(c, c.args)
    if (!ctrs.length) throw new CliExit(1, `no containers for services ${c.args.join(', ')}`)
    const first = await Promise.race(ctrs.map(async (x) => c.docker.containers.wait(x.Id)))
    if (c.f['down-project']) await RUNNERS.down!({ ...c, f: {} })
    c.ctx.out.write(`${first.StatusCode}\n`)
    return first.StatusCode
  },
  async ls(c) {
    const projects = await listProjects(c.docker, !!c.f.all)
    if (c.f.quiet) { for (const x of projects) c.ctx.out.write(`${x.name}\n`); return 0 }
    if (c.f.format === 'json') { c.ctx.out.write(`${JSON.stringify(projects.map((x) => ({ Name: x.name, Status: x.status, ConfigFiles: x.configFiles })))}\n`); return 0 }
    table(c, ['NAME', 'STATUS', 'CONFIG FILES'], projects.map((x) => [x.name, x.status, x.configFiles]))
    return 0
  },
  async config(c) {
    const { model: p } = await loadProject({
      ...(c.g.file ? { files: c.g.file as string[] } : {}),
      ...(c.g['project-name'] ? { projectName: c.g['project-name'] as string } : {}),
      ...(c.g['project-directory'] ? { projectDirectory: c.g['project-directory'] as string } : {}),
      ...(c.g['env-file'] ? { envFiles: c.g['env-file'] as string[] } : {}),
      ...(c.g.profile ? { profiles: c.g.profile as string[] } : {}),
      interpolate: !c.f['no-interpolate'],
    })
    const out = (s: string) => (c.f.output ? writeFileSync(c.f.output as string, s) : c.ctx.out.write(s))
    if (c.f.quiet) return 0
    if (c.f.services) { out(Object.keys(p.services).map((s) => `${s}\n`).join('')); return 0 }
    if (c.f.volumes) { out(Object.keys(p.volumes).map((s) => `${s}\n`).join('')); return 0 }
    if (c.f.networks) { out(Object.keys(p.networks).map((s) => `${s}\n`).join('')); return 0 }
    if (c.f.profiles) { out([...new Set([...Object.values(p.services), ...Object.values(p.disabled)].flatMap((s) => s.profiles ?? []))].sort().map((s) => `${s}\n`).join('')); return 0 }
    if (c.f.images) { out(Object.values(p.services).map((s) => `${imageOf(p, s)}\n`).join('')); return 0 }
    if (c.f.hash !== undefined) {
      const want = (c.f.hash as string) === '*' ? Object.keys(p.services) : (c.f.hash as string).split(',')
      checkServices(p, want)
      out(want.map((n) => `${n} ${serviceHash(p.services[n]!)}\n`).join(''))
      return 0
    }
    const doc = renderModel(p, c.args)
    if (c.f.format === 'json') { out(`${JSON.stringify(doc, null, 2)}\n`); return 0 }
    const { stringify } = await import('yaml')
    out(stringify(doc, { lineWidth: 0 }))
    return 0
  },
  async version(c) {
    if (c.f.short) { c.ctx.out.write(`${COMPOSE_VERSION}\n`); return 0 }
    if (c.f.format === 'json') { c.ctx.out.write(`${JSON.stringify({ version: `v${COMPOSE_VERSION}` })}\n`); return 0 }
    c.ctx.out.write(`Docker Compose version v${COMPOSE_VERSION} (berth compose)\n`)
    return 0
  },
  async cp(c) {
    // SERVICE:PATH names a container of the project (--index, default the first); the copy is berth cp's.
    const p = await c.load()
    const observed = await observeProject(c.docker, p.name)
    const args = await Promise.all(c.args.map(async (a) => {
      const m = /^([a-zA-Z0-9._-]+):(.*)$/.exec(a)
      if (!m || a === '-') return a
      checkServices(p, [m[1]!])
      const mine = observed.containers.filter((x) => serviceOf(x) === m[1])
      const x = c.f.index !== undefined ? mine.find((y) => numberOf(y) === c.f.index) : mine[0]
      if (!x) throw new CliExit(1, `no container found for service "${m[1]}"`)
      return `${x.Id}:${m[2]}`
    }))
    if (c.dryRun) { c.ctx.out.write(`copy ${c.args.join(' ')}, requested\n`); return 0 }
    const { cp } = await import('./archive.js')
    await cp({ ...c.ctx, args, flags: { archive: c.f.archive, 'follow-link': c.f['follow-link'], quiet: true } })
    return 0
  },
  async watch(c) {
    const p = await c.load({ selected: c.args })
    checkServices(p, c.args)
    const names = (c.args.length ? c.args : Object.keys(p.services)).filter((n) => p.services[n]!.develop?.watch?.length)
    if (!names.length) throw new CliExit(1, 'none of the selected services is configured for watch, consider setting a \'develop\' section')
    if (!c.f['no-up']) {
      const o: UpOptions = { ...(c.args.length ? { services: c.args } : {}) }
      const { plan, observed, images } = await planProjectUp(c.docker, p, o)
      await executeUp(c.docker, p, plan, images, observed, o, c.reporter)
      c.reporter.close()
    }
    const { watchProject } = await import('../../compose/watch.js')
    c.ctx.err.write('Watch enabled\n')
    await watchProject(c.docker, p, names, { out: c.ctx.err, reporter: c.reporter })
    return 0
  },
}

function renderModel(p: ProjectModel, only: string[]): Record<string, unknown> {
  const services: Record<string, unknown> = {}
  for (const [n, s] of Object.entries(p.services)) {
    if (only.length && !only.includes(n)) continue
    const { name: _n, extensions, ...rest } = s
    const out: Record<string, unknown> = { ...rest, ...extensions }
    if (!Object.keys(s.labels).length) delete out.labels
    if (!s.ports.length) delete out.ports
    if (!s.volumes.length) delete out.volumes
    if (!Object.keys(s.depends_on).length) delete out.depends_on
    if (!Object.keys(s.environment).length) delete out.environment
    for (const k of ['stop_grace_period'] as const) if (s[k] !== undefined) out[k] = goDuration(s[k]!)
    if (s.healthcheck) out.healthcheck = Object.fromEntries(Object.entries(s.healthcheck).map(([k, v]) => [k, typeof v === 'number' && k !== 'retries' ? goDuration(v) : v]))
    services[n] = out
  }
  const doc: Record<string, unknown> = { name: p.name, services }
  if (Object.keys(p.networks).length) doc.networks = p.networks
  if (Object.keys(p.volumes).length) doc.volumes = p.volumes
  if (Object.keys(p.secrets).length) doc.secrets = p.secrets
  if (Object.keys(p.configs).length) doc.configs = p.configs
  return { ...doc, ...p.extensions }
}

function tagOf(t: string): string { return t }

/** Go's Duration.String (1m30s, 200ms), as compose prints durations. */
function goDuration(ns: number): string {
  if (ns === 0) return '0s'
  if (ns < 1e6) return `${ns / 1e3}µs`
  if (ns < 1e9) return `${ns / 1e6}ms`
  let s = ns / 1e9
  const h = Math.floor(s / 3600); s -= h * 3600
  const m = Math.floor(s / 60); s -= m * 60
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${Number(s.toFixed(9))}s`
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s
}

function portsText(x: ContainerSummary): string {
  return x.Ports.map((pt) => (pt.PublicPort ? `${pt.IP || '0.0.0.0'}:${pt.PublicPort}->${pt.PrivatePort}/${pt.Type}` : `${pt.PrivatePort}/${pt.Type}`)).join(', ')
}

function createdAgo(unix: number): string {
  const s = Math.max(0, Math.floor(Date.now() / 1000 - unix))
  if (s < 60) return `${s} seconds ago`
  if (s < 3600) return `${Math.floor(s / 60)} minute${s < 120 ? '' : 's'} ago`
  if (s < 86400) return `${Math.floor(s / 3600)} hour${s < 7200 ? '' : 's'} ago`
  return `${Math.floor(s / 86400)} days ago`
}

function table(c: Cmd, head: string[], rows: string[][]): void {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (r: string[]) => r.map((x, i) => (i === r.length - 1 ? x : x.padEnd(w[i]! + 3))).join('').trimEnd()
  c.ctx.out.write(`${line(head)}\n${rows.map((r) => `${line(r)}\n`).join('')}`)
}

void containerName
void sleep
void createContainer
