import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { ContainerInspect, ContainerSummary } from '../client/types.js'
import { L, serviceHash, toCreateRequest } from './convert.js'
import type { ProjectModel, ServiceConfig } from './model.js'
import { planUp } from './plan.js'

const svc = (name: string, extra: Partial<ServiceConfig> = {}): ServiceConfig => ({ name, image: 'busybox', environment: {}, ports: [], volumes: [], depends_on: {}, labels: {}, networks: { default: null }, ...extra })

function model(services: ServiceConfig[]): ProjectModel {
  return {
    name: 'app', workingDir: '/w', configFiles: ['/w/compose.yaml'], environment: {},
    services: Object.fromEntries(services.map((s) => [s.name, s])), disabled: {},
    networks: { default: { name: 'app_default' } }, volumes: {}, secrets: {}, configs: {}, extensions: {},
  }
}

function container(p: ProjectModel, s: ServiceConfig, n: number, state: ContainerSummary['State'] = 'running', hash = serviceHash(s)): ContainerSummary {
  return {
    Id: `${s.name}${n}`.padEnd(64, '0'), Names: [`/app-${s.name}-${n}`], Image: 'busybox', ImageID: 'sha256:img', Command: '', Created: 0, State: state, Status: '', Ports: [],
    Labels: { [L.project]: 'app', [L.service]: s.name, [L.number]: String(n), [L.oneoff]: 'False', [L.hash]: hash },
  }
}

const images = new Map([['busybox', 'sha256:img']])

describe('planUp', () => {
  it('creates what is missing: network, then each replica', () => {
    const p = model([svc('web', { scale: 2 }), svc('db')])
    const plan = planUp(p, { containers: [], networks: [], volumes: [] }, { images })
    assert.equal(plan.toString(), [
      'network app_default: create, not found',
      'web-1: create, not found',
      'web-2: create, not found',
      'db-1: create, not found',
    ].join('\n'))
  })

  it('a second up with nothing changed touches nothing', () => {
    const web = svc('web')
    const p = model([web])
    const plan = planUp(p, { containers: [container(p, web, 1)], networks: [{ Name: 'app_default' } as never], volumes: [] }, { images })
    assert.equal(plan.changes, false)
    assert.equal(plan.toString(), 'web-1: unchanged, running')
  })

  it('recreates only the service whose config changed, and names what changed', () => {
    const web = svc('web', { environment: { FOO: 'new' } })
    const db = svc('db')
    const p = model([web, db])
    const oldWeb = container(p, web, 1, 'running', 'stale')
    const inspect = { Id: oldWeb.Id, Config: { Env: ['FOO=old', 'PATH=/bin'], Labels: {}, Image: 'busybox', Cmd: null }, HostConfig: {} } as unknown as ContainerInspect
    const plan = planUp(p, { containers: [oldWeb, container(p, db, 1)], networks: [{ Name: 'app_default' } as never], volumes: [] }, { images, inspects: new Map([[oldWeb.Id, inspect]]) })
    assert.equal(plan.toString(), 'web-1: recreate, config changed: environment.FOO\ndb-1: unchanged, running')
  })

  it('starts stopped containers, scales down from the top, removes orphans on request', () => {
    const web = svc('web', { scale: 1 })
    const p = model([web])
    const gone = { ...container(p, svc('old'), 1) }
    const plan = planUp(p, { containers: [container(p, web, 1, 'exited'), container(p, web, 2), container(p, web, 3), gone], networks: [{ Name: 'app_default' } as never], volumes: [] }, { images, removeOrphans: true })
    assert.equal(plan.toString(), [
      'web-1: start, container is exited',
      'app-web-3: remove, scale 1',
      'app-web-2: remove, scale 1',
      'app-old-1: remove, orphan container (service not in the project)',
    ].join('\n'))
  })

  it('pulls a missing image, builds a buildable one, honours --force-recreate and --no-recreate', () => {
    const web = svc('web', { image: 'nginx' })
    const api = svc('api', { image: undefined, build: { context: '/w/api' } })
    const p = model([web, api])
    const plan = planUp(p, { containers: [], networks: [{ Name: 'app_default' } as never], volumes: [] }, { images: new Map() })
    assert.match(plan.toString(), /^image nginx: pull, image not found \(service web\)$/m)
    assert.match(plan.toString(), /^image app-api: build, image not found \(service api\)$/m)
    const one = svc('one')
    const p2 = model([one])
    const obs = { containers: [container(p2, one, 1, 'running', 'stale')], networks: [{ Name: 'app_default' } as never], volumes: [] }
    assert.equal(planUp(p2, obs, { images, noRecreate: true }).toString(), 'one-1: unchanged, running')
    assert.equal(planUp(model([svc('one')]), { ...obs, containers: [container(p2, one, 1)] }, { images, forceRecreate: true }).toString(), 'one-1: recreate, --force-recreate')
  })
})

describe('toCreateRequest', () => {
  it('maps a service to the Engine API with compose v2 labels and names', () => {
    const s = svc('web', {
      ports: [{ mode: 'ingress', target: 80, published: '8080', protocol: 'tcp' }],
      volumes: [{ type: 'volume', source: 'data', target: '/data' }, { type: 'bind', source: '/h', target: '/c', read_only: true, bind: { create_host_path: true } }],
      environment: { A: '1', UNSET: null }, restart: 'on-failure:3', mem_limit: 1 << 20, cpus: 0.5,
      healthcheck: { test: ['CMD', 'true'], interval: 1e9, start_interval: 2e8 },
      depends_on: { db: { condition: 'service_healthy', restart: true, required: true } },
    })
    const p = model([s])
    p.volumes.data = { name: 'app_data' }
    const { body, name } = toCreateRequest(p, s, { containerOf: () => undefined, number: 1, hash: 'h' })
    assert.equal(name, 'app-web-1')
    assert.deepEqual(body.Env, ['A=1'])
    assert.equal(body.Labels![L.dependsOn], 'db:service_healthy:true')
    assert.equal(body.Labels![L.number], '1')
    assert.deepEqual(body.HostConfig!.PortBindings, { '80/tcp': [{ HostIp: '', HostPort: '8080' }] })
    assert.deepEqual(body.HostConfig!.Binds, ['/h:/c:ro'])
    assert.deepEqual(body.HostConfig!.Mounts, [{ Type: 'volume', Source: 'app_data', Target: '/data', ReadOnly: false }])
    assert.deepEqual(body.HostConfig!.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 })
    assert.equal(body.HostConfig!.NanoCpus, 5e8)
    assert.deepEqual(body.Healthcheck, { Test: ['CMD', 'true'], Interval: 1e9, StartInterval: 2e8 })
    assert.equal(body.HostConfig!.NetworkMode, 'app_default')
    assert.deepEqual(body.NetworkingConfig!.EndpointsConfig!.app_default!.Aliases, ['web'])
  })
})
