import { copyFile, writeFile } from 'node:fs/promises'
import { isNotFoundErrno } from '../../lib/errors.js'
import { hostEtcHosts, hostResolvConf } from '../../platform/net.js'
import { copiedResolvConf, hostnameFile, hostsFile, type EtcInput } from '../../network/etc-files.js'
import type { NetworkSetUp } from '../../network/types.js'
import type { Ctx } from './deps.js'
import type { ContainerRecord } from './types.js'

const etcInput = (rec: ContainerRecord): EtcInput => ({ hostname: rec.config.hostname, domainname: rec.config.domainname, extraHosts: rec.hostConfig.extraHosts, dns: rec.hostConfig.dns, dnsSearch: rec.hostConfig.dnsSearch, dnsOptions: rec.hostConfig.dnsOptions })

/**
 * Write the container's /etc/hostname, /etc/hosts and /etc/resolv.conf (bind-mounted into it):
 * the contents the network computed, a `container:` target's own files, or (without a network
 * service) the same generator's defaults. Returns their paths.
 */
export async function writeEtcFiles(ctx: Ctx, rec: ContainerRecord, net: NetworkSetUp): Promise<{ hostname: string; hosts: string; resolv: string }> {
  const { layout } = ctx
  const paths = { hostname: layout.etcFile(rec.id, 'hostname'), hosts: layout.etcFile(rec.id, 'hosts'), resolv: layout.etcFile(rec.id, 'resolv.conf') }
  const host = rec.hostConfig.networkMode === 'host'
  await writeFile(paths.hostname, hostnameFile(host ? ctx.hostname() : rec.config.hostname))
  const input = etcInput(rec)
  const fallbackHosts = async () => hostsFile(input, host ? { hostFile: await hostEtcHosts() } : {})
  const fallbackResolv = async () => copiedResolvConf(await hostResolvConf(), input)
  if (net.etcFrom) {
    // Shares the target's files as they are now (a missing one: the defaults).
    const share = (from: string, to: string, fallback: () => Promise<string>) => copyFile(from, to).catch(async (err) => {
      if (!isNotFoundErrno(err)) throw err
      await writeFile(to, await fallback())
    })
    await share(layout.etcFile(net.etcFrom, 'hosts'), paths.hosts, fallbackHosts)
    await share(layout.etcFile(net.etcFrom, 'resolv.conf'), paths.resolv, fallbackResolv)
    return paths
  }
  await writeFile(paths.hosts, net.hosts ?? await fallbackHosts())
  await writeFile(paths.resolv, net.resolvConf ?? await fallbackResolv())
  return paths
}
