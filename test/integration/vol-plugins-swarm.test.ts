/**
 * Volumes, plugins and the swarm API of a node outside swarm mode, as real clients see them on
 * Docker: the docker CLI, docker-py (python3 `import docker`) and dockerode. Volume prune at
 * API >= 1.42 removes anonymous volumes only (a volume created without a name is anonymous)
 * unless all=true, and `VolumesDeleted` is a list, never null; `GET /plugins` is `[]` and a
 * named plugin is dockerd's 404; a missing volume driver is dockerd's 404; every swarm, node,
 * service, task, secret and config request is dockerd's 503.
 */
import { after, before, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import Docker from 'dockerode'
import { api, runCmd, startDaemon, type DaemonHandle } from './harness.js'
import { dockerSuite } from './image-helpers.js'

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any

const NOT_MANAGER = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.'
const NOT_IN_SWARM = 'This node is not part of a swarm'
const hasDockerPy = spawnSync('python3', ['-c', 'import docker'], { stdio: 'ignore' }).status === 0

dockerSuite('volumes, plugins and swarm outside swarm mode, with real clients', () => {
  let h: DaemonHandle
  let dockerode: Docker
  const d = (...args: string[]) => runCmd('docker', args, { host: h.host, timeoutMs: 30_000 })
  const py = (code: string) => runCmd('python3', ['-c', `import docker, json, sys\nc = docker.DockerClient(base_url=${JSON.stringify(h.host)}, version='auto')\n${code}`], { timeoutMs: 60_000 })

  before(async () => {
    h = await startDaemon()
    dockerode = new Docker({ socketPath: h.socket })
  })
  after(async () => {
    if (h) await h.cleanup()
  })

  it('volume prune at API >= 1.42 removes only anonymous volumes unless all=true; VolumesDeleted is [] not null', async () => {
    assert.equal((await d('volume', 'create', 'named1')).code, 0)
    const anon = (await api(h, 'POST', '/volumes/create', {})).json() as Json
    assert.deepEqual(anon.Labels, { 'com.docker.volume.anonymous': '' }, 'a volume created without a name carries the anonymous label')
    const anon2 = (await api(h, 'POST', '/v1.41/volumes/create', { Labels: { a: 'b' } })).json() as Json
    assert.equal(anon2.Labels['com.docker.volume.anonymous'], '')

    const p = await d('volume', 'prune', '-f')
    assert.equal(p.code, 0, p.stderr)
    assert.match(p.stdout, new RegExp(anon.Name))
    assert.doesNotMatch(p.stdout, /named1/)
    const names = (await d('volume', 'ls', '-q')).stdout.split('\n').filter(Boolean)
    assert.deepEqual(names, ['named1'], 'the named volume stays')

    const empty = await api(h, 'POST', '/volumes/prune')
    assert.equal(empty.status, 200)
    assert.deepEqual((empty.json() as Json).VolumesDeleted, [], 'nothing pruned is [], never null')

    // docker-py and dockerode see a list too.
    if (hasDockerPy) {
      const r = await py('print(json.dumps(c.volumes.prune()))')
      assert.equal(r.code, 0, r.stderr)
      assert.deepEqual(JSON.parse(r.stdout).VolumesDeleted, [])
    }
    assert.deepEqual(((await dockerode.pruneVolumes()) as Json).VolumesDeleted, [])

    // all=true takes named ones; API < 1.42 took every unused volume.
    const all = await d('volume', 'prune', '-f', '--all')
    assert.equal(all.code, 0, all.stderr)
    assert.match(all.stdout, /named1/)
    assert.equal((await d('volume', 'create', 'named2')).code, 0)
    const old = await api(h, 'POST', '/v1.41/volumes/prune')
    assert.deepEqual((old.json() as Json).VolumesDeleted, ['named2'])
  })

  it('a missing volume driver is dockerd\'s 404', async () => {
    const r = await d('volume', 'create', '--driver', 'missingdriver', 'vx')
    assert.equal(r.code, 1)
    assert.equal(r.stderr.trim(), 'Error response from daemon: create vx: error looking up volume plugin missingdriver: plugin "missingdriver" not found')
    const a = await api(h, 'POST', '/volumes/create', { Name: 'vy', Driver: 'missingdriver' })
    assert.equal(a.status, 404)
    assert.equal((a.json() as Json).message, 'create vy: error looking up volume plugin missingdriver: plugin "missingdriver" not found')
    assert.equal((await api(h, 'GET', '/volumes/vy')).status, 404, 'nothing is stored')
    if (hasDockerPy) {
      const p = await py(`try:\n  c.volumes.create(name='vz', driver='missingdriver')\n  print('created')\nexcept docker.errors.NotFound as e:\n  print('notfound', e.explanation)`)
      assert.equal(p.code, 0, p.stderr)
      assert.equal(p.stdout.trim(), 'notfound create vz: error looking up volume plugin missingdriver: plugin "missingdriver" not found')
    }
  })

  it('plugins answer as a Docker with none installed', async () => {
    const ls = await api(h, 'GET', '/plugins')
    assert.equal(ls.status, 200)
    assert.deepEqual(ls.json(), [])
    assert.deepEqual(await dockerode.listPlugins(), [])
    const cli = await d('plugin', 'ls', '--format', '{{.Name}}')
    assert.equal(cli.code, 0, cli.stderr)
    assert.equal(cli.stdout, '')
    for (const [method, path] of [['GET', '/plugins/x/json'], ['DELETE', '/plugins/x'], ['POST', '/plugins/x/enable'], ['POST', '/plugins/x/disable'], ['POST', '/plugins/x/set'], ['POST', '/plugins/vieux/sshfs:latest/push']] as const) {
      const r = await api(h, method, path, method === 'POST' && path.endsWith('/set') ? [] : undefined)
      assert.equal(r.status, 404, `${method} ${path}`)
      const name = path.split('/').slice(2, -1).join('/') || 'x'
      assert.equal((r.json() as Json).message, `plugin "${method === 'DELETE' ? 'x' : name}" not found`, `${method} ${path}`)
    }
    const insp = await d('plugin', 'inspect', 'nosuch')
    assert.equal(insp.code, 1)
    assert.match(insp.stderr, /plugin "nosuch" not found|No such plugin: nosuch/)
    if (hasDockerPy) {
      const p = await py(`print(json.dumps(c.plugins.list()))\ntry:\n  c.plugins.get('nosuch')\nexcept docker.errors.NotFound as e:\n  print(e.explanation)`)
      assert.equal(p.code, 0, p.stderr)
      assert.deepEqual(p.stdout.trim().split('\n'), ['[]', 'plugin "nosuch" not found'])
    }
  })

  it('outside swarm mode every swarm endpoint is dockerd\'s 503, never 404 or 501', async () => {
    const paths: Array<[string, string]> = [
      ['GET', '/swarm'], ['POST', '/swarm/update?version=1'], ['GET', '/swarm/unlockkey'], ['POST', '/swarm/unlock'],
      ['GET', '/nodes'], ['GET', '/nodes/n1'], ['DELETE', '/nodes/n1'], ['POST', '/nodes/n1/update?version=1'],
      ['GET', '/services'], ['POST', '/services/create'], ['GET', '/services/s1'], ['DELETE', '/services/s1'], ['POST', '/services/s1/update?version=1'], ['GET', '/services/s1/logs?stdout=1'],
      ['GET', '/tasks'], ['GET', '/tasks/t1'], ['GET', '/tasks/t1/logs?stdout=1'],
      ['GET', '/secrets'], ['POST', '/secrets/create'], ['GET', '/secrets/x'], ['DELETE', '/secrets/x'], ['POST', '/secrets/x/update?version=1'],
      ['GET', '/configs'], ['POST', '/configs/create'], ['GET', '/configs/x'], ['DELETE', '/configs/x'], ['POST', '/configs/x/update?version=1'],
    ]
    for (const [method, path] of paths) {
      for (const prefix of ['', '/v1.41']) {
        const r = await api(h, method, prefix + path, method === 'POST' ? {} : undefined)
        assert.equal(r.status, 503, `${method} ${prefix}${path}: ${r.body.toString()}`)
        assert.equal((r.json() as Json).message, NOT_MANAGER, `${method} ${prefix}${path}`)
      }
    }
    // As moby: the body is decoded before the node's state is looked at (a wrongly typed one is 400
    // in Go's words, even outside swarm mode); a well-typed but invalid spec still gets the 503.
    const typed = await api(h, 'POST', '/services/create', { Mode: { Replicated: { Replicas: 'two' } } })
    assert.equal(typed.status, 400, typed.body.toString())
    assert.match((typed.json() as Json).message, /^invalid JSON: json: cannot unmarshal string into Go struct field .*Replicas of type uint64$/)
    const twoModes = await api(h, 'POST', '/services/create', { Name: 'x', Mode: { Global: {}, Replicated: { Replicas: 2 } } })
    assert.equal(twoModes.status, 503, twoModes.body.toString())
    assert.equal((twoModes.json() as Json).message, NOT_MANAGER)
    const leave = await api(h, 'POST', '/swarm/leave?force=1')
    assert.equal(leave.status, 503)
    assert.equal((leave.json() as Json).message, NOT_IN_SWARM)

    // The docker CLI: Docker's words and exit codes.
    for (const args of [['service', 'ls'], ['node', 'ls'], ['secret', 'ls'], ['config', 'ls'], ['service', 'ps', 'x'], ['swarm', 'unlock-key'],
      ['service', 'create', '--detach', '--no-resolve-image', '--name', 'web', 'busybox'], ['service', 'inspect', 'web'], ['service', 'rm', 'web'],
      ['node', 'inspect', 'self'], ['swarm', 'join-token', 'worker'], ['config', 'inspect', 'x']]) {
      const r = await d(...args)
      assert.equal(r.code, 1, `docker ${args.join(' ')}: ${r.stdout}${r.stderr}`)
      // The CLI prefixes some (unlock-key: "could not fetch unlock key: "), as it does on Docker.
      assert.ok(r.stderr.trim().endsWith(`Error response from daemon: ${NOT_MANAGER}`), `docker ${args.join(' ')}: ${r.stderr}`)
    }
    const l = await d('swarm', 'leave')
    assert.equal(l.code, 1)
    assert.equal(l.stderr.trim(), `Error response from daemon: ${NOT_IN_SWARM}`)

    // dockerode and docker-py read the same statuses.
    await assert.rejects(dockerode.listServices(), (e: Json) => e.statusCode === 503 && e.json?.message === NOT_MANAGER)
    await assert.rejects(dockerode.listNodes(), (e: Json) => e.statusCode === 503)
    await assert.rejects(dockerode.swarmLeave({ force: true }), (e: Json) => e.statusCode === 503 && e.json?.message === NOT_IN_SWARM)
    if (hasDockerPy) {
      const p = await py(`for f in (c.services.list, c.nodes.list, c.secrets.list, c.configs.list, c.swarm.reload):\n  try:\n    f()\n    print('ok')\n  except docker.errors.APIError as e:\n    print(e.status_code, e.explanation)\n# docker-py reads Docker's exact "not part of a swarm" 503 on a forced leave as success.\nprint('leave', c.swarm.leave(force=True))`)
      assert.equal(p.code, 0, p.stderr)
      assert.deepEqual(p.stdout.trim().split('\n'), [...Array(5).fill(`503 ${NOT_MANAGER}`), 'leave True'])
    }
  })
})
