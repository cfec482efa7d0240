/**
 * The real docker CLI against berthd: bad `docker create` / `docker update` input is refused
 * with Docker's words (the engine's one check of each, no copy at the API edge), and a refused
 * create leaves no container behind.
 */
import { it } from 'node:test'
import assert from 'node:assert/strict'
import { api } from './harness.js'
import { dockerSuite } from './image-helpers.js'
import { busyboxDaemon, dockerT, listedContainerIds } from './container-helpers.js'

const UNKNOWN_POLICY = "invalid restart policy: unknown policy 'bogus'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"

dockerSuite('docker CLI: create validation', () => {
  const daemon = busyboxDaemon()
  const d = (...args: string[]) => dockerT(daemon.h, 30, ...args)

  /** `docker create ARGS busybox` fails with exactly Docker's daemon error and creates nothing. */
  const refused = async (args: string[], message: string) => {
    const r = await d('create', ...args, 'busybox')
    // docker create exits 1 on a daemon error (docker run would exit 125).
    assert.equal(r.code, 1, `docker create ${args.join(' ')} should fail: ${r.stdout}${r.stderr}`)
    assert.equal(r.stderr.trim(), `Error response from daemon: ${message}`)
    assert.deepEqual(await listedContainerIds(daemon.h), [], 'a refused create leaves no container')
  }

  it('a memory limit under 6MB is refused', async () => {
    await refused(['-m', '1k'], 'Minimum memory limit allowed is 6MB')
  })

  it('an unknown restart policy, or a retry count without on-failure, is refused with the engine words', async () => {
    await refused(['--restart=bogus'], UNKNOWN_POLICY)
    await refused(['--restart=always:3'], "invalid restart policy: maximum retry count can only be used with 'on-failure'")
    await refused(['--restart=on-failure:-1'], 'invalid restart policy: maximum retry count cannot be negative')
  })

  it('the API refuses AutoRemove with a restart policy and a retry count without on-failure (the CLI catches them first)', async () => {
    const create = async (hc: object) => {
      const r = await api(daemon.h, 'POST', '/containers/create', { Image: 'busybox', HostConfig: hc })
      return { status: r.status, message: (r.json() as { message?: string }).message }
    }
    assert.deepEqual(await create({ AutoRemove: true, RestartPolicy: { Name: 'always' } }), { status: 400, message: "can't create 'AutoRemove' container with restart policy" })
    assert.deepEqual(await create({ RestartPolicy: { Name: 'always', MaximumRetryCount: -1 } }), { status: 400, message: "invalid restart policy: maximum retry count can only be used with 'on-failure' and cannot be negative" })
    assert.deepEqual(await create({ RestartPolicy: { Name: 'bogus' } }), { status: 400, message: UNKNOWN_POLICY })
    assert.deepEqual(await listedContainerIds(daemon.h), [], 'a refused create leaves no container')
  })

  it('a bind mount without a source is refused', async () => {
    await refused(['--mount', 'type=bind,target=/x'], 'invalid mount config for type "bind": field Source must not be empty')
  })

  it('update refuses an unknown restart policy and leaves the container as it was', async () => {
    const c = await d('create', '--name', 'u1', '--restart=on-failure:2', 'busybox')
    assert.equal(c.code, 0, c.stderr)
    const r = await d('update', '--restart=bogus', 'u1')
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, new RegExp(UNKNOWN_POLICY.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    const ins = await api(daemon.h, 'GET', '/containers/u1/json')
    assert.deepEqual((ins.json() as { HostConfig: { RestartPolicy: unknown } }).HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 2 })
  })
})
