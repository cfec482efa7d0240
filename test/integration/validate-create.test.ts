/**
 * Wrong JSON types never change a container's security nor get stored (issue 12): the Engine
 * API schema check answers Docker's 400 with Go's words, the string forms Docker accepts
 * (strslice CapDrop "ALL") take effect, and a refused body leaves no container, volume or network
 * behind, so `docker ps -a`, `inspect`, `volume ls` and `system df` keep working. Real clients:
 * the docker CLI, dockerode and docker-py.
 */
import { it } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import Docker from 'dockerode'
import { api, runCmd } from './harness.js'
import { dockerSuite } from './image-helpers.js'
import { busyboxDaemon, dockerT, listedContainerIds } from './container-helpers.js'

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any
const hasDockerPy = spawnSync('python3', ['-c', 'import docker'], { stdio: 'ignore' }).status === 0

dockerSuite('create validation: wrong JSON types (schema)', () => {
  const daemon = busyboxDaemon()
  const d = (...args: string[]) => dockerT(daemon.h, 30, ...args)
  const create = async (body: object) => {
    const r = await api(daemon.h, 'POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], ...body })
    return { status: r.status, message: (r.json() as Json).message as string | undefined, id: (r.json() as Json).Id as string | undefined }
  }
  const refused = async (body: object, message: string) => {
    assert.deepEqual(await create(body), { status: 400, message, id: undefined }, JSON.stringify(body))
    assert.deepEqual(await listedContainerIds(daemon.h), [], `a refused create stores nothing: ${JSON.stringify(body)}`)
  }
  const G = (what: string, field: string, type: string) => `invalid JSON: json: cannot unmarshal ${what} into Go struct field ${field} of type ${type}`

  it('"Privileged": "false" (a string) is refused, never a privileged container', async () => {
    await refused({ HostConfig: { Privileged: 'false' } }, G('string', 'HostConfig.HostConfig.Privileged', 'bool'))
    await refused({ HostConfig: { Privileged: 1 } }, G('number', 'HostConfig.HostConfig.Privileged', 'bool'))
    // Go matches struct keys case-insensitively, the last one winning.
    await refused({ hostconfig: { privileged: 'false' } }, G('string', 'HostConfig.HostConfig.Privileged', 'bool'))
    const c = await create({ HostConfig: { Privileged: true, privileged: false }, labels: { a: 'b' } })
    assert.equal(c.status, 201, c.message)
    const ins = (await api(daemon.h, 'GET', `/containers/${c.id}/json`)).json() as Json
    assert.equal(ins.HostConfig.Privileged, false)
    assert.deepEqual(ins.Config.Labels, { a: 'b' })
  })

  it('"User": 5 is refused (Docker never runs it as root)', async () => {
    await refused({ User: 5 }, G('number', 'CreateRequest.Config.User', 'string'))
  })

  it('"CapDrop": "ALL" as a string drops every capability, as Docker takes strslice\'s string form', async () => {
    await refused({ HostConfig: { CapAdd: 7 } }, G('number', 'HostConfig.HostConfig.CapAdd', 'string'))
    const c = await create({ Cmd: ['sh', '-c', 'grep CapEff /proc/self/status'], HostConfig: { CapDrop: 'ALL' } })
    assert.equal(c.status, 201, c.message)
    const ins = (await api(daemon.h, 'GET', `/containers/${c.id}/json`)).json() as Json
    assert.deepEqual(ins.HostConfig.CapDrop, ['ALL'])
    const start = await api(daemon.h, 'POST', `/containers/${c.id}/start`)
    assert.equal(start.status, 204, start.body.toString())
    await api(daemon.h, 'POST', `/containers/${c.id}/wait`)
    const logs = await d('logs', c.id!)
    assert.match(logs.stdout, /CapEff:\s+0000000000000000/)
  })

  it('labels, tmpfs and resource limits of the wrong type are 400, never stored; null list entries are Go\'s zero values (not 500)', async () => {
    await refused({ Labels: { a: 1 } }, G('number', 'CreateRequest.Config.Labels', 'string'))
    await refused({ HostConfig: { Tmpfs: { '/x': 5 } } }, G('number', 'HostConfig.HostConfig.Tmpfs', 'string'))
    await refused({ HostConfig: { Memory: 'lots' } }, G('string', 'HostConfig.HostConfig.Resources.Memory', 'int64'))
    await refused({ HostConfig: { Memory: 1.5 } }, G('number 1.5', 'HostConfig.HostConfig.Resources.Memory', 'int64'))
    await refused({ HostConfig: { Memory: 1e30 } }, G('number 1e30', 'HostConfig.HostConfig.Resources.Memory', 'int64'))
    await refused({ HostConfig: { CpuShares: 'x' } }, G('string', 'HostConfig.HostConfig.Resources.CpuShares', 'int64'))
    await refused({ HostConfig: { BlkioWeight: 70000 } }, G('number 70000', 'HostConfig.HostConfig.Resources.BlkioWeight', 'uint16'))
    await refused({ HostConfig: { Ulimits: [{ Name: 'nofile', Soft: 'x', Hard: 1 }] } }, G('string', 'Ulimit.HostConfig.Resources.Ulimits.Soft', 'int64'))
    await refused({ HostConfig: { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: '3' } } }, G('string', 'RestartPolicy.HostConfig.RestartPolicy.MaximumRetryCount', 'int'))
    await refused({ Env: 'A=1' }, G('string', 'CreateRequest.Config.Env', '[]string'))
    await refused({ ExposedPorts: { '80/tcp': 1 } }, G('number', 'CreateRequest.Config.ExposedPorts', 'struct {}'))
    await refused({ ExposedPorts: { 'garbage/tcp': {} } }, 'invalid port specification: "garbage"')
    await refused({ ExposedPorts: { '70000/tcp': {} } }, 'invalid port specification: "70000"')
    await refused({ HostConfig: { PortBindings: { '80/tcp': [{ HostPort: '99999' }] } } }, 'invalid port specification: "99999"')
    await refused({ HostConfig: { Memory: -1 } }, 'Minimum memory limit allowed is 6MB')
    const nulls = await create({ HostConfig: { Devices: [null], Ulimits: [null], Dns: null } })
    assert.equal(nulls.status, 201, nulls.message)
    const ins = (await api(daemon.h, 'GET', `/containers/${nulls.id}/json`)).json() as Json
    assert.deepEqual(ins.HostConfig.Devices, [])
    assert.deepEqual(ins.HostConfig.Ulimits, [])
  })

  it('a 5 MB create is accepted (Docker has no 4 MiB cap on create)', async () => {
    const c = await create({ Labels: { big: 'x'.repeat(5 << 20) } })
    assert.equal(c.status, 201, c.message)
    const ps = await d('ps', '-a', '--format', '{{.ID}}')
    assert.equal(ps.code, 0, ps.stderr)
  })

  it('volume and network labels of the wrong type are refused; volume ls, network ls, ps -a and system df keep working', async () => {
    const v = await api(daemon.h, 'POST', '/volumes/create', { Name: 'badlabels', Labels: { a: 1 } })
    assert.equal(v.status, 400)
    assert.equal((v.json() as Json).message, G('number', 'CreateOptions.Labels', 'string'))
    const n = await api(daemon.h, 'POST', '/networks/create', { Name: 'badlabels', Labels: { a: true } })
    assert.equal(n.status, 400)
    assert.equal((n.json() as Json).message, G('bool', 'CreateRequest.Labels', 'string'))
    const con = await api(daemon.h, 'POST', '/networks/bridge/connect', { Container: 5 })
    assert.equal(con.status, 400)
    assert.equal((con.json() as Json).message, G('number', 'ConnectOptions.Container', 'string'))
    for (const args of [['ps', '-a'], ['volume', 'ls'], ['network', 'ls'], ['system', 'df']]) {
      const r = await d(...args)
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
    }
    const vols = await d('volume', 'ls', '-q')
    assert.doesNotMatch(vols.stdout, /badlabels/)
    const nets = await d('network', 'ls', '--format', '{{.Name}}')
    assert.doesNotMatch(nets.stdout, /badlabels/)
  })

  it('update and exec create check their bodies too', async () => {
    const c = await create({})
    assert.equal(c.status, 201)
    const u = await api(daemon.h, 'POST', `/containers/${c.id}/update`, { CpuShares: 'x' })
    assert.equal(u.status, 400)
    assert.equal((u.json() as Json).message, G('string', 'UpdateConfig.Resources.CpuShares', 'int64'))
    const e = await api(daemon.h, 'POST', `/containers/${c.id}/exec`, { Cmd: ['true'], Privileged: 'false' })
    assert.equal(e.status, 400)
    assert.equal((e.json() as Json).message, G('string', 'ExecOptions.Privileged', 'bool'))
  })

  it('dockerode: Privileged "false", User 5 and Labels {a:1} are refused with 400; CapDrop "ALL" drops all; docker ps -a still works', async () => {
    const client = new Docker({ socketPath: daemon.h.socket })
    for (const opts of [{ HostConfig: { Privileged: 'false' } }, { User: 5 }, { Labels: { a: 1 } }]) {
      await assert.rejects(client.createContainer({ Image: 'busybox', Cmd: ['true'], ...(opts as object) }), (err: Json) => {
        assert.equal(err.statusCode, 400, String(err))
        assert.match(err.message, /invalid JSON: json: cannot unmarshal/)
        return true
      })
    }
    const c = await client.createContainer({ Image: 'busybox', Cmd: ['true'], HostConfig: { CapDrop: 'ALL' as unknown as string[] } })
    const ins = await c.inspect()
    assert.deepEqual(ins.HostConfig.CapDrop, ['ALL'])
    assert.deepEqual((await client.listContainers({ all: true })).map((x) => x.Id), [c.id])
    const ps = await d('ps', '-a')
    assert.equal(ps.code, 0, ps.stderr)
  })

  it('docker-py: wrong types raise APIError 400 and store nothing', { skip: hasDockerPy ? false : 'python3 docker (docker-py) is not installed' }, async () => {
    const script = `
import docker, sys
c = docker.APIClient(base_url='unix://${daemon.h.socket}', version='1.43')
# (docker-py turns an int user into a string itself, so User 5 is the dockerode case)
bad = [dict(host_config={'Privileged': 'false'}), dict(labels={'a': 1}), dict(host_config={'Memory': 'lots'})]
for kw in bad:
    try:
        c.create_container('busybox', 'true', **kw)
        print('CREATED', kw); sys.exit(1)
    except docker.errors.APIError as e:
        assert e.status_code == 400, (kw, e.status_code, e.explanation)
        assert 'cannot unmarshal' in str(e.explanation), e.explanation
hc = c.create_host_config(cap_drop='ALL')
r = c.create_container('busybox', 'true', host_config=hc)
assert c.inspect_container(r['Id'])['HostConfig']['CapDrop'] == ['ALL']
assert [x['Id'] for x in c.containers(all=True)] == [r['Id']]
print('OK')
`
    const r = await runCmd('python3', ['-c', script], { timeoutMs: 60_000 })
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.equal(r.stdout.trim(), 'OK')
  })
})
