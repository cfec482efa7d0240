import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { ContainerBackend, ContainerRecord, ContainerView, CreateContainerRequest } from '../backend.js'
import { conflict, invalid, notFound } from '../../lib/errors.js'
import { fake, serveRoutes } from '../testing.js'
import { containerRoutes, parsePsFilters } from './containers.js'
import { fromWireCreate } from '../wire-containers.js'

/** An in-memory container backend: records made from create requests, a state per container. */
function memoryContainers() {
  const byId = new Map<string, ContainerRecord>()
  const resolve = (ref: string) => {
    const c = byId.get(ref) ?? [...byId.values()].find((x) => x.name === ref)
    if (!c) throw notFound('ERR_CONTAINER_NOT_FOUND', `No such container: ${ref}`)
    return c
  }
  let n = 0
  const b = fake<ContainerBackend>({
    async create(req: CreateContainerRequest) {
      const id = String(++n).padStart(64, 'a')
      const rec = {
        id, name: req.name ?? `c${n}`, created: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
        imageRef: req.config.image, imageId: `sha256:${'b'.repeat(64)}`, imageTopLayer: '', path: 'sh', args: [],
        config: req.config, hostConfig: req.hostConfig, restartCount: 0, runtime: 'crun', logPath: `/x/${id}/container.log`,
        state: { status: 'created', pid: 0, exitCode: 0, error: '', oomKilled: false, startedAt: '0001-01-01T00:00:00Z', finishedAt: '0001-01-01T00:00:00Z', monitorPid: 0, stoppedByUser: false },
      } as unknown as ContainerRecord
      byId.set(id, rec)
      return { id, warnings: req.hostConfig.memory && req.hostConfig.memory < 6 * 1024 * 1024 ? ['Minimum memory limit allowed is 6MB'] : [] }
    },
    async start(ref) {
      const c = resolve(ref)
      if (c.state.status === 'running') return 'already-running'
      c.state.status = 'running'
      return 'started'
    },
    async stop(ref) {
      const c = resolve(ref)
      if (c.state.status !== 'running') return 'not-running'
      c.state.status = 'exited'
      return 'stopped'
    },
    async inspect(ref) { return { container: { record: resolve(ref) }, execIds: [] } },
    async list(opts): Promise<ContainerView[]> {
      return [...byId.values()].filter((c) => opts.all || c.state.status === 'running').map((record) => ({ record }))
    },
    async remove(ref) {
      const c = resolve(ref)
      if (c.state.status === 'running') throw conflict('ERR_CONTAINER_RUNNING', `cannot remove container "/${c.name}": container is running: stop the container before removing or force remove`)
      byId.delete(c.id)
    },
  })
  return b
}

async function withRoutes(b: ContainerBackend, fn: (h: Awaited<ReturnType<typeof serveRoutes>>) => Promise<void>) {
  const h = await serveRoutes((r) => containerRoutes(r, b))
  try { await fn(h) } finally { await h.close() }
}

test('create maps the body to the domain config and answers 201 with Id and Warnings', async () => {
  const b = memoryContainers()
  await withRoutes(b, async (h) => {
    const res = await h.request('POST', '/v1.45/containers/create?name=web', { Image: 'busybox', Cmd: ['sleep', '1'], Env: ['A=1'], Labels: { l: 'v' }, HostConfig: { Memory: 4 * 1024 * 1024, RestartPolicy: { Name: 'always' } } })
    assert.equal(res.status, 201)
    const body = res.json()
    assert.match(body.Id, /^[0-9a-f]{64}$/)
    assert.deepEqual(body.Warnings, ['Minimum memory limit allowed is 6MB'])
    const call = b.calls.find((c) => c.method === 'create')!
    const req = call.args[0] as CreateContainerRequest
    assert.equal(req.name, 'web')
    assert.equal(req.config.image, 'busybox')
    assert.deepEqual(req.config.cmd, ['sleep', '1'])
    assert.deepEqual(req.config.env, ['A=1'])
    assert.deepEqual(req.config.labels, { l: 'v' })
    assert.equal(req.hostConfig.memory, 4 * 1024 * 1024)
    assert.equal(req.hostConfig.restartPolicy.name, 'always')
    assert.equal(req.platform, undefined)
  })
})

test('create refuses a body without an image before calling the backend', async () => {
  const b = memoryContainers()
  await withRoutes(b, async (h) => {
    const res = await h.request('POST', '/containers/create', { Cmd: ['true'] })
    assert.equal(res.status, 400)
    assert.equal(res.json().message, 'No image was specified')
    assert.equal(b.calls.length, 0)
  })
})

test('start answers 204, then 304 when the container is already running; stop 304 when it is not', async () => {
  const b = memoryContainers()
  await withRoutes(b, async (h) => {
    const { Id } = (await h.request('POST', '/containers/create', { Image: 'busybox' })).json()
    assert.equal((await h.request('POST', `/containers/${Id}/start`)).status, 204)
    assert.equal((await h.request('POST', `/containers/${Id}/start`)).status, 304)
    assert.equal((await h.request('POST', `/containers/${Id}/stop`)).status, 204)
    assert.equal((await h.request('POST', `/containers/${Id}/stop`)).status, 304)
  })
})

test('error kinds map to statuses with the message as Docker words it', async () => {
  const b = memoryContainers()
  await withRoutes(b, async (h) => {
    const missing = await h.request('POST', '/containers/nope/start')
    assert.equal(missing.status, 404)
    assert.deepEqual(missing.json(), { message: 'No such container: nope' })
    const { Id } = (await h.request('POST', '/containers/create?name=busy', { Image: 'busybox' })).json()
    await h.request('POST', `/containers/${Id}/start`)
    const running = await h.request('DELETE', '/containers/busy')
    assert.equal(running.status, 409)
    assert.match(running.json().message, /container is running/)
    const unsupported = await h.request('POST', '/containers/busy/start?checkpoint=x')
    assert.equal(unsupported.status, 501)
    // A method the backend does not implement is NotImplemented too: the kind decides, not the route.
    assert.equal((await h.request('GET', '/containers/busy/top')).status, 501)
  })
})

test('ps filters are parsed, checked with Docker messages and passed typed', async () => {
  const b = memoryContainers()
  await withRoutes(b, async (h) => {
    const q = (f: unknown) => `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify(f))}`
    const bad = async (f: unknown, message: string) => {
      const res = await h.request('GET', q(f))
      assert.equal(res.status, 400, JSON.stringify(f))
      assert.equal(res.json().message, message)
    }
    await bad({ colour: ['red'] }, "invalid filter 'colour'")
    await bad({ status: ['sleeping'] }, "invalid filter 'status=sleeping'")
    await bad({ health: ['sick'] }, 'Unrecognised filter value for health: sick')
    await bad({ exited: ['zero'] }, 'strconv.Atoi: parsing "zero": invalid syntax')
    assert.equal((await h.request('GET', '/containers/json?filters=notjson')).json().message, 'invalid filter')
    assert.equal(b.calls.filter((c) => c.method === 'list').length, 0)
    const ok = await h.request('GET', `${q({ status: ['exited', 'created'], exited: ['0', '137'], label: { a: true }, name: ['web'] })}&limit=3&size=1`)
    assert.equal(ok.status, 200)
    const call = b.calls.find((c) => c.method === 'list')!
    assert.deepEqual(call.args[0], { all: true, limit: 3, size: true, filters: { status: ['exited', 'created'], exited: [0, 137], label: ['a'], name: ['web'] } })
  })
})

test('list maps records to the wire summary, sizes included when asked', async () => {
  const b = memoryContainers()
  await withRoutes(b, async (h) => {
    const { Id } = (await h.request('POST', '/containers/create?name=one', { Image: 'busybox', Labels: { x: 'y' } })).json()
    await h.request('POST', `/containers/${Id}/start`)
    const list = (await h.request('GET', '/containers/json')).json()
    assert.equal(list.length, 1)
    assert.equal(list[0].Id, Id)
    assert.deepEqual(list[0].Names, ['/one'])
    assert.equal(list[0].State, 'running')
    assert.deepEqual(list[0].Labels, { x: 'y' })
    assert.equal(list[0].SizeRw, undefined)
  })
})

test('prune passes label, label! and until; wait answers 404 before its headers', async () => {
  const b = fake<ContainerBackend>({
    prune: async () => ({ deleted: [], spaceReclaimed: 0 }),
    wait: async (ref) => { throw notFound('ERR_CONTAINER_NOT_FOUND', `No such container: ${ref}`) },
  })
  await withRoutes(b, async (h) => {
    const f = encodeURIComponent(JSON.stringify({ label: ['a=b'], 'label!': ['keep'], until: ['10m'] }))
    const res = await h.request('POST', `/containers/prune?filters=${f}`)
    assert.deepEqual(res.json(), { ContainersDeleted: null, SpaceReclaimed: 0 })
    assert.deepEqual(b.calls[0]!.args[0], { label: ['a=b'], labelNot: ['keep'], until: ['10m'] })
    assert.equal((await h.request('POST', `/containers/prune?filters=${encodeURIComponent('{"name":["x"]}')}`)).json().message, "invalid filter 'name'")
    const w = await h.request('POST', '/containers/ghost/wait')
    assert.equal(w.status, 404)
    assert.equal(w.json().message, 'No such container: ghost')
  })
})

test('update maps the body and passes the restart policy through to the engine, which checks it', async () => {
  const engineWords = "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"
  const b = fake<ContainerBackend>({
    update: async (_ref, u) => {
      if (u.restartPolicy?.name === ('sometimes' as string)) throw invalid('ERR_RESTART_POLICY', engineWords)
      return { warnings: [] }
    },
  })
  await withRoutes(b, async (h) => {
    const res = await h.request('POST', '/containers/x/update', { Memory: 1 << 24, CpusetCpus: '0', RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 } })
    assert.deepEqual(res.json(), { Warnings: null })
    assert.deepEqual(b.calls[0]!.args, ['x', { memory: 1 << 24, cpusetCpus: '0', restartPolicy: { name: 'on-failure', maximumRetryCount: 2 } }])
    // The route does not judge the policy: it hands it to the backend as asked, retry count included.
    const bad = await h.request('POST', '/containers/x/update', { RestartPolicy: { Name: 'sometimes', MaximumRetryCount: 3 } })
    assert.deepEqual(b.calls[1]!.args, ['x', { restartPolicy: { name: 'sometimes', maximumRetryCount: 3 } }])
    assert.equal(bad.status, 400)
    assert.equal(bad.json().message, engineWords)
    const type = await h.request('POST', '/containers/x/update', { Memory: '1g' })
    assert.equal(type.json().message, 'invalid JSON: json: cannot unmarshal string into Go struct field UpdateConfig.Resources.Memory of type int64')
  })
})

test('resize passes the size and the backend conflict (not running) is a 409', async () => {
  const b = fake<ContainerBackend>({ resize: async (ref) => { throw conflict('ERR_NOT_RUNNING', `Container ${ref} is not running`) } })
  await withRoutes(b, async (h) => {
    const res = await h.request('POST', '/containers/abc/resize?h=40&w=120')
    assert.equal(res.status, 409)
    assert.deepEqual(b.calls[0]!.args, ['abc', { height: 40, width: 120 }])
  })
})

test('parsePsFilters leaves absent keys out and keeps an empty list as a filter that matches nothing', () => {
  assert.deepEqual(parsePsFilters(null), {})
  assert.deepEqual(parsePsFilters('{"status":[]}'), { status: [] })
  assert.deepEqual(parsePsFilters('{"is-task":["true"],"isolation":["default"]}'), {})
  // The legacy map form.
  assert.deepEqual(parsePsFilters('{"id":{"abc":true,"def":false}}'), { id: ['abc'] })
  assert.ok(fromWireCreate({ Image: 'x' }).config.image === 'x')
})
