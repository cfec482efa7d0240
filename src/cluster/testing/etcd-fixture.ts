import { createServer } from 'node:net'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { etcdInstalled } from '../../platform/etcd.js'
import { EtcdMember, type MemberConfig } from '../etcd-member.js'

/** A loopback TCP port that was free a moment ago (the kernel picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))))
    })
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
