/**
 * The OCI runtime spec (bundle `config.json`) of a container, built the way Docker builds it
 * (moby's daemon/oci_linux.go over oci.DefaultLinuxSpec, with containerd's and runc's defaults
 * folded in where Docker relies on them), so that a container started by Berth sees what the
 * same container started by Docker sees: capabilities, seccomp filter, mounts, masked and
 * read-only paths, device cgroup rules, namespaces, sysctls, rlimits and cgroup limits.
 *
 * `buildSpec` is synchronous and pure apart from reading the host (device nodes for
 * `--device`/`--privileged`, and a `HostInfo` probed once and cached); pass a `HostInfo` to
 * make it fully deterministic. Validation errors are `EngineError`s of kind InvalidArgument
 * with Docker's wording.
 */
import { lstatSync, readdirSync, realpathSync, statSync, type Dirent } from 'node:fs'
import { availableParallelism, release } from 'node:os'
import { posix } from 'node:path'
import { errno, invalid } from '../lib/errors.js'
import { hostKernel, readKernelLink } from '../platform/runtime-host.js'
import { defaultSeccomp, goArchOf, setupSeccomp, type LinuxSeccomp } from './seccomp.js'

// =============================================================================================
// Input

/** How a container gets one kind of namespace. */
export type NsMode =
  | { kind: 'private' }
  | { kind: 'host' }
  /**
   * Join the namespace at `path` (/proc/<pid>/ns/net, /run/berth/netns/<id>...). `private`
   * says the engine made it for this container alone (a bridge or none network), which is
   * Docker's "private network mode": the default network sysctls are then set in it. A
   * namespace joined from another container (`--network container:x`) is not private.
   */
  | { kind: 'path'; path: string; private?: boolean }

export interface SpecMount {
  destination: string
  type: string
  source: string
  options: string[]
}

export interface SpecDevice {
  pathOnHost: string
  pathInContainer: string
  /** "rwm" or a subset; empty means "rwm". */
  cgroupPermissions: string
}

export interface SpecResources {
  memory?: number
  /** Memory + swap; -1 unlimited; unset/0 with a memory limit: twice the memory (Docker's default). */
  memorySwap?: number
  memoryReservation?: number
  /** 0-100; -1 or unset: the kernel's default. */
  memorySwappiness?: number
  kernelMemory?: never
  cpuShares?: number
  cpuQuota?: number
  cpuPeriod?: number
  cpuRealtimePeriod?: number
  cpuRealtimeRuntime?: number
  cpusetCpus?: string
  cpusetMems?: string
  /** 0 or negative: unlimited. */
  pidsLimit?: number
  oomKillDisable?: boolean
  blkioWeight?: number
}

export interface SpecInput {
  /** Container ID (64 hex). */
  id: string
  /** Absolute path of the mounted rootfs. */
  rootfs: string
  readonlyRootfs: boolean
  args: string[]
  /** The complete environment (PATH, HOSTNAME, TERM... already added by the caller). */
  env: string[]
  /** Working directory; empty means "/". */
  cwd: string
  user: { uid: number; gid: number; additionalGids: number[]; umask?: number }
  terminal: boolean
  /** Initial console size when `terminal`. */
  consoleSize?: { height: number; width: number }
  hostname: string
  domainname?: string
  privileged: boolean
  /** Docker forms: "NET_ADMIN", "CAP_NET_ADMIN", "ALL", any case. */
  capAdd: string[]
  capDrop: string[]
  noNewPrivileges: boolean
  /** `custom.profile`: a Docker seccomp profile, parsed JSON or its text. */
  seccomp: { mode: 'default' } | { mode: 'unconfined' } | { mode: 'custom'; profile: unknown }
  /** `cgroup` unset: private on a cgroup v2 host, host on v1 (Docker's default). */
  namespaces: { network: NsMode; pid: NsMode; ipc: NsMode; uts: NsMode; cgroup?: NsMode }
  /**
   * Extra mounts: volumes, binds, tmpfs, /etc/hosts, /etc/resolv.conf, /etc/hostname, and the
   * /dev/shm of a shared IPC namespace. One with the destination of a default mount replaces
   * it; one on /dev drops every default mount under /dev. Passed through as given, in path
   * depth order (parents before children).
   */
  mounts: SpecMount[]
  /** `--device`. */
  devices: SpecDevice[]
  /** `--device-cgroup-rule` (`c 1:3 rwm`): allow rules after the defaults. */
  deviceCgroupRules?: string[]
  resources: SpecResources
  /** `--cpus` in billionths of a CPU: period 100000 and the matching quota. */
  nanoCpus?: number
  /** "/berth/<id>" (cgroupfs driver). */
  cgroupsPath: string
  /** /dev/shm size in bytes; 0 means Docker's default, 64 MiB. */
  shmSize: number
  /** IPC mode "none": no /dev/shm at all. */
  noShm?: boolean
  sysctls: Record<string, string>
  ulimits: Array<{ name: string; soft: number; hard: number }>
  oomScoreAdj?: number
  /** `--init`: this binary (catatonit) is bind-mounted at /sbin/docker-init and runs as pid 1. */
  init?: { path: string }
  /** Overrides of the defaults, even when privileged; [] is `--security-opt systempaths=unconfined`. */
  maskedPaths?: string[]
  readonlyPaths?: string[]
  annotations?: Record<string, string>
}

// =============================================================================================
// Output: the OCI runtime-spec config.json shape

export type NamespaceType = 'mount' | 'network' | 'uts' | 'pid' | 'ipc' | 'cgroup' | 'user'

export interface OciMount {
  destination: string
  type: string
  source: string
  options: string[]
}

export interface OciRlimit {
  type: string
  /** uint64: RLIM_INFINITY (-1 in Docker's API) is the bigint 2^64-1. */
  hard: number | bigint
  soft: number | bigint
}

export interface OciCapabilities {
  bounding?: string[]
  effective?: string[]
  inheritable?: string[]
  permitted?: string[]
  ambient?: string[]
}

export interface OciProcess {
  terminal: boolean
  consoleSize?: { height: number; width: number }
  user: { uid: number; gid: number; umask?: number; additionalGids?: number[] }
  args: string[]
  env: string[]
  cwd: string
  capabilities: OciCapabilities
  rlimits?: OciRlimit[]
  noNewPrivileges?: boolean
  oomScoreAdj?: number
}

export interface OciLinuxDevice {
  path: string
  type: string
  major: number
  minor: number
  fileMode?: number
  uid?: number
  gid?: number
}

/** A device cgroup rule; no major/minor means any ("*"), no type means all ("a"). */
export interface OciDeviceCgroup {
  allow: boolean
  type?: string
  major?: number
  minor?: number
  access?: string
}

export interface OciMemory {
  limit?: number
  reservation?: number
  swap?: number
  swappiness?: number
  disableOOMKiller?: boolean
}

export interface OciCpu {
  shares?: number
  quota?: number
  period?: number
  realtimeRuntime?: number
  realtimePeriod?: number
  cpus?: string
  mems?: string
}

export interface OciResources {
  devices?: OciDeviceCgroup[]
  memory?: OciMemory
  cpu?: OciCpu
  pids?: { limit: number }
  blockIO?: { weight?: number }
}

export interface OciLinux {
  sysctl?: Record<string, string>
  resources: OciResources
  cgroupsPath: string
  namespaces: Array<{ type: NamespaceType; path?: string }>
  devices?: OciLinuxDevice[]
  seccomp?: LinuxSeccomp
  maskedPaths?: string[]
  readonlyPaths?: string[]
}

export interface OciSpec {
  ociVersion: string
  process: OciProcess
  root: { path: string; readonly: boolean }
  hostname?: string
  mounts: OciMount[]
  annotations?: Record<string, string>
  linux: OciLinux
}

/** The runtime-spec version written; both crun 1.8 and runc 1.1 accept it. */
export const OCI_VERSION = '1.0.2-dev'

/**
 * config.json text for a spec. Use this, not JSON.stringify: uint64 fields (rlimits at
 * RLIM_INFINITY, large seccomp argument values) are bigints, written as exact JSON integers.
 */
export function serializeSpec(spec: OciSpec, indent?: number): string {
  const marks: string[] = []
  const text = JSON.stringify(
    spec,
    (_k, v: unknown) => {
      if (typeof v !== 'bigint') return v
      marks.push(v.toString())
      return `\u0000bigint${marks.length - 1}\u0000`
    },
    indent,
  )
  if (marks.length === 0) return text
  return text.replace(/"\\u0000bigint(\d+)\\u0000"/g, (_m, i: string) => marks[Number(i)] ?? '0')
}

// =============================================================================================
// Docker's defaults

/** Docker's default capability set (moby oci/caps DefaultCapabilities), in its order. */
export const DEFAULT_CAPABILITIES: readonly string[] = Object.freeze([
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
])

/** Every capability name known, indexed by its number (linux/capability.h). */
export const KNOWN_CAPABILITIES: readonly string[] = Object.freeze([
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER',
  'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
])

/** Docker's default masked paths, before the per-CPU thermal_throttle directories of the host. */
export const DEFAULT_MASKED_PATHS: readonly string[] = Object.freeze([
  '/proc/acpi',
  '/proc/asound',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/sys/devices/virtual/powercap',
  '/sys/firmware',
])

export const DEFAULT_READONLY_PATHS: readonly string[] = Object.freeze([
  '/proc/bus',
  '/proc/fs',
  '/proc/irq',
  '/proc/sys',
  '/proc/sysrq-trigger',
])

/** Docker's default /dev/shm size: 64 MiB. */
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024

/** Where `--init` puts its binary. */
export const INIT_PATH = '/sbin/docker-init'

const MIN_MEMORY = 6291456 // 6 MiB: Docker's floor, room for the start-up overhead
const MIN_CPU_SHARES = 2
const MAX_CPU_SHARES = 262144
const RLIM_INFINITY = 0xffffffffffffffffn

function defaultMounts(): OciMount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777'] },
  ]
}

const rule = (allow: boolean, type: string | undefined, major: number | undefined, minor: number | undefined, access: string): OciDeviceCgroup => {
  const r: OciDeviceCgroup = { allow }
  if (type !== undefined) r.type = type
  if (major !== undefined) r.major = major
  if (minor !== undefined) r.minor = minor
  r.access = access
  return r
}

/**
 * A `--device-cgroup-rule` as Docker reads it: `<a|b|c> <major|*>:<minor|*> <r|w|m...>`, an
 * allow rule (`*` is any number).
 */
export function parseDeviceCgroupRule(text: string): OciDeviceCgroup {
  const m = /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/.exec(text)
  if (!m) throw bad('ERR_INVALID_DEVICE_CGROUP_RULE', `invalid device cgroup rule format: '${text}'`)
  const n = (s: string) => (s === '*' ? undefined : Number(s))
  return rule(true, m[1] === 'a' ? 'a' : m[1], n(m[2]!), n(m[3]!), m[4]!)
}

/**
 * Docker's device cgroup rules: deny everything, allow null, zero, full... (its DefaultLinuxSpec),
 * deny fuse; then the rules runc appends to every container (mknod of anything, the standard
 * nodes, ptys, /dev/net/tun), written out so that crun and runc enforce the same list.
 */
function defaultDeviceRules(): OciDeviceCgroup[] {
  return [
    rule(false, undefined, undefined, undefined, 'rwm'),
    rule(true, 'c', 1, 5, 'rwm'), // /dev/zero
    rule(true, 'c', 1, 3, 'rwm'), // /dev/null
    rule(true, 'c', 1, 9, 'rwm'), // /dev/urandom
    rule(true, 'c', 1, 8, 'rwm'), // /dev/random
    rule(true, 'c', 5, 0, 'rwm'), // /dev/tty
    rule(true, 'c', 5, 1, 'rwm'), // /dev/console
    rule(false, 'c', 10, 229, 'rwm'), // /dev/fuse
    // runc's libcontainer/specconv AllowedDevices, appended after the spec's rules
    rule(true, 'c', undefined, undefined, 'm'),
    rule(true, 'b', undefined, undefined, 'm'),
    rule(true, 'c', 1, 3, 'rwm'), // /dev/null
    rule(true, 'c', 1, 8, 'rwm'), // /dev/random
    rule(true, 'c', 1, 7, 'rwm'), // /dev/full
    rule(true, 'c', 5, 0, 'rwm'), // /dev/tty
    rule(true, 'c', 1, 5, 'rwm'), // /dev/zero
    rule(true, 'c', 1, 9, 'rwm'), // /dev/urandom
    rule(true, 'c', 136, undefined, 'rwm'), // /dev/pts/*
    rule(true, 'c', 5, 2, 'rwm'), // /dev/ptmx
    rule(true, 'c', 10, 200, 'rwm'), // /dev/net/tun
  ]
}

// =============================================================================================
// The host

/** What Docker's sysinfo and friends know about the host, as far as the spec depends on it. */
export interface HostInfo {
  /** Capabilities this daemon holds (its effective set): what "ALL" and --privileged grant. */
  capabilities: string[]
  cgroup2: boolean
  /** CPUs this daemon may run on (Go's runtime.NumCPU). */
  numCpus: number
  /** The root cpuset's cpus and mems, list format ("0-3,6"). */
  cpusetCpus: string
  cpusetMems: string
  features: {
    memoryLimit: boolean
    swapLimit: boolean
    memoryReservation: boolean
    memorySwappiness: boolean
    oomKillDisable: boolean
    pidsLimit: boolean
    cpuShares: boolean
    cpuCfs: boolean
    cpuRealtime: boolean
    cpuset: boolean
    blkioWeight: boolean
    seccomp: boolean
  }
  /** Whether this daemon itself runs in a user namespace (then no ping_group_range). */
  inUserNamespace: boolean
  /** `uname -r`. */
  kernelRelease: string
  /** Go's GOARCH spelling of the architecture (seccomp filtering). */
  goArch: string
  /** Masked paths that depend on the host: /sys/devices/system/cpu/cpuN/thermal_throttle. */
  extraMaskedPaths: string[]
  /** Sysctls (dotted names) that exist on this kernel. */
  sysctls: { pingGroupRange: boolean; unprivilegedPortStart: boolean }
  /** readlink(/proc/self/ns/net): the host's network namespace. */
  hostNetNs: string | undefined
}

/** Parses a Linux list ("0-3,6,8-9") into its members; undefined when malformed. */
export function parseList(list: string): Set<number> | undefined {
  const out = new Set<number>()
  const s = list.trim()
  if (s === '') return out
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part)
    if (!m) return undefined
    const lo = Number(m[1])
    const hi = m[2] === undefined ? lo : Number(m[2])
    if (hi < lo || hi - lo > 1 << 16) return undefined
    for (let i = lo; i <= hi; i++) out.add(i)
  }
  return out
}

function capsFromMask(hex: string): string[] {
  const mask = BigInt(`0x${hex}`)
  return KNOWN_CAPABILITIES.filter((_, i) => (mask >> BigInt(i)) & 1n)
}

/** Probes the host the way dockerd does at start. */
export function probeHost(): HostInfo {
  const status = hostKernel.selfStatus() ?? ''
  const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1]
  const capabilities = capEff ? capsFromMask(capEff) : [...KNOWN_CAPABILITIES]
  const cgroup2 = hostKernel.cgroupHas('cgroup.controllers')
  let features: HostInfo['features']
  let cpusetCpus: string
  let cpusetMems: string
  const seccomp = /^Seccomp:/m.test(status)
  if (cgroup2) {
    const ctrls = new Set((hostKernel.cgroupText('cgroup.controllers') ?? '').trim().split(/\s+/))
    features = {
      memoryLimit: ctrls.has('memory'),
      swapLimit: ctrls.has('memory'),
      memoryReservation: ctrls.has('memory'),
      memorySwappiness: false,
      oomKillDisable: false,
      pidsLimit: ctrls.has('pids'),
      cpuShares: ctrls.has('cpu'),
      cpuCfs: ctrls.has('cpu'),
      cpuRealtime: false,
      cpuset: ctrls.has('cpuset'),
      blkioWeight: ctrls.has('io'),
      seccomp,
    }
    cpusetCpus = (hostKernel.cgroupText('cpuset.cpus.effective') ?? '').trim()
    cpusetMems = (hostKernel.cgroupText('cpuset.mems.effective') ?? '').trim()
  } else {
    const v1 = (ctrl: string, file: string) => hostKernel.cgroupHas(`${ctrl}/${file}`)
    features = {
      memoryLimit: v1('memory', 'memory.limit_in_bytes'),
      swapLimit: v1('memory', 'memory.memsw.limit_in_bytes'),
      memoryReservation: v1('memory', 'memory.soft_limit_in_bytes'),
      memorySwappiness: v1('memory', 'memory.swappiness'),
      oomKillDisable: v1('memory', 'memory.oom_control'),
      pidsLimit: v1('pids', 'pids.max') || hostKernel.cgroupHas('pids'),
      cpuShares: v1('cpu', 'cpu.shares'),
      cpuCfs: v1('cpu', 'cpu.cfs_quota_us') && v1('cpu', 'cpu.cfs_period_us'),
      cpuRealtime: v1('cpu', 'cpu.rt_period_us') && v1('cpu', 'cpu.rt_runtime_us'),
      cpuset: hostKernel.cgroupHas('cpuset/cpuset.cpus'),
      blkioWeight: v1('blkio', 'blkio.weight') || v1('blkio', 'blkio.bfq.weight'),
      seccomp,
    }
    cpusetCpus = (hostKernel.cgroupText('cpuset/cpuset.cpus') ?? '').trim()
    cpusetMems = (hostKernel.cgroupText('cpuset/cpuset.mems') ?? '').trim()
  }
  const uidMap = (hostKernel.selfUidMap() ?? '').trim().split(/\s+/)
  const inUserNamespace = !(uidMap[0] === '0' && uidMap[1] === '0' && uidMap[2] === '4294967295') && uidMap.length >= 3
  const possible = parseList(hostKernel.possibleCpus() ?? '') ?? new Set<number>()
  const extraMaskedPaths: string[] = []
  for (const cpu of [...possible].sort((a, b) => a - b)) {
    const p = hostKernel.thermalThrottle(cpu)
    if (p) extraMaskedPaths.push(p)
  }
  // No /proc: nothing to compare a joined namespace with.
  const hostNetNs = hostKernel.selfNetns()
  return {
    capabilities,
    cgroup2,
    numCpus: availableParallelism(),
    cpusetCpus,
    cpusetMems,
    features,
    inUserNamespace,
    kernelRelease: release(),
    goArch: goArchOf(),
    extraMaskedPaths,
    sysctls: {
      pingGroupRange: hostKernel.sysctlExists('net.ipv4.ping_group_range'),
      unprivilegedPortStart: hostKernel.sysctlExists('net.ipv4.ip_unprivileged_port_start'),
    },
    hostNetNs,
  }
}

let cachedHost: HostInfo | undefined

/** The host as probed once per process (dockerd's sysinfo is also read once). */
export function hostInfo(): HostInfo {
  return (cachedHost ??= probeHost())
}

// =============================================================================================
// Capabilities

const bad = (code: string, message: string) => invalid(code, message)
const q = (s: string) => JSON.stringify(s) // Go's %q for the names and paths we quote

/**
 * Upper-cases and CAP_-prefixes cap-add/cap-drop entries ("ALL" stays), as Docker's
 * NormalizeLegacyCapabilities: an unknown name, or one this host cannot grant, is an error.
 */
export function normalizeCapabilities(caps: readonly string[], host: HostInfo = hostInfo()): string[] {
  const available = new Set(host.capabilities)
  return caps.map((raw) => {
    let c = raw.toUpperCase()
    if (c === 'ALL') return c
    if (!c.startsWith('CAP_')) c = `CAP_${c}`
    if (!KNOWN_CAPABILITIES.includes(c)) throw bad('ERR_UNKNOWN_CAPABILITY', `unknown capability: ${q(c)}`)
    if (!available.has(c)) {
      throw bad(
        'ERR_CAPABILITY_UNAVAILABLE',
        `capability not supported by your kernel or not available in the current environment: ${q(c)}`,
      )
    }
    return c
  })
}

/**
 * The container's capability list, as Docker's TweakCapabilities: privileged gets every
 * capability the daemon has; cap-add ALL gets them all but the dropped ones; cap-drop ALL keeps
 * only the added ones; otherwise the defaults minus the dropped plus the added.
 */
export function tweakCapabilities(
  adds: readonly string[],
  drops: readonly string[],
  privileged: boolean,
  host: HostInfo = hostInfo(),
): string[] {
  if (privileged) return [...host.capabilities]
  if (adds.length === 0 && drops.length === 0) return [...DEFAULT_CAPABILITIES]
  const capDrop = normalizeCapabilities(drops, host)
  const capAdd = normalizeCapabilities(adds, host)
  if (capAdd.includes('ALL')) return host.capabilities.filter((c) => !capDrop.includes(c))
  if (capDrop.includes('ALL')) return capAdd
  return [...DEFAULT_CAPABILITIES.filter((c) => !capDrop.includes(c)), ...capAdd]
}

// =============================================================================================
// Resources

export interface ResourceCheck {
  /** The resources with what this host cannot enforce discarded, and Docker's adjustments. */
  resources: SpecResources
  nanoCpus: number | undefined
  /** Docker's warnings for what was discarded (returned by container create). */
  warnings: string[]
}

/**
 * Docker's checks of a container's resources (verifyPlatformContainerResources) plus its
 * create-time adjustments (swap defaults to twice the memory, CPU shares clamped to 2-262144).
 * Throws Docker's errors; returns its warnings. `update` relaxes the checks as `docker update`.
 */
export function verifyResources(
  input: SpecResources,
  nanoCpusIn: number | undefined,
  host: HostInfo = hostInfo(),
  opts: { update?: boolean } = {},
): ResourceCheck {
  const r: SpecResources = { ...input }
  let nanoCpus = nanoCpusIn
  const warnings: string[] = []
  const fail = (message: string) => bad('ERR_INVALID_RESOURCES', message)
  const f = host.features
  const memory = () => r.memory ?? 0
  const swap = () => r.memorySwap ?? 0

  if (r.memorySwappiness === -1) delete r.memorySwappiness
  if (memory() !== 0 && memory() < MIN_MEMORY) throw fail('Minimum memory limit allowed is 6MB')
  if (memory() > 0 && !f.memoryLimit) {
    warnings.push('Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded.')
    r.memory = 0
    r.memorySwap = -1
  }
  if (memory() > 0 && swap() !== -1 && !f.swapLimit) {
    warnings.push('Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.')
    r.memorySwap = -1
  }
  if (memory() > 0 && swap() > 0 && swap() < memory()) {
    throw fail('Minimum memoryswap limit should be larger than memory limit, see usage')
  }
  if (memory() === 0 && swap() > 0 && !opts.update) {
    throw fail('You should always set the Memory limit when using Memoryswap limit, see usage')
  }
  if (r.memorySwappiness !== undefined && !f.memorySwappiness) {
    warnings.push('Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.')
    delete r.memorySwappiness
  }
  if (r.memorySwappiness !== undefined && (r.memorySwappiness < 0 || r.memorySwappiness > 100)) {
    throw fail(`Invalid value: ${r.memorySwappiness}, valid memory swappiness range is 0-100`)
  }
  const reservation = () => r.memoryReservation ?? 0
  if (reservation() > 0 && !f.memoryReservation) {
    warnings.push('Your kernel does not support memory soft limit capabilities or the cgroup is not mounted. Limitation discarded.')
    r.memoryReservation = 0
  }
  if (reservation() > 0 && reservation() < MIN_MEMORY) throw fail('Minimum memory reservation allowed is 6MB')
  if (memory() > 0 && reservation() > 0 && memory() < reservation()) {
    throw fail('Minimum memory limit can not be less than memory reservation limit, see usage')
  }
  if (r.oomKillDisable !== undefined && !f.oomKillDisable) {
    if (r.oomKillDisable) warnings.push('Your kernel does not support OomKillDisable. OomKillDisable discarded.')
    delete r.oomKillDisable
  }
  if (r.oomKillDisable && memory() === 0) {
    warnings.push('OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.')
  }
  if (r.pidsLimit !== undefined && !f.pidsLimit) {
    if (r.pidsLimit > 0) warnings.push('Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded.')
    delete r.pidsLimit
  }
  // 0 or less is "unlimited": a new container just has no limit (an update resets it with -1).
  if (r.pidsLimit !== undefined && r.pidsLimit <= 0 && !opts.update) delete r.pidsLimit

  const nano = nanoCpus ?? 0
  if (nano > 0 && (r.cpuPeriod ?? 0) > 0) throw fail('Conflicting options: Nano CPUs and CPU Period cannot both be set')
  if (nano > 0 && (r.cpuQuota ?? 0) > 0) throw fail('Conflicting options: Nano CPUs and CPU Quota cannot both be set')
  if (nano > 0 && !f.cpuCfs) {
    throw fail('NanoCPUs can not be set, as your kernel does not support CPU CFS scheduler or the cgroup is not mounted')
  }
  if (nano < 0 || nano > host.numCpus * 1e9) {
    throw fail(`Range of CPUs is from 0.01 to ${host.numCpus}.00, as there are only ${host.numCpus} CPUs available`)
  }
  if ((r.cpuShares ?? 0) > 0 && !f.cpuShares) {
    warnings.push('Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.')
    r.cpuShares = 0
  }
  if (((r.cpuPeriod ?? 0) !== 0 || (r.cpuQuota ?? 0) !== 0) && !f.cpuCfs) {
    warnings.push('Your kernel does not support CPU CFS scheduler. CPU period/quota discarded.')
    r.cpuPeriod = 0
    r.cpuQuota = 0
  }
  const period = r.cpuPeriod ?? 0
  if (period !== 0 && (period < 1000 || period > 1000000)) {
    throw fail('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)')
  }
  const quota = r.cpuQuota ?? 0
  if (quota > 0 && quota < 1000) throw fail('CPU cfs quota can not be less than 1ms (i.e. 1000)')
  if (((r.cpuRealtimePeriod ?? 0) > 0 || (r.cpuRealtimeRuntime ?? 0) > 0) && !f.cpuRealtime) {
    throw fail(
      (r.cpuRealtimePeriod ?? 0) > 0
        ? 'Your kernel does not support cgroup cpu real-time period'
        : 'Your kernel does not support cgroup cpu real-time runtime',
    )
  }
  if ((r.cpuRealtimePeriod ?? 0) !== 0 && (r.cpuRealtimeRuntime ?? 0) !== 0 && (r.cpuRealtimeRuntime ?? 0) > (r.cpuRealtimePeriod ?? 0)) {
    throw fail('cpu real-time runtime cannot be higher than cpu real-time period')
  }

  if ((r.cpusetCpus || r.cpusetMems) && !f.cpuset) {
    warnings.push('Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.')
    r.cpusetCpus = ''
    r.cpusetMems = ''
  }
  const checkSet = (value: string | undefined, available: string, what: string, notAvailable: string) => {
    if (!value) return
    const want = parseList(value)
    if (!want) throw fail(`Invalid value ${value} for ${what}: invalid format: ${value}`)
    const have = parseList(available)
    if (!have) return // the host's own list unreadable: leave it to the kernel
    for (const n of want) if (!have.has(n)) throw fail(`${notAvailable} - requested ${value}, available: ${available}`)
  }
  checkSet(r.cpusetCpus, host.cpusetCpus, 'cpuset cpus', 'Requested CPUs are not available')
  checkSet(r.cpusetMems, host.cpusetMems, 'cpuset mems', 'Requested memory nodes are not available')

  if ((r.blkioWeight ?? 0) > 0 && !f.blkioWeight) {
    warnings.push('Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.')
    r.blkioWeight = 0
  }
  const weight = r.blkioWeight ?? 0
  if (weight > 0 && (weight < 10 || weight > 1000)) throw fail('Range of blkio weight is from 10 to 1000')

  // Create-time adjustments (adaptContainerSettings).
  const shares = r.cpuShares ?? 0
  if (shares < 0) throw fail('shares: invalid argument')
  if (shares > 0 && shares < MIN_CPU_SHARES) r.cpuShares = MIN_CPU_SHARES
  if (shares > MAX_CPU_SHARES) r.cpuShares = MAX_CPU_SHARES
  if (memory() > 0 && swap() === 0) r.memorySwap = memory() * 2
  if (nanoCpus === 0) nanoCpus = undefined
  return { resources: r, nanoCpus, warnings }
}

/** The cgroup limits of a running container's update (`<runtime> update --resources`), after Docker's checks. */
export function updateResources(input: SpecResources, nanoCpus: number | undefined, host: HostInfo = hostInfo()): { resources: Omit<OciResources, 'devices'>; warnings: string[] } {
  const checked = verifyResources(input, nanoCpus, host, { update: true })
  return { resources: ociResources(checked.resources, checked.nanoCpus), warnings: checked.warnings }
}

function ociResources(r: SpecResources, nanoCpus: number | undefined): Omit<OciResources, 'devices'> {
  const memory: OciMemory = {}
  if ((r.memory ?? 0) > 0) memory.limit = r.memory
  if ((r.memoryReservation ?? 0) > 0) memory.reservation = r.memoryReservation
  if ((r.memorySwap ?? 0) > 0) memory.swap = r.memorySwap // -1 (unlimited) is left out, as Docker does
  if (r.memorySwappiness !== undefined) memory.swappiness = r.memorySwappiness
  memory.disableOOMKiller = r.oomKillDisable ?? false

  const cpu: OciCpu = { shares: r.cpuShares ?? 0 }
  if (nanoCpus && nanoCpus > 0) {
    cpu.period = 100000 // 100ms, in µs (sched-bwc)
    cpu.quota = Number((BigInt(Math.trunc(nanoCpus)) * 100000n) / 1000000000n)
  }
  if ((r.cpuPeriod ?? 0) !== 0) cpu.period = r.cpuPeriod
  if ((r.cpuQuota ?? 0) !== 0) cpu.quota = r.cpuQuota
  if ((r.cpuRealtimePeriod ?? 0) !== 0) cpu.realtimePeriod = r.cpuRealtimePeriod
  if ((r.cpuRealtimeRuntime ?? 0) !== 0) cpu.realtimeRuntime = r.cpuRealtimeRuntime
  if (r.cpusetCpus) cpu.cpus = r.cpusetCpus
  if (r.cpusetMems) cpu.mems = r.cpusetMems

  const out: Omit<OciResources, 'devices'> = { memory, cpu }
  if (r.pidsLimit !== undefined) out.pids = { limit: r.pidsLimit > 0 ? r.pidsLimit : -1 }
  // Docker always writes blockIO.weight; 0 means "not set" to runc but crun would write it to a
  // blkio.weight that many kernels lack, so it is only written when set.
  if ((r.blkioWeight ?? 0) > 0) out.blockIO = { weight: r.blkioWeight }
  return out
}

// =============================================================================================
// Devices

/** Major and minor of a Linux dev_t. */
function splitDev(dev: bigint): { major: number; minor: number } {
  return {
    major: Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn)),
    minor: Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn)),
  }
}

class NotADevice extends Error {
  constructor() {
    super('not a device node')
  }
}

const S_IFMT = 0o170000n
const S_IFBLK = 0o060000n
const S_IFCHR = 0o020000n
const S_IFIFO = 0o010000n

/** containerd's DeviceFromPath: lstat, so a symlink is not a device; fifos are type "p". */
function deviceFromPath(path: string): OciLinuxDevice {
  const st = lstatSync(path, { bigint: true })
  const fmt = st.mode & S_IFMT
  const type = fmt === S_IFBLK ? 'b' : fmt === S_IFCHR ? 'c' : fmt === S_IFIFO ? 'p' : undefined
  if (!type) throw new NotADevice()
  const { major, minor } = splitDev(st.rdev)
  return { path, type, major, minor, fileMode: Number(st.mode & ~S_IFMT), uid: Number(st.uid), gid: Number(st.gid) }
}

function sortedEntries(dir: string): Dirent[] {
  return readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

/** Every device node under /dev, as containerd's HostDevices (what --privileged gets). */
export function hostDevices(root = '/dev'): OciLinuxDevice[] {
  const out: OciLinuxDevice[] = []
  const walk = (dir: string) => {
    for (const e of sortedEntries(dir)) {
      const p = posix.join(dir, e.name)
      if (e.isDirectory()) {
        if (['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev'].includes(e.name)) continue
        walk(p)
        continue
      }
      if (e.name === 'console') continue
      let d: OciLinuxDevice
      try {
        d = deviceFromPath(p)
      } catch (err) {
        if (err instanceof NotADevice || errno(err) === 'ENOENT') continue
        throw err
      }
      if (d.type === 'p') continue
      out.push(d)
    }
  }
  walk(root)
  return out
}

function resolvedDevicePath(path: string): string {
  const clean = posix.normalize(path)
  if (!posix.isAbsolute(clean)) return clean
  try {
    const real = realpathSync(clean)
    if (real === '/dev' || real.startsWith('/dev/')) return real
  } catch (err) {
    if (errno(err) !== 'ENOENT' && errno(err) !== 'ENOTDIR' && errno(err) !== 'ELOOP' && errno(err) !== 'EACCES') throw err
  }
  return clean
}

function errnoText(err: unknown): string {
  switch (errno(err)) {
    case 'ENOENT': return 'no such file or directory'
    case 'EACCES': return 'permission denied'
    case 'ENOTDIR': return 'not a directory'
    case 'ELOOP': return 'too many levels of symbolic links'
    default: return err instanceof Error ? err.message : String(err)
  }
}

/**
 * Docker's DevicesFromPath: a device node, or every device node under a directory, mapped to
 * pathInContainer, each with an allow rule of the given permissions.
 */
export function devicesFromPath(
  pathOnHost: string,
  pathInContainer: string,
  permissions: string,
): { devices: OciLinuxDevice[]; rules: OciDeviceCgroup[] } {
  const resolved = resolvedDevicePath(pathOnHost)
  const devices: OciLinuxDevice[] = []
  const rules: OciDeviceCgroup[] = []
  const add = (d: OciLinuxDevice) => {
    devices.push(d)
    rules.push(rule(true, d.type, d.major, d.minor, permissions))
  }
  let firstErr: unknown
  try {
    add({ ...deviceFromPath(resolved), path: pathInContainer })
    return { devices, rules }
  } catch (err) {
    firstErr = err
  }
  if (firstErr instanceof NotADevice) {
    let isDir = false
    try {
      isDir = statSync(resolved).isDirectory()
    } catch (err) {
      if (errno(err) !== 'ENOENT') throw err
    }
    if (isDir) {
      const walk = (dir: string) => {
        let entries: Dirent[]
        try {
          entries = sortedEntries(dir)
        } catch (err) {
          if (errno(err) === 'ENOENT' || errno(err) === 'EACCES') return
          throw err
        }
        for (const e of entries) {
          const p = posix.join(dir, e.name)
          try {
            const d = deviceFromPath(resolvedDevicePath(p))
            add({ ...d, path: p.replace(resolved, pathInContainer) })
          } catch (err) {
            if (!(err instanceof NotADevice) && errno(err) === undefined) throw err
          }
          if (e.isDirectory()) walk(p)
        }
      }
      walk(resolved)
    }
  }
  if (devices.length > 0) return { devices, rules }
  throw bad(
    'ERR_INVALID_DEVICE',
    `error gathering device information while adding custom device ${q(pathOnHost)}: ${firstErr instanceof NotADevice ? firstErr.message : errnoText(firstErr)}`,
  )
}

function validDeviceMode(mode: string): boolean {
  if (mode.length === 0 || mode.length > 3) return false
  const seen = new Set<string>()
  for (const c of mode) {
    if (!'rwm'.includes(c) || seen.has(c)) return false
    seen.add(c)
  }
  return true
}

// =============================================================================================
// Sysctls, ulimits

const IPC_SYSCTLS = new Set([
  'kernel.msgmax',
  'kernel.msgmnb',
  'kernel.msgmni',
  'kernel.sem',
  'kernel.shmall',
  'kernel.shmmax',
  'kernel.shmmni',
  'kernel.shm_rmid_forced',
])

/**
 * Only namespaced sysctls, each in a namespace of the container's own, as the runtime
 * (runc's validator, whose words Docker users see) allows.
 */
export function validateSysctls(
  sysctls: Record<string, string>,
  namespaces: ReadonlyArray<{ type: NamespaceType; path?: string }>,
  host: HostInfo = hostInfo(),
): void {
  const ns = (t: NamespaceType) => namespaces.find((n) => n.type === t)
  for (const key of Object.keys(sysctls)) {
    const s = key.replaceAll('/', '.')
    if (IPC_SYSCTLS.has(s) || s.startsWith('fs.mqueue.')) {
      if (!ns('ipc')) throw bad('ERR_INVALID_SYSCTL', `sysctl ${q(key)} is not allowed in the hosts ipc namespace`)
      continue
    }
    if (s.startsWith('net.')) {
      const net = ns('network')
      if (!net) throw bad('ERR_INVALID_SYSCTL', `sysctl ${q(key)} is not allowed in the hosts network namespace`)
      if (net.path && host.hostNetNs !== undefined) {
        // Not a symlink: a bind-mounted namespace, never the host's.
        const target = readKernelLink(net.path, ['EINVAL', 'ENOENT'])
        if (target === host.hostNetNs) {
          throw bad('ERR_INVALID_SYSCTL', `sysctl ${q(key)} is not allowed in the hosts network namespace`)
        }
      }
      continue
    }
    if (ns('uts')) {
      if (s === 'kernel.domainname') continue
      if (s === 'kernel.hostname') {
        throw bad('ERR_INVALID_SYSCTL', `sysctl ${q(key)} is not allowed as it conflicts with the OCI "hostname" field`)
      }
    }
    throw bad('ERR_INVALID_SYSCTL', `sysctl ${q(key)} is not in a separate kernel namespace`)
  }
}

const ULIMIT_NAMES = new Set([
  'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice',
  'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack',
])

const rlimitValue = (n: number): number | bigint => (n < 0 ? RLIM_INFINITY : n)

function rlimits(ulimits: SpecInput['ulimits']): OciRlimit[] {
  return ulimits.map((u) => {
    if (!ULIMIT_NAMES.has(u.name)) throw bad('ERR_INVALID_ULIMIT', `invalid ulimit type: ${u.name}`)
    const soft = rlimitValue(u.soft)
    const hard = rlimitValue(u.hard)
    if (BigInt(soft) > BigInt(hard)) {
      throw bad('ERR_INVALID_ULIMIT', `ulimit soft limit must be less than or equal to hard limit: ${u.soft} > ${u.hard}`)
    }
    return { type: `RLIMIT_${u.name.toUpperCase()}`, hard, soft }
  })
}

// =============================================================================================
// Mounts

const depth = (p: string) => posix.normalize(p).split('/').length - 1

// =============================================================================================
// buildSpec

/** The container's config.json. Throws Docker's validation errors (kind InvalidArgument). */
export function buildSpec(input: SpecInput, host: HostInfo = hostInfo()): OciSpec {
  if (!posix.isAbsolute(input.rootfs)) throw bad('ERR_INVALID_ROOTFS', `rootfs must be an absolute path: ${input.rootfs}`)
  if (input.args.length === 0) throw bad('ERR_NO_COMMAND', 'no command specified')
  const oomScoreAdj = input.oomScoreAdj ?? 0
  if (oomScoreAdj < -1000 || oomScoreAdj > 1000) {
    throw bad('ERR_INVALID_OOM_SCORE_ADJ', `Invalid value ${oomScoreAdj}, range for oom score adj is [-1000, 1000]`)
  }
  if (input.shmSize < 0) throw bad('ERR_INVALID_SHM_SIZE', 'SHM size can not be less than 0')
  const shmSize = input.shmSize || DEFAULT_SHM_SIZE

  // --- namespaces (Docker's default set, then the container's modes)
  const namespaces: Array<{ type: NamespaceType; path?: string }> = [
    { type: 'mount' },
    { type: 'network' },
    { type: 'uts' },
    { type: 'pid' },
    { type: 'ipc' },
  ]
  const setNs = (type: NamespaceType, mode: NsMode) => {
    const i = namespaces.findIndex((n) => n.type === type)
    if (mode.kind === 'host') {
      if (i >= 0) namespaces.splice(i, 1)
      return
    }
    if (mode.kind === 'path' && !posix.isAbsolute(mode.path)) {
      throw bad('ERR_INVALID_NAMESPACE', `invalid ${type} namespace path: ${mode.path}`)
    }
    const ns: { type: NamespaceType; path?: string } = mode.kind === 'path' ? { type, path: mode.path } : { type }
    if (i >= 0) namespaces[i] = ns
    else namespaces.push(ns)
  }
  setNs('network', input.namespaces.network)
  setNs('ipc', input.namespaces.ipc)
  setNs('pid', input.namespaces.pid)
  setNs('uts', input.namespaces.uts)
  setNs('cgroup', input.namespaces.cgroup ?? (host.cgroup2 ? { kind: 'private' } : { kind: 'host' }))

  // --- process
  let args = [...input.args]
  const mounts = defaultMounts()
  if (input.init && input.namespaces.pid.kind === 'private') {
    // Only in a pid namespace of its own: elsewhere there is an init already.
    args = [INIT_PATH, '--', ...args]
    mounts.push({ destination: INIT_PATH, type: 'bind', source: input.init.path, options: ['bind', 'ro'] })
  }

  const caps = tweakCapabilities(input.capAdd, input.capDrop, input.privileged, host)
  // Root gets them effective and permitted; another user only bounded, as execve would leave it.
  const capabilities: OciCapabilities =
    input.user.uid === 0 ? { bounding: caps, effective: [...caps], permitted: [...caps] } : { bounding: caps }

  const user: OciProcess['user'] = { uid: input.user.uid, gid: input.user.gid }
  if (input.user.umask !== undefined) user.umask = input.user.umask
  if (input.user.additionalGids.length) user.additionalGids = [...input.user.additionalGids]

  const proc: OciProcess = {
    terminal: input.terminal,
    user,
    args,
    env: [...input.env],
    cwd: input.cwd || '/',
    capabilities,
  }
  if (input.terminal && input.consoleSize && input.consoleSize.height > 0 && input.consoleSize.width > 0) {
    proc.consoleSize = { ...input.consoleSize }
  }
  const rl = rlimits(input.ulimits)
  if (rl.length) proc.rlimits = rl
  if (input.noNewPrivileges) proc.noNewPrivileges = true
  proc.oomScoreAdj = oomScoreAdj

  // --- sysctls: Docker's defaults for a network namespace of the container's own, the
  // NIS domain name, then the container's (which win)
  const sysctl: Record<string, string> = {}
  if (input.domainname) sysctl['kernel.domainname'] = input.domainname
  const net = input.namespaces.network
  if (net.kind === 'private' || (net.kind === 'path' && net.private)) {
    if (!host.inUserNamespace && host.sysctls.pingGroupRange) sysctl['net.ipv4.ping_group_range'] = '0 2147483647'
    if (host.sysctls.unprivilegedPortStart) sysctl['net.ipv4.ip_unprivileged_port_start'] = '0'
  }
  Object.assign(sysctl, input.sysctls)
  validateSysctls(sysctl, namespaces, host)

  // --- resources and devices
  const checked = verifyResources(input.resources, input.nanoCpus, host)
  const resources: OciResources = ociResources(checked.resources, checked.nanoCpus)
  let devices: OciLinuxDevice[] = []
  let deviceRules: OciDeviceCgroup[]
  for (const d of input.devices) {
    const perms = d.cgroupPermissions || 'rwm'
    if (!validDeviceMode(perms)) throw bad('ERR_INVALID_DEVICE', `invalid device mode: ${d.cgroupPermissions}`)
  }
  if (input.privileged) {
    devices = hostDevices()
    for (const d of input.devices) {
      if (d.pathOnHost === d.pathInContainer) continue // already there with every host device
      devices.push(...devicesFromPath(d.pathOnHost, d.pathInContainer, 'rwm').devices)
    }
    deviceRules = [{ allow: true, access: 'rwm' }]
  } else {
    deviceRules = defaultDeviceRules()
    for (const d of input.devices) {
      const found = devicesFromPath(d.pathOnHost, d.pathInContainer, d.cgroupPermissions || 'rwm')
      devices.push(...found.devices)
      deviceRules.push(...found.rules)
    }
    for (const r of input.deviceCgroupRules ?? []) deviceRules.push(parseDeviceCgroupRule(r))
  }
  resources.devices = deviceRules

  // --- mounts: defaults (less those replaced by the container's, those under a /dev of its
  // own, /dev/shm without IPC), /dev/shm sized, then the container's, parents first
  const extra = input.mounts.map((m) => ({ ...m, options: [...m.options] }))
  if (input.namespaces.ipc.kind === 'host' && !input.noShm && !extra.some((m) => m.destination === '/dev/shm')) {
    extra.push({ destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'rprivate'] })
  }
  extra.sort((a, b) => depth(a.destination) - depth(b.destination))
  const userDests = new Set(extra.map((m) => posix.normalize(m.destination)))
  const userDev = userDests.has('/dev')
  const specMounts: OciMount[] = []
  for (const m of mounts) {
    if (userDests.has(m.destination)) continue
    if (userDev && m.destination.startsWith('/dev/')) continue
    if (m.destination === '/dev/shm') {
      if (input.noShm) continue
      m.options.push(`size=${shmSize}`)
    }
    specMounts.push(m)
  }
  if (input.readonlyRootfs) {
    for (const m of specMounts) {
      if (['/proc', '/dev/pts', '/dev/shm', '/dev/mqueue', '/dev'].includes(m.destination)) continue
      if (!m.options.includes('ro')) m.options.push('ro')
    }
  }
  if (input.privileged) {
    for (const m of specMounts) {
      if (m.destination === '/sys' || m.type === 'cgroup') m.options = m.options.filter((o) => o !== 'ro')
    }
  }
  specMounts.push(...extra)

  // --- hostname: none in the host's UTS namespace
  const spec: OciSpec = {
    ociVersion: OCI_VERSION,
    process: proc,
    root: { path: input.rootfs, readonly: input.readonlyRootfs },
    mounts: specMounts,
    linux: {
      resources,
      cgroupsPath: input.cgroupsPath,
      namespaces,
    },
  }
  if (input.namespaces.uts.kind !== 'host' && input.hostname) spec.hostname = input.hostname
  if (input.annotations && Object.keys(input.annotations).length) spec.annotations = { ...input.annotations }
  if (Object.keys(sysctl).length) spec.linux.sysctl = sysctl
  if (devices.length) spec.linux.devices = devices

  // --- masked and read-only paths: none when privileged, unless explicitly given
  const masked = input.maskedPaths ?? (input.privileged ? undefined : [...DEFAULT_MASKED_PATHS, ...host.extraMaskedPaths])
  const readonly = input.readonlyPaths ?? (input.privileged ? undefined : [...DEFAULT_READONLY_PATHS])
  if (masked && masked.length) spec.linux.maskedPaths = [...masked]
  if (readonly && readonly.length) spec.linux.readonlyPaths = [...readonly]

  // --- seccomp, after the capabilities it depends on: none when privileged or unconfined
  if (!input.privileged && input.seccomp.mode !== 'unconfined') {
    if (!host.features.seccomp) {
      if (input.seccomp.mode === 'custom') {
        throw bad('ERR_SECCOMP_UNSUPPORTED', 'seccomp is not enabled in your kernel, cannot run a custom seccomp profile')
      }
    } else {
      const ctx = { bounding: caps, goArch: host.goArch, kernelRelease: host.kernelRelease }
      const seccomp = input.seccomp.mode === 'default' ? defaultSeccomp(ctx) : setupSeccomp(input.seccomp.profile, ctx)
      if (seccomp) spec.linux.seccomp = seccomp
    }
  }
  return spec
}
