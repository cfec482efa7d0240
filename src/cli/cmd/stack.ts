/** `berth stack deploy|ls|ps|services|rm|config`, as the docker CLI 28 (swarm orchestrator). */
import { ApiError, type EngineClient } from '../../client/client.js'
import { CliExit, type CliContext } from '../context.js'
import { filtersParam, renderTable } from '../format.js'
import { listServices } from './service.js'
import { LABEL_IMAGE, LABEL_NAMESPACE, loadStackFiles, StackError, stackNetworks, stackObjects, stackServices } from './stack-convert.js'
import { naturalLess, printTasks, resolveSpecImage, waitOnService, type Json } from './swarm-util.js'

const nsFilter = (ns: string, extra: Record<string, string[]> = {}) => {
  const f = { ...extra }
  f.label = [...(f.label ?? []), `${LABEL_NAMESPACE}=${ns}`]
  return JSON.stringify(f)
}

const listOf = (client: EngineClient, kind: 'services' | 'networks' | 'secrets' | 'configs' | 'tasks', ns: string, extra?: Record<string, string[]>) =>
  client.json<Json[]>('GET', `/${kind}`, { query: { filters: nsFilter(ns, extra) } })

async function load(ctx: CliContext, ns: string, interpolate = true) {
  try {
    const s = await loadStackFiles((ctx.flags['compose-file'] as string[] | undefined) ?? [], ns, { interpolate })
    for (const w of s.warnings) ctx.err.write(w)
    return s
  } catch (err) {
    if (err instanceof StackError) throw new CliExit(1, err.message)
    const e = err as { code?: string; message?: string }
    if (typeof e.code === 'string' && /^ERR_COMPOSE_/.test(e.code)) throw new CliExit(1, e.message ?? String(err))
    throw err
  }
}

/** validateStackName: a name of only quotes and white space is refused. */
function validateNamespace(ns: string): void {
  if (ns.replace(/^[\s"']+|[\s"']+$/g, '') === '') throw new CliExit(1, `invalid stack name: ${JSON.stringify(ns)}`)
}

export async function deploy(ctx: CliContext): Promise<void> {
  const f = ctx.flags
  const ns = ctx.args[0]!
  validateNamespace(ns)
  const resolveImage = (f['resolve-image'] as string | undefined) ?? 'always'
  if (!['always', 'changed', 'never'].includes(resolveImage)) throw new CliExit(1, `Invalid option ${resolveImage} for flag --resolve-image`)
  const files = await load(ctx, ns)
  // --detach defaults to true; docker says so unless the flag was given
  const detach = f.detach !== false
  if (f.detach === undefined) {
    ctx.err.write('Since --detach=false was not specified, tasks will be created in the background.\nIn a future release, --detach=false will become the default.\n')
  }
  const client = ctx.client()
  const info = await client.json<Json>('GET', '/info')
  if (!info.Swarm?.ControlAvailable) throw new CliExit(1, 'this node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again')
  const services = stackServices(ns, files)
  if (f.prune) {
    const wanted = new Set(services.map((s) => s.name))
    let old: Json[] = []
    try { old = await listOf(client, 'services', ns) } catch (err) { ctx.err.write(`Failed to list services: ${(err as Error).message}\n`) }
    await removeServices(ctx, old.filter((s) => !wanted.has(s.Spec?.Name)))
  }
  const nets = stackNetworks(ns, files)
  for (const name of nets.external) {
    try {
      const n = await client.json<Json>('GET', `/networks/${encodeURIComponent(name)}`)
      if (n.Scope !== 'swarm') throw new CliExit(1, `network "${name}" is declared as external, but it is not in the right scope: "${n.Scope}" instead of "swarm"`)
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) throw new CliExit(1, `network "${name}" is declared as external, but could not be found. You need to create a swarm-scoped network before the stack is deployed`)
      throw err
    }
  }
  const existingNets = new Set((await listOf(client, 'networks', ns)).map((n) => n.Name as string))
  for (const [name, body] of nets.create) {
    if (existingNets.has(name)) continue
    ctx.out.write(`Creating network ${name}\n`)
    try {
      await client.json('POST', '/networks/create', { body })
    } catch (err) {
      if (err instanceof ApiError) throw new CliExit(1, `failed to create network ${name}: Error response from daemon: ${err.message}`)
      throw err
    }
  }
  for (const kind of ['secrets', 'configs'] as const) {
    const word = kind === 'secrets' ? 'secret' : 'config'
    for (const spec of stackObjects(ns, files, kind)) {
      let existing: Json | undefined
      try {
        existing = await client.json<Json>('GET', `/${kind}/${encodeURIComponent(spec.Name)}`)
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 404) throw err
      }
      try {
        if (existing) {
          await client.call('POST', `/${kind}/${encodeURIComponent(existing.ID)}/update`, { query: { version: existing.Version?.Index ?? 0 }, body: spec }).then((r) => r.resume())
        } else {
          ctx.out.write(`Creating ${word} ${spec.Name}\n`)
          await client.json('POST', `/${kind}/create`, { body: spec })
        }
      } catch (err) {
        if (err instanceof ApiError) throw new CliExit(1, `failed to ${existing ? 'update' : 'create'} ${word} ${spec.Name}: Error response from daemon: ${err.message}`)
        throw err
      }
    }
  }
  // secret and config IDs, by name
  const idsOf = async (kind: 'secrets' | 'configs', names: string[]) => {
    const m = new Map<string, string>()
    if (!names.length) return m
    for (const o of await client.json<Json[]>('GET', `/${kind}`, { query: { filters: JSON.stringify({ name: names }) } })) if (names.includes(o.Spec?.Name)) m.set(o.Spec.Name, o.ID)
    return m
  }
  // convert.Services resolves every service's secrets and configs before any is deployed
  for (const s of services) {
    const sIds = await idsOf('secrets', s.secrets.map((x) => x.name))
    const cIds = await idsOf('configs', s.configs.map((x) => x.name))
    const cs = s.spec.TaskTemplate.ContainerSpec
    const short = s.name.slice(ns.length + 1)
    if (s.secrets.length) cs.Secrets = s.secrets.map((x) => { const id = sIds.get(x.name); if (!id) throw new CliExit(1, `service ${short}: secret not found: ${x.name}`); return { File: x.file, SecretID: id, SecretName: x.name } })
    if (s.configs.length) cs.Configs = s.configs.map((x) => { const id = cIds.get(x.name); if (!id) throw new CliExit(1, `service ${short}: config not found: ${x.name}`); return { File: x.file, ConfigID: id, ConfigName: x.name } })
  }
  const existing = new Map((await listOf(client, 'services', ns)).map((s) => [s.Spec?.Name as string, s]))
  const ids: string[] = []
  for (const s of services) {
    const cs = s.spec.TaskTemplate.ContainerSpec
    let headers: Record<string, string> = {}
    if (f['with-registry-auth']) {
      const { parseNormalizedNamed } = await import('../../distribution/reference.js')
      const { registryAuthHeader } = await import('./registry.js')
      try { headers = await registryAuthHeader(ctx, parseNormalizedNamed(cs.Image).domain) } catch { headers = {} }
    }
    const old = existing.get(s.name)
    if (old) {
      ctx.out.write(`Updating service ${s.name} (id: ${old.ID})\n`)
      const image = cs.Image as string
      const query: Record<string, string> = { version: String(old.Version?.Index ?? 0) }
      const queryRegistry = resolveImage === 'always' || (resolveImage === 'changed' && image !== old.Spec?.Labels?.[LABEL_IMAGE])
      if (resolveImage !== 'always' && image === old.Spec?.Labels?.[LABEL_IMAGE]) cs.Image = old.Spec?.TaskTemplate?.ContainerSpec?.Image ?? image
      s.spec.TaskTemplate.ForceUpdate = old.Spec?.TaskTemplate?.ForceUpdate ?? 0
      if (old.Spec?.Networks?.length) { s.spec.Networks = s.spec.TaskTemplate.Networks; delete s.spec.TaskTemplate.Networks }
      try {
        const warnings = await resolveSpecImage(client, s.spec.TaskTemplate, queryRegistry, headers)
        const res = await client.json<{ Warnings?: string[] | null }>('POST', `/services/${encodeURIComponent(old.ID)}/update`, { query, body: s.spec, headers })
        for (const w of [...(res?.Warnings ?? []), ...warnings]) ctx.err.write(`${w}\n`)
      } catch (err) {
        if (err instanceof ApiError) throw new CliExit(1, `failed to update service ${s.name}: Error response from daemon: ${err.message}`)
        throw err
      }
      ids.push(old.ID)
    } else {
      ctx.out.write(`Creating service ${s.name}\n`)
      try {
        await resolveSpecImage(client, s.spec.TaskTemplate, resolveImage !== 'never', headers)
        const res = await client.json<{ ID: string }>('POST', '/services/create', { body: s.spec, headers })
        ids.push(res.ID)
      } catch (err) {
        if (err instanceof ApiError) throw new CliExit(1, `failed to create service ${s.name}: Error response from daemon: ${err.message}`)
        throw err
      }
    }
  }
  if (detach) return
  const errs: string[] = []
  for (const id of ids) {
    try { await waitOnService(ctx, id, !!f.quiet) } catch (err) {
      if (err instanceof ApiError) errs.push(`${id}: Error response from daemon: ${err.message}`)
      else if (err instanceof CliExit) errs.push(`${id}: ${err.message}`)
      else throw err
    }
  }
  if (errs.length) throw new CliExit(1, errs.join('\n'))
}

/** `stack config`: the merged, interpolated file docker would deploy (YAML). */
export async function config(ctx: CliContext): Promise<void> {
  const files = await load(ctx, 'stack', !ctx.flags['skip-interpolation'])
  const { stringify } = await import('yaml')
  const services: Json = {}
  for (const [k, raw] of Object.entries(files.rawServices)) services[k] = raw
  ctx.out.write(stringify({ version: '3.13', services }))
}

async function removeServices(ctx: CliContext, services: Json[]): Promise<boolean> {
  let failed = false
  for (const s of [...services].sort((a, b) => (a.Spec?.Name < b.Spec?.Name ? -1 : 1))) {
    ctx.out.write(`Removing service ${s.Spec?.Name}\n`)
    try { await ctx.client().call('DELETE', `/services/${encodeURIComponent(s.ID)}`).then((r) => r.resume()) } catch (err) {
      if (!(err instanceof ApiError)) throw err
      failed = true
      ctx.err.write(`Failed to remove service ${s.ID}: Error response from daemon: ${err.message}`)
    }
  }
  return failed
}

export async function rm(ctx: CliContext): Promise<void> {
  const client = ctx.client()
  const errs: string[] = []
  for (const ns of ctx.args) validateNamespace(ns)
  for (const ns of ctx.args) {
    const services = await listOf(client, 'services', ns)
    const networks = await listOf(client, 'networks', ns)
    const secrets = await listOf(client, 'secrets', ns)
    const configs = await listOf(client, 'configs', ns)
    if (services.length + networks.length + secrets.length + configs.length === 0) {
      ctx.err.write(`Nothing found in stack: ${ns}\n`)
      continue
    }
    let failed = await removeServices(ctx, services)
    const removeEach = async (list: Json[], kind: string, word: string, name: (o: Json) => string, id: (o: Json) => string) => {
      for (const o of list) {
        ctx.out.write(`Removing ${word} ${name(o)}\n`)
        try { await client.call('DELETE', `/${kind}/${encodeURIComponent(id(o))}`).then((r) => r.resume()) } catch (err) {
          if (!(err instanceof ApiError)) throw err
          failed = true
          ctx.err.write(`Failed to remove ${word} ${id(o)}: Error response from daemon: ${err.message}`)
        }
      }
    }
    await removeEach(secrets, 'secrets', 'secret', (o) => o.Spec?.Name, (o) => o.ID)
    await removeEach(configs, 'configs', 'config', (o) => o.Spec?.Name, (o) => o.ID)
    await removeEach(networks, 'networks', 'network', (o) => o.Name, (o) => o.Id)
    if (failed) { errs.push(`failed to remove some resources from stack: ${ns}`); continue }
    if (ctx.flags.detach === false) {
      // waitOnTasks: until every task of the stack has reached a terminal state
      for (;;) {
        const tasks = await listOf(client, 'tasks', ns)
        if (tasks.every((t) => ['complete', 'shutdown', 'failed', 'rejected', 'orphaned', 'remove'].includes(t.Status?.State))) break
        await new Promise((r) => setTimeout(r, 200))
      }
    }
  }
  if (errs.length) throw new CliExit(1, errs.join('\n'))
}

export async function ls(ctx: CliContext): Promise<void> {
  const services = await ctx.client().json<Json[]>('GET', '/services', { query: { filters: JSON.stringify({ label: [LABEL_NAMESPACE] }) } })
  const counts = new Map<string, number>()
  for (const s of services) {
    const ns = s.Spec?.Labels?.[LABEL_NAMESPACE] as string | undefined
    if (ns === undefined) throw new CliExit(1, `cannot get label ${LABEL_NAMESPACE} for service ${s.ID}`)
    counts.set(ns, (counts.get(ns) ?? 0) + 1)
  }
  const rows = [...counts].sort(([a], [b]) => naturalLess(a, b)).map(([Name, n]) => ({ Name, Services: String(n) }))
  let format = ctx.flags.format as string | undefined
  if (!format || format === 'table') format = 'table {{.Name}}\t{{.Services}}'
  await renderTable(ctx, { format, defaultFormat: 'table {{.Name}}\t{{.Services}}', headers: { Name: 'NAME', Services: 'SERVICES' }, rows })
}

export async function ps(ctx: CliContext): Promise<void> {
  const f = ctx.flags
  const ns = ctx.args[0]!
  validateNamespace(ns)
  const tasks = await listOf(ctx.client(), 'tasks', ns, filtersParam(f.filter as string[] | undefined))
  if (!tasks.length) throw new CliExit(1, `nothing found in stack: ${ns}`)
  await printTasks(ctx, tasks, { noTrunc: !!f['no-trunc'], noResolve: !!f['no-resolve'], quiet: !!f.quiet, format: f.format as string | undefined })
}

export async function services(ctx: CliContext): Promise<void> {
  const ns = ctx.args[0]!
  validateNamespace(ns)
  const filters = filtersParam(ctx.flags.filter as string[] | undefined)
  filters.label = [...(filters.label ?? []), `${LABEL_NAMESPACE}=${ns}`]
  const list = await ctx.client().json<Json[]>('GET', '/services', { query: { filters: JSON.stringify(filters) } })
  if (!list.length) { ctx.err.write(`Nothing found in stack: ${ns}\n`); return }
  await listServices(ctx, filters)
}
