import { conflict, invalid } from '../../lib/errors.js'
import type { NetworkSetUp } from '../../network/types.js'
import { parseDeviceCgroupRule, type SpecInput } from '../../runtime/spec.js'
import type { Ctx } from './deps.js'
import { writeEtcFiles } from './etc-files.js'
import { cgroupPathOf } from './layout.js'
import { linkEnv } from './links.js'
import { specMount } from './mount-points.js'
import type { ContainerRecord, HostConfig } from './types.js'
import { resolveGroups, resolveUser } from './user.js'

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

/** The cgroup limits of a host config that are set (the PIDs limit apart: start and update differ). */
export function specResources(hc: HostConfig): SpecInput['resources'] {
  return {
    ...(hc.memory ? { memory: hc.memory } : {}),
    ...(hc.memorySwap ? { memorySwap: hc.memorySwap } : {}),
    ...(hc.memoryReservation ? { memoryReservation: hc.memoryReservation } : {}),
    ...(hc.cpuShares ? { cpuShares: hc.cpuShares } : {}),
    ...(hc.cpuQuota ? { cpuQuota: hc.cpuQuota } : {}),
    ...(hc.cpuPeriod ? { cpuPeriod: hc.cpuPeriod } : {}),
    ...(hc.cpusetCpus ? { cpusetCpus: hc.cpusetCpus } : {}),
    ...(hc.cpusetMems ? { cpusetMems: hc.cpusetMems } : {}),
    ...(hc.oomKillDisable ? { oomKillDisable: true } : {}),
    ...(hc.memorySwappiness !== undefined && hc.memorySwappiness !== -1 ? { memorySwappiness: hc.memorySwappiness } : {}),
    ...(hc.cpuRealtimePeriod ? { cpuRealtimePeriod: hc.cpuRealtimePeriod } : {}),
    ...(hc.cpuRealtimeRuntime ? { cpuRealtimeRuntime: hc.cpuRealtimeRuntime } : {}),
  }
}

/**
 * Docker's create-time checks of the namespace modes and isolation (verifyPlatformContainerSettings
 * and the host config's validation), in its words.
 */
export function verifyModes(hc: HostConfig): void {
  const pid = hc.pidMode ?? ''
  if (pid !== '' && pid !== 'host' && !/^container:.+/.test(pid)) throw invalid('ERR_INVALID_PID_MODE', `invalid PID mode: ${pid}`)
  const uts = hc.utsMode ?? ''
  if (uts !== '' && uts !== 'host') throw invalid('ERR_INVALID_UTS_MODE', `invalid UTS mode: ${uts}`)
  const iso = hc.isolation ?? ''
  if (iso !== '' && iso !== 'default') throw invalid('ERR_INVALID_ISOLATION', `Invalid isolation: "${iso}" - linux only supports 'default'`)
  const cgns = hc.cgroupnsMode ?? ''
  if (cgns !== '' && cgns !== 'private' && cgns !== 'host') throw invalid('ERR_INVALID_CGROUPNS_MODE', `invalid cgroup namespace mode: ${cgns}`)
  for (const r of hc.deviceCgroupRules ?? []) parseDeviceCgroupRule(r)
}

/** `--pid container:<ref>`: the PID namespace of that running container. */
function pidNamespace(ctx: Ctx, hc: HostConfig): SpecInput['namespaces']['pid'] {
  const mode = hc.pidMode ?? ''
  if (mode === 'host') return { kind: 'host' }
  if (!mode.startsWith('container:')) return { kind: 'private' }
  const target = ctx.store.resolve(mode.slice('container:'.length))
  if (!(target.state.status === 'running' || target.state.status === 'paused') || !target.state.pid) {
    throw conflict('ERR_NOT_RUNNING', `cannot join PID of a non running container: ${target.id}`)
  }
  return { kind: 'path', path: `/proc/${target.state.pid}/ns/pid` }
}

export function parseSecurityOpts(opts: string[]): { noNewPrivileges: boolean; seccomp: SpecInput['seccomp']; unconfinedPaths: boolean } {
  let noNewPrivileges = false
  let seccomp: SpecInput['seccomp'] = { mode: 'default' }
  let unconfinedPaths = false
  for (const o of opts) {
    const [k, v = ''] = o.includes('=') ? [o.slice(0, o.indexOf('=')), o.slice(o.indexOf('=') + 1)] : o.includes(':') ? [o.slice(0, o.indexOf(':')), o.slice(o.indexOf(':') + 1)] : [o, '']
    if (k === 'no-new-privileges') noNewPrivileges = v === '' || v === 'true'
    else if (k === 'seccomp') {
      if (v === 'unconfined') seccomp = { mode: 'unconfined' }
      else {
        let profile: unknown
        try { profile = JSON.parse(v) } catch { throw invalid('ERR_SECCOMP', 'Decoding seccomp profile failed: invalid character') }
        seccomp = { mode: 'custom', profile }
      }
    } else if (k === 'systempaths' && v === 'unconfined') unconfinedPaths = true
    else if (k === 'apparmor' || k === 'label') continue
    else throw invalid('ERR_SECURITY_OPT', `invalid --security-opt: ${JSON.stringify(o)}`)
  }
  return { noNewPrivileges, seccomp, unconfinedPaths }
}

/** What the runtime spec of a start is built from: the record, the mounted rootfs, the network set-up. */
export async function specInput(ctx: Ctx, rec: ContainerRecord, rootfs: string, net: NetworkSetUp): Promise<SpecInput> {
  const c = rec.config
  const hc = rec.hostConfig
  const user = await resolveUser(rootfs, c.user)
  // `--group-add`: after the user's own supplementary groups, as Docker appends them.
  for (const gid of await resolveGroups(rootfs, hc.groupAdd ?? [])) if (!user.additionalGids.includes(gid)) user.additionalGids.push(gid)
  // As Docker: the links' variables come first, the container's own override them.
  const own = new Set(c.env.map((e) => e.split('=')[0]))
  const env = [...linkEnv(ctx, rec, net).filter((e) => !own.has(e.split('=')[0])), ...c.env]
  if (!env.some((e) => e.startsWith('PATH='))) env.unshift(DEFAULT_PATH)
  if (!env.some((e) => e.startsWith('HOSTNAME='))) env.push(`HOSTNAME=${c.hostname}`)
  if (c.tty && !env.some((e) => e.startsWith('TERM='))) env.push('TERM=xterm')
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${user.home || '/'}`)
  const files = await writeEtcFiles(ctx, rec, net)
  const userMounts = rec.mountPoints ?? []
  const mine = new Set(userMounts.map((m) => m.destination))
  const mounts: SpecInput['mounts'] = [
    { destination: '/etc/hostname', type: 'bind', source: files.hostname, options: ['rbind', 'rprivate'] },
    { destination: '/etc/hosts', type: 'bind', source: files.hosts, options: ['rbind', 'rprivate'] },
    { destination: '/etc/resolv.conf', type: 'bind', source: files.resolv, options: ['rbind', 'rprivate'] },
  ].filter((m) => !mine.has(m.destination))
  // Parents before children, as Docker sorts them.
  for (const m of [...userMounts].sort((a, b) => a.destination.split('/').length - b.destination.split('/').length)) mounts.push(specMount(m))
  const sec = parseSecurityOpts(hc.securityOpt)
  const ns = (mode: string) => (mode === 'host' ? { kind: 'host' as const } : { kind: 'private' as const })
  return {
    id: rec.id,
    rootfs,
    readonlyRootfs: hc.readonlyRootfs,
    args: [rec.path, ...rec.args],
    env,
    cwd: c.workingDir || '/',
    user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
    terminal: c.tty,
    hostname: hc.networkMode === 'host' || hc.utsMode === 'host' ? ctx.hostname() : c.hostname,
    ...(c.domainname ? { domainname: c.domainname } : {}),
    privileged: hc.privileged,
    capAdd: hc.capAdd,
    capDrop: hc.capDrop,
    noNewPrivileges: sec.noNewPrivileges,
    seccomp: sec.seccomp,
    namespaces: { network: net.netns ? { kind: 'path', path: net.netns.path, private: net.netns.private } : ns(hc.networkMode), pid: pidNamespace(ctx, hc), ipc: { kind: 'private' }, uts: hc.networkMode === 'host' || hc.utsMode === 'host' ? { kind: 'host' } : { kind: 'private' }, ...(hc.cgroupnsMode === 'host' || hc.cgroupnsMode === 'private' ? { cgroup: { kind: hc.cgroupnsMode } } : {}) },
    mounts,
    devices: hc.devices,
    ...(hc.deviceCgroupRules?.length ? { deviceCgroupRules: hc.deviceCgroupRules } : {}),
    resources: { ...specResources(hc), ...(hc.pidsLimit ? { pidsLimit: hc.pidsLimit } : {}) },
    ...(hc.nanoCpus ? { nanoCpus: hc.nanoCpus } : {}),
    cgroupsPath: cgroupPathOf(rec.id),
    shmSize: hc.shmSize || 64 * 1024 * 1024,
    sysctls: hc.sysctls,
    ulimits: hc.ulimits,
    ...(hc.oomScoreAdj ? { oomScoreAdj: hc.oomScoreAdj } : {}),
    ...(hc.init && ctx.deps.initPath ? { init: { path: ctx.deps.initPath } } : {}),
    ...(sec.unconfinedPaths ? { maskedPaths: [], readonlyPaths: [] } : {}),
  }
}
