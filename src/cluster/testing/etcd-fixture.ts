import { createServer } from 'node:net'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { etcdInstalled } from '../../platform/etcd.js'
import { EtcdMember, type MemberConfig } from '../etcd-member.js'

/**
 * A loopback TCP port that was free a moment ago, from 20000-32767: below the kernel's ephemeral
 * range (32768-60999), so that a member's port released by a stop (the test kills a leader, then
 * restarts it on the same ports) cannot be taken meanwhile as the local port of some outgoing
 * connection of a test running in parallel, which made the restarted etcd fail to bind.
 */
export async function freePort(): Promise<number> {
  for (let i = 0; ; i++) {
    const port = 20000 + Math.floor(Math.random() * 12768)
    try {
      return await bindable(port)
    } catch (err) {
      if (i >= 50) throw err
    }
  }
}

function bindable(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(port)))
  })
}

export const ETCD_SKIP = etcdInstalled() ? false : 'etcd is not installed (apt-get install etcd-server)'

export async function memberConfig(name: string): Promise<MemberConfig> {
  const [c, p] = [await freePort(), await freePort()]
  return { name, clientUrl: `http://127.0.0.1:${c}`, peerUrl: `http://127.0.0.1:${p}` }
}

/** A one-member etcd in a temp data root; `close` stops it by PID and removes the dir. */
export async function startTestEtcd(name = 'test'): Promise<{ member: EtcdMember; dataRoot: string; close(): Promise<void> }> {
  const dataRoot = await mkdtemp(join(tmpdir(), 'berth-etcd-'))
  let member: EtcdMember
  try {
    member = await EtcdMember.init(dataRoot, await memberConfig(name))
  } catch (err) {
    await rm(dataRoot, { recursive: true, force: true })
    throw err
  }
  return {
    member,
    dataRoot,
    async close() {
      await member.stop()
      await rm(dataRoot, { recursive: true, force: true })
    },
  }
}
