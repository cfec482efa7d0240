/**
 * Issue 12, networks: what a client asks for a container's endpoint is kept and shown in inspect
 * as dockerd shows it, with every docker-py on the machine (pyenv's and Debian's python3-docker)
 * and the raw API:
 * - `IPAMConfig.LinkLocalIPs` and `DriverOpts` (as sent: `{}` stays `{}`, absent is null), at
 *   create and at `network connect`, and connect's `Links`;
 * - at API < 1.45 a user-defined network's `Aliases` also carry the short ID and the hostname
 *   (moby's inspect), at the current API only what was asked.
 */
import { after, before, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { api, fixture, runCmd, startDaemon, type DaemonHandle } from './harness.js'
import { dockerSuite } from './image-helpers.js'
import { dockerT } from './container-helpers.js'

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any

/** Every python3 on the machine that has docker-py, once per docker-py version. */
const dockerPys = (() => {
  const seen = new Map<string, string>()
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', 'import docker; print(docker.__version__)'], { encoding: 'utf8' })
    if (r.status === 0 && !seen.has(r.stdout.trim())) seen.set(r.stdout.trim(), py)
  }
  return [...seen.entries()]
})()

dockerSuite('networks: endpoint settings kept and shown as dockerd shows them', () => {
  let h: DaemonHandle

  before(async () => {
    h = await startDaemon()
    const r = await dockerT(h, 60, 'load', '-i', await fixture('busybox'))
    assert.equal(r.code, 0, r.stderr)
    assert.equal((await api(h, 'POST', '/networks/create', { Name: 'epnet' })).status, 201)
  })
  after(async () => {
    if (h) {
      await dockerT(h, 30, 'rm', '-f', 'ep1', 'ep2')
      await h.cleanup()
    }
  })

  it('LinkLocalIPs and DriverOpts at create; Aliases with the short ID and hostname below API 1.45', async () => {
    const c = await api(h, 'POST', '/containers/create?name=ep1', {
      Image: 'busybox', Cmd: ['sleep', '300'], Hostname: 'ephost',
      HostConfig: { NetworkMode: 'epnet' },
      NetworkingConfig: { EndpointsConfig: { epnet: { Aliases: ['web'], IPAMConfig: { LinkLocalIPs: ['169.254.8.8'] }, DriverOpts: { 'com.example.opt': 'on' } } } },
    })
    assert.equal(c.status, 201, c.body.toString())
    const id = (c.json() as Json).Id as string
    const cur = ((await api(h, 'GET', '/containers/ep1/json')).json() as Json).NetworkSettings.Networks.epnet
    assert.deepEqual(cur.IPAMConfig, { LinkLocalIPs: ['169.254.8.8'] })
    assert.deepEqual(cur.DriverOpts, { 'com.example.opt': 'on' })
    assert.deepEqual(cur.Aliases, ['web'], 'at the current API only the asked aliases')
    const old = ((await api(h, 'GET', '/v1.44/containers/ep1/json')).json() as Json).NetworkSettings.Networks.epnet
    assert.deepEqual(old.Aliases, ['web', id.slice(0, 12), 'ephost'], 'below 1.45: the short ID and the hostname too')
    assert.equal((await api(h, 'POST', '/containers/ep1/start')).status, 204)
    const running = ((await api(h, 'GET', '/v1.44/containers/ep1/json')).json() as Json).NetworkSettings.Networks.epnet
    assert.deepEqual(running.Aliases, ['web', id.slice(0, 12), 'ephost'])
    assert.deepEqual(running.IPAMConfig, { LinkLocalIPs: ['169.254.8.8'] }, 'kept once running')
  })

  it('network connect keeps Links, LinkLocalIPs and an empty DriverOpts as {}', async () => {
    assert.equal((await dockerT(h, 30, 'create', '--name', 'ep2', 'busybox', 'sleep', '300')).code, 0)
    const r = await api(h, 'POST', '/networks/epnet/connect', { Container: 'ep2', EndpointConfig: { Links: ['ep1:db'], DriverOpts: {}, IPAMConfig: { LinkLocalIPs: ['169.254.9.9'] } } })
    assert.equal(r.status, 200, r.body.toString())
    const ep = ((await api(h, 'GET', '/containers/ep2/json')).json() as Json).NetworkSettings.Networks.epnet
    assert.deepEqual(ep.Links, ['ep1:db'])
    assert.deepEqual(ep.DriverOpts, {})
    assert.deepEqual(ep.IPAMConfig, { LinkLocalIPs: ['169.254.9.9'] })
    const bridge = ((await api(h, 'GET', '/containers/ep2/json')).json() as Json).NetworkSettings.Networks.bridge
    assert.equal(bridge.DriverOpts, null, 'nothing sent is null')
  })

  for (const [version, py] of dockerPys) {
    it(`docker-py ${version} (${py}): link_local_ips and aliases read back`, async () => {
      const script = [
        'import docker, json',
        `c = docker.APIClient(base_url=${JSON.stringify(h.host)}, version='1.41')`,
        `nc = c.create_networking_config({'epnet': c.create_endpoint_config(aliases=['pyweb'], link_local_ips=['169.254.7.7'])})`,
        `ctr = c.create_container('busybox', 'sleep 300', networking_config=nc, host_config=c.create_host_config(network_mode='epnet'))`,
        `d = c.inspect_container(ctr)['NetworkSettings']['Networks']['epnet']`,
        `print(json.dumps({'id': ctr['Id'], 'ipam': d['IPAMConfig'], 'aliases': d['Aliases']}))`,
        `c.remove_container(ctr, force=True)`,
      ].join('\n')
      const r = await runCmd(py, ['-c', script], { timeoutMs: 60_000 })
      assert.equal(r.code, 0, r.stderr)
      const out = JSON.parse(r.stdout) as Json
      assert.deepEqual(out.ipam.LinkLocalIPs, ['169.254.7.7'])
      assert.ok(out.aliases.includes('pyweb') && out.aliases.includes(out.id.slice(0, 12)), `aliases: ${JSON.stringify(out.aliases)}`)
    })
  }
  if (dockerPys.length === 0) it('docker-py reads back link_local_ips and aliases', { skip: 'no python3 with docker-py (setup.sh installs python3-docker)' }, () => {})
})
