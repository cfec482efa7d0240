import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { EngineError, errno } from '../lib/errors.js'
import { repairCgroupV1Hierarchies } from '../platform/cgroups.js'
import { loadDefaultProfile } from './seccomp.js'
import {
  buildSpec,
  DEFAULT_CAPABILITIES,
  DEFAULT_MASKED_PATHS,
  hostDevices,
  hostInfo,
  KNOWN_CAPABILITIES,
  serializeSpec,
  verifyResources,
  type HostInfo,
  type OciSpec,
  type SpecInput,
} from './spec.js'

// =============================================================================================
// Unit tests, on a fixed host

function fakeHost(over: Partial<HostInfo> = {}): HostInfo {
  return {
    capabilities: [...KNOWN_CAPABILITIES],
    cgroup2: false,
    numCpus: 4,
    cpusetCpus: '0-3',
    cpusetMems: '0',
    features: {
      memoryLimit: true,
      swapLimit: true,
      memoryReservation: true,
      memorySwappiness: true,
      oomKillDisable: true,
      pidsLimit: true,
      cpuShares: true,
      cpuCfs: true,
      cpuRealtime: true,
      cpuset: true,
      blkioWeight: true,
      seccomp: true,
    },
    inUserNamespace: false,
    kernelRelease: '6.1.0-18-amd64',
    goArch: 'amd64',
    extraMaskedPaths: [],
    sysctls: { pingGroupRange: true, unprivilegedPortStart: true },
    hostNetNs: 'net:[4026531833]',
    ...over,
  }
}

const ID = 'a'.repeat(64)

function input(over: Partial<SpecInput> = {}): SpecInput {
  return {
    id: ID,
    rootfs: '/var/lib/berth/containers/x/rootfs',
    readonlyRootfs: false,
    args: ['sh'],
    env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=aaaaaaaaaaaa'],
    cwd: '',
    user: { uid: 0, gid: 0, additionalGids: [] },
    terminal: false,
    hostname: 'aaaaaaaaaaaa',
    privileged: false,
    capAdd: [],
    capDrop: [],
    noNewPrivileges: false,
    seccomp: { mode: 'default' },
    namespaces: { network: { kind: 'private' }, pid: { kind: 'private' }, ipc: { kind: 'private' }, uts: { kind: 'private' } },
    mounts: [],
    devices: [],
    resources: {},
    cgroupsPath: `/berth/${ID}`,
    shmSize: 0,
    sysctls: {},
    ulimits: [],
    ...over,
  }
}

const build = (over: Partial<SpecInput> = {}, host: Partial<HostInfo> = {}) => buildSpec(input(over), fakeHost(host))

function throwsDocker(fn: () => unknown, message: string) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof EngineError, `expected an EngineError, got ${String(err)}`)
    assert.equal(err.kind, 'InvalidArgument')
    assert.equal(err.message, message)
    return true
  })
}

const mount = (s: OciSpec, dest: string) => s.mounts.find((m) => m.destination === dest)

describe('buildSpec: Docker defaults', () => {
  const s = build()

  it('writes a runtime-spec 1.0.2 document for the rootfs', () => {
    assert.equal(s.ociVersion, '1.0.2-dev')
    assert.deepEqual(s.root, { path: '/var/lib/berth/containers/x/rootfs', readonly: false })
    assert.equal(s.hostname, 'aaaaaaaaaaaa')
    assert.equal(s.process.cwd, '/')
    assert.deepEqual(s.process.args, ['sh'])
    assert.equal(s.process.terminal, false)
    assert.deepEqual(s.process.user, { uid: 0, gid: 0 })
    assert.equal(s.process.oomScoreAdj, 0)
    assert.equal(s.process.noNewPrivileges, undefined)
    assert.equal(s.process.rlimits, undefined)
    assert.equal(s.linux.cgroupsPath, `/berth/${ID}`)
  })

  it('gives root the 14 default capabilities, bounding, effective and permitted, nothing inheritable', () => {
    assert.deepEqual(DEFAULT_CAPABILITIES, [
      'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
      'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
    ])
    assert.deepEqual(s.process.capabilities, {
      bounding: [...DEFAULT_CAPABILITIES],
      effective: [...DEFAULT_CAPABILITIES],
      permitted: [...DEFAULT_CAPABILITIES],
    })
    // the mask a container's /proc/self/status shows: 00000000a80425fb
    const mask = DEFAULT_CAPABILITIES.reduce((m, c) => m | (1n << BigInt(KNOWN_CAPABILITIES.indexOf(c))), 0n)
    assert.equal(mask.toString(16).padStart(16, '0'), '00000000a80425fb')
  })

  it('bounds another user only, as execve would leave it', () => {
    const u = build({ user: { uid: 1000, gid: 1000, additionalGids: [10, 20], umask: 0o22 } })
    assert.deepEqual(u.process.capabilities, { bounding: [...DEFAULT_CAPABILITIES] })
    assert.deepEqual(u.process.user, { uid: 1000, gid: 1000, umask: 0o22, additionalGids: [10, 20] })
  })

  it('mounts /proc, /dev, /dev/pts, /sys, /sys/fs/cgroup, /dev/mqueue and /dev/shm with Docker options', () => {
    assert.deepEqual(s.mounts, [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=67108864'] },
    ])
    assert.deepEqual(mount(build({ shmSize: 1 << 20 }), '/dev/shm')?.options.at(-1), 'size=1048576')
  })

  it('masks and write-protects Docker paths, plus the host thermal_throttle directories', () => {
    assert.deepEqual(s.linux.maskedPaths, [...DEFAULT_MASKED_PATHS])
    for (const p of ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/sched_debug', '/proc/acpi', '/sys/firmware', '/proc/interrupts']) {
      assert.ok(s.linux.maskedPaths?.includes(p), p)
    }
    assert.deepEqual(s.linux.readonlyPaths, ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'])
    const t = build({}, { extraMaskedPaths: ['/sys/devices/system/cpu/cpu0/thermal_throttle'] })
    assert.equal(t.linux.maskedPaths?.at(-1), '/sys/devices/system/cpu/cpu0/thermal_throttle')
  })

  it('creates mount, network, uts, pid and ipc namespaces; cgroup only on cgroup v2', () => {
    assert.deepEqual(s.linux.namespaces, [{ type: 'mount' }, { type: 'network' }, { type: 'uts' }, { type: 'pid' }, { type: 'ipc' }])
    assert.deepEqual(build({}, { cgroup2: true }).linux.namespaces.at(-1), { type: 'cgroup' })
  })

  it('denies every device but the standard ones (Docker list, then runc defaults)', () => {
    assert.deepEqual(s.linux.resources.devices?.slice(0, 8), [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
      { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
      { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' },
      { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' },
    ])
    const rest = s.linux.resources.devices?.slice(8) ?? []
    assert.deepEqual(rest[0], { allow: true, type: 'c', access: 'm' })
    assert.deepEqual(rest[1], { allow: true, type: 'b', access: 'm' })
    assert.ok(rest.some((r) => r.major === 136 && r.minor === undefined && r.access === 'rwm'), 'pts')
    assert.ok(rest.some((r) => r.major === 5 && r.minor === 2), 'ptmx')
    assert.ok(rest.some((r) => r.major === 10 && r.minor === 200), 'tun')
    assert.ok(rest.some((r) => r.major === 1 && r.minor === 7), 'full')
    assert.equal(s.linux.devices, undefined)
  })

  it('sets the network sysctls Docker sets in a network namespace of the container own', () => {
    assert.deepEqual(s.linux.sysctl, { 'net.ipv4.ping_group_range': '0 2147483647', 'net.ipv4.ip_unprivileged_port_start': '0' })
    assert.equal(build({}, { inUserNamespace: true }).linux.sysctl?.['net.ipv4.ping_group_range'], undefined)
    assert.equal(build({}, { sysctls: { pingGroupRange: false, unprivilegedPortStart: false } }).linux.sysctl, undefined)
  })

  it('applies the default seccomp profile resolved for the capabilities', () => {
    assert.equal(s.linux.seccomp?.defaultAction, 'SCMP_ACT_ERRNO')
    assert.deepEqual(s.linux.seccomp?.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'])
    const names = new Set(s.linux.seccomp?.syscalls?.flatMap((r) => r.names))
    assert.ok(!names.has('mount'))
    const admin = build({ capAdd: ['SYS_ADMIN'] })
    assert.ok(admin.linux.seccomp?.syscalls?.some((r) => r.names.includes('mount')))
  })

  it('leaves out what Docker leaves out', () => {
    assert.equal(s.linux.resources.blockIO, undefined)
    assert.equal(s.linux.resources.pids, undefined)
    assert.deepEqual(s.linux.resources.memory, { disableOOMKiller: false })
    assert.deepEqual(s.linux.resources.cpu, { shares: 0 })
    assert.equal(s.annotations, undefined)
  })
})

describe('buildSpec: capabilities', () => {
  const caps = (over: Partial<SpecInput>, host: Partial<HostInfo> = {}) => build(over, host).process.capabilities.bounding

  it('adds and drops in any spelling', () => {
    assert.deepEqual(caps({ capAdd: ['net_admin', 'CAP_SYS_PTRACE'], capDrop: ['mknod', 'CAP_NET_RAW'] }), [
      ...DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_MKNOD' && c !== 'CAP_NET_RAW'),
      'CAP_NET_ADMIN',
      'CAP_SYS_PTRACE',
    ])
  })

  it('treats ALL as Docker does', () => {
    assert.deepEqual(caps({ capAdd: ['ALL'] }), [...KNOWN_CAPABILITIES])
    assert.deepEqual(caps({ capAdd: ['all'], capDrop: ['SYS_ADMIN'] }), KNOWN_CAPABILITIES.filter((c) => c !== 'CAP_SYS_ADMIN'))
    assert.deepEqual(caps({ capDrop: ['ALL'], capAdd: ['chown', 'KILL'] }), ['CAP_CHOWN', 'CAP_KILL'])
    assert.deepEqual(caps({ capDrop: ['ALL'] }), [])
    // ALL is what the daemon holds, not what the kernel knows
    const held = KNOWN_CAPABILITIES.filter((c) => c !== 'CAP_SYS_RESOURCE')
    assert.deepEqual(caps({ capAdd: ['ALL'] }, { capabilities: held }), held)
  })

  it('refuses unknown capabilities in Docker words', () => {
    throwsDocker(() => build({ capAdd: ['FOO'] }), 'unknown capability: "CAP_FOO"')
    throwsDocker(() => build({ capDrop: ['cap_foo'] }), 'unknown capability: "CAP_FOO"')
    throwsDocker(
      () => build({ capAdd: ['SYS_RESOURCE'] }, { capabilities: KNOWN_CAPABILITIES.filter((c) => c !== 'CAP_SYS_RESOURCE') }),
      'capability not supported by your kernel or not available in the current environment: "CAP_SYS_RESOURCE"',
    )
  })
})

describe('buildSpec: privileged', () => {
  const s = build({ privileged: true, capDrop: ['ALL'] })

  it('gets every capability the daemon holds, no seccomp, no masked or read-only paths', () => {
    assert.deepEqual(s.process.capabilities.bounding, [...KNOWN_CAPABILITIES])
    assert.equal(s.linux.seccomp, undefined)
    assert.equal(s.linux.maskedPaths, undefined)
    assert.equal(s.linux.readonlyPaths, undefined)
  })

  it('mounts /sys and the cgroups read-write', () => {
    assert.deepEqual(mount(s, '/sys')?.options, ['nosuid', 'noexec', 'nodev'])
    assert.deepEqual(mount(s, '/sys/fs/cgroup')?.options, ['nosuid', 'noexec', 'nodev'])
  })

  it('gets every host device, all allowed', () => {
    assert.deepEqual(s.linux.resources.devices, [{ allow: true, access: 'rwm' }])
    // the host /dev as enumerated now (it may change under a running test suite: compare a stable part)
    const paths = new Set(s.linux.devices?.map((d) => d.path))
    for (const p of ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty']) assert.ok(paths.has(p), p)
    assert.ok(hostDevices().some((d) => d.path === '/dev/null'))
    const nul = s.linux.devices?.find((d) => d.path === '/dev/null')
    assert.deepEqual(nul && { type: nul.type, major: nul.major, minor: nul.minor }, { type: 'c', major: 1, minor: 3 })
    assert.ok(!s.linux.devices?.some((d) => d.path.startsWith('/dev/pts/') || d.path === '/dev/console'))
  })

  it('keeps explicit masked and read-only paths', () => {
    const p = build({ privileged: true, maskedPaths: ['/proc/kcore'], readonlyPaths: ['/proc/sys'] })
    assert.deepEqual(p.linux.maskedPaths, ['/proc/kcore'])
    assert.deepEqual(p.linux.readonlyPaths, ['/proc/sys'])
  })
})

describe('buildSpec: options', () => {
  it('clears masked and read-only paths for systempaths=unconfined', () => {
    const s = build({ maskedPaths: [], readonlyPaths: [] })
    assert.equal(s.linux.maskedPaths, undefined)
    assert.equal(s.linux.readonlyPaths, undefined)
  })

  it('makes the root and the system mounts read-only, not the container mounts', () => {
    const s = build({
      readonlyRootfs: true,
      mounts: [{ destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'rprivate'] }],
      init: { path: '/usr/bin/catatonit' },
    })
    assert.equal(s.root.readonly, true)
    assert.deepEqual(mount(s, '/data')?.options, ['rbind', 'rprivate'])
    assert.ok(!mount(s, '/dev/shm')?.options.includes('ro'))
    assert.ok(!mount(s, '/proc')?.options.includes('ro'))
    assert.deepEqual(mount(s, '/sbin/docker-init')?.options, ['bind', 'ro'])
  })

  it('runs --init as pid 1 in a pid namespace of its own only', () => {
    const s = build({ init: { path: '/usr/bin/catatonit' }, args: ['nginx', '-g', 'daemon off;'] })
    assert.deepEqual(s.process.args, ['/sbin/docker-init', '--', 'nginx', '-g', 'daemon off;'])
    assert.deepEqual(mount(s, '/sbin/docker-init'), { destination: '/sbin/docker-init', type: 'bind', source: '/usr/bin/catatonit', options: ['bind', 'ro'] })
    // after the default mounts, before the container's
    const withMounts = build({ init: { path: '/i' }, mounts: [{ destination: '/a', type: 'tmpfs', source: 'tmpfs', options: [] }] })
    assert.deepEqual(withMounts.mounts.slice(-2).map((m) => m.destination), ['/sbin/docker-init', '/a'])
    const hostPid = build({ init: { path: '/i' }, namespaces: { ...input().namespaces, pid: { kind: 'host' } } })
    assert.deepEqual(hostPid.process.args, ['sh'])
    assert.equal(mount(hostPid, '/sbin/docker-init'), undefined)
  })

  it('maps namespace modes', () => {
    const s = build({
      namespaces: {
        network: { kind: 'path', path: '/run/berth/netns/x' },
        pid: { kind: 'host' },
        ipc: { kind: 'path', path: '/proc/42/ns/ipc' },
        uts: { kind: 'host' },
        cgroup: { kind: 'private' },
      },
      mounts: [{ destination: '/dev/shm', type: 'bind', source: '/var/lib/berth/containers/y/shm', options: ['rbind', 'rprivate'] }],
    })
    assert.deepEqual(s.linux.namespaces, [
      { type: 'mount' },
      { type: 'network', path: '/run/berth/netns/x' },
      { type: 'ipc', path: '/proc/42/ns/ipc' },
      { type: 'cgroup' },
    ])
    assert.equal(s.hostname, undefined)
    // joined, not private: no default sysctls
    assert.equal(s.linux.sysctl, undefined)
    assert.deepEqual(mount(s, '/dev/shm')?.source, '/var/lib/berth/containers/y/shm')
    assert.equal(s.mounts.filter((m) => m.destination === '/dev/shm').length, 1)
    const own = build({ namespaces: { ...input().namespaces, network: { kind: 'path', path: '/run/berth/netns/x', private: true } } })
    assert.equal(own.linux.sysctl?.['net.ipv4.ip_unprivileged_port_start'], '0')
  })

  it('shares the host /dev/shm with the host IPC namespace, none for IPC none', () => {
    const h = build({ namespaces: { ...input().namespaces, ipc: { kind: 'host' } } })
    assert.deepEqual(mount(h, '/dev/shm'), { destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'rprivate'] })
    assert.equal(mount(build({ noShm: true }), '/dev/shm'), undefined)
  })

  it('lets container mounts replace default ones, a /dev of its own drop those under /dev, parents first', () => {
    const s = build({
      mounts: [
        { destination: '/data/sub', type: 'bind', source: '/b', options: ['rbind', 'ro', 'rprivate'] },
        { destination: '/dev', type: 'bind', source: '/dev', options: ['rbind'] },
        { destination: '/data', type: 'bind', source: '/a', options: ['rbind', 'rprivate'] },
      ],
    })
    assert.deepEqual(s.mounts.map((m) => m.destination), ['/proc', '/sys', '/sys/fs/cgroup', '/dev', '/data', '/data/sub'])
  })

  it('sets the hostname, the NIS domain name (as Docker, by sysctl), the terminal and the console size', () => {
    const s = build({ hostname: 'web', domainname: 'example.com', terminal: true, consoleSize: { height: 40, width: 120 } })
    assert.equal(s.hostname, 'web')
    assert.equal(s.linux.sysctl?.['kernel.domainname'], 'example.com')
    assert.equal(s.process.terminal, true)
    assert.deepEqual(s.process.consoleSize, { height: 40, width: 120 })
  })

  it('sets no-new-privileges, the OOM score and the annotations', () => {
    const s = build({ noNewPrivileges: true, oomScoreAdj: -500, annotations: { 'org.example': 'x' } })
    assert.equal(s.process.noNewPrivileges, true)
    assert.equal(s.process.oomScoreAdj, -500)
    assert.deepEqual(s.annotations, { 'org.example': 'x' })
    throwsDocker(() => build({ oomScoreAdj: 1001 }), 'Invalid value 1001, range for oom score adj is [-1000, 1000]')
    throwsDocker(() => build({ shmSize: -1 }), 'SHM size can not be less than 0')
  })

  it('turns off seccomp when unconfined, resolves a custom profile against the capabilities', () => {
    assert.equal(build({ seccomp: { mode: 'unconfined' } }).linux.seccomp, undefined)
    const profile = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mount'], action: 'SCMP_ACT_ERRNO', excludes: { caps: ['CAP_SYS_ADMIN'] } }],
    }
    assert.deepEqual(build({ seccomp: { mode: 'custom', profile } }).linux.seccomp, {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mount'], action: 'SCMP_ACT_ERRNO' }],
    })
    assert.deepEqual(build({ seccomp: { mode: 'custom', profile }, capAdd: ['SYS_ADMIN'] }).linux.seccomp, { defaultAction: 'SCMP_ACT_ALLOW' })
    throwsDocker(
      () => build({ seccomp: { mode: 'custom', profile } }, { features: { ...fakeHost().features, seccomp: false } }),
      'seccomp is not enabled in your kernel, cannot run a custom seccomp profile',
    )
  })

  it('turns ulimits into rlimits, unlimited being 2^64-1 written exactly', () => {
    const s = build({ ulimits: [{ name: 'nofile', soft: 1024, hard: 4096 }, { name: 'core', soft: -1, hard: -1 }] })
    assert.deepEqual(s.process.rlimits, [
      { type: 'RLIMIT_NOFILE', hard: 4096, soft: 1024 },
      { type: 'RLIMIT_CORE', hard: 18446744073709551615n, soft: 18446744073709551615n },
    ])
    const text = serializeSpec(s)
    assert.match(text, /\{"type":"RLIMIT_CORE","hard":18446744073709551615,"soft":18446744073709551615\}/)
    assert.equal(JSON.parse(text).process.rlimits[0].soft, 1024)
    throwsDocker(() => build({ ulimits: [{ name: 'files', soft: 1, hard: 1 }] }), 'invalid ulimit type: files')
    throwsDocker(() => build({ ulimits: [{ name: 'nofile', soft: 10, hard: 5 }] }), 'ulimit soft limit must be less than or equal to hard limit: 10 > 5')
  })
})

describe('buildSpec: sysctls', () => {
  const ns = input().namespaces

  it('passes namespaced sysctls, the container own winning over the defaults', () => {
    const s = build({ sysctls: { 'kernel.shmmax': '1000000', 'fs.mqueue.msg_max': '20', 'net.ipv4.ping_group_range': '0 0', 'net.core.somaxconn': '1024' } })
    assert.deepEqual(s.linux.sysctl, {
      'net.ipv4.ping_group_range': '0 0',
      'net.ipv4.ip_unprivileged_port_start': '0',
      'kernel.shmmax': '1000000',
      'fs.mqueue.msg_max': '20',
      'net.core.somaxconn': '1024',
    })
  })

  it('refuses the others in the runtime words Docker users see', () => {
    throwsDocker(() => build({ sysctls: { 'kernel.pid_max': '1' } }), 'sysctl "kernel.pid_max" is not in a separate kernel namespace')
    throwsDocker(() => build({ sysctls: { 'vm.max_map_count': '262144' } }), 'sysctl "vm.max_map_count" is not in a separate kernel namespace')
    throwsDocker(
      () => build({ sysctls: { 'net.ipv4.ip_forward': '1' }, namespaces: { ...ns, network: { kind: 'host' } } }),
      'sysctl "net.ipv4.ip_forward" is not allowed in the hosts network namespace',
    )
    throwsDocker(
      () => build({ sysctls: { 'kernel.msgmax': '1' }, namespaces: { ...ns, ipc: { kind: 'host' } } }),
      'sysctl "kernel.msgmax" is not allowed in the hosts ipc namespace',
    )
    throwsDocker(
      () => build({ sysctls: { 'kernel.hostname': 'x' } }),
      'sysctl "kernel.hostname" is not allowed as it conflicts with the OCI "hostname" field',
    )
    throwsDocker(
      () => build({ domainname: 'example.com', namespaces: { ...ns, uts: { kind: 'host' } } }),
      'sysctl "kernel.domainname" is not in a separate kernel namespace',
    )
  })

  it('refuses net.* in a joined namespace that is the host one', () => {
    const hostNs = hostInfo().hostNetNs
    if (!hostNs) return
    throwsDocker(
      () => build({ sysctls: { 'net.core.somaxconn': '1' }, namespaces: { ...ns, network: { kind: 'path', path: '/proc/self/ns/net' } } }, { hostNetNs: hostNs }),
      'sysctl "net.core.somaxconn" is not allowed in the hosts network namespace',
    )
  })
})

describe('buildSpec: resources', () => {
  it('maps limits as Docker does', () => {
    const s = build({
      resources: {
        memory: 64 << 20,
        memoryReservation: 32 << 20,
        memorySwappiness: 10,
        cpuShares: 512,
        cpusetCpus: '0-1',
        cpusetMems: '0',
        pidsLimit: 100,
        oomKillDisable: true,
        blkioWeight: 300,
        cpuRealtimePeriod: 1000000,
        cpuRealtimeRuntime: 950000,
      },
      nanoCpus: 1.5e9,
    })
    assert.deepEqual(s.linux.resources.memory, { limit: 67108864, reservation: 33554432, swap: 134217728, swappiness: 10, disableOOMKiller: true })
    assert.deepEqual(s.linux.resources.cpu, { shares: 512, period: 100000, quota: 150000, realtimePeriod: 1000000, realtimeRuntime: 950000, cpus: '0-1', mems: '0' })
    assert.deepEqual(s.linux.resources.pids, { limit: 100 })
    assert.deepEqual(s.linux.resources.blockIO, { weight: 300 })
  })

  it('handles swap, quota and pids special values', () => {
    assert.equal(build({ resources: { memory: 64 << 20, memorySwap: -1 } }).linux.resources.memory?.swap, undefined)
    assert.equal(build({ resources: { memory: 64 << 20, memorySwap: 100 << 20 } }).linux.resources.memory?.swap, 100 << 20)
    assert.equal(build({ resources: { memorySwappiness: -1 } }).linux.resources.memory?.swappiness, undefined)
    assert.equal(build({ resources: { pidsLimit: 0 } }).linux.resources.pids, undefined)
    assert.equal(build({ resources: { pidsLimit: -1 } }).linux.resources.pids, undefined)
    assert.equal(verifyResources({ pidsLimit: -1 }, undefined, fakeHost(), { update: true }).resources.pidsLimit, -1)
    assert.deepEqual(build({ resources: { cpuPeriod: 50000, cpuQuota: -1 } }).linux.resources.cpu, { shares: 0, period: 50000, quota: -1 })
    assert.deepEqual(build({ nanoCpus: 1e7 }).linux.resources.cpu, { shares: 0, period: 100000, quota: 1000 })
    assert.equal(build({ resources: { cpuShares: 1 } }).linux.resources.cpu?.shares, 2)
    assert.equal(build({ resources: { cpuShares: 1 << 20 } }).linux.resources.cpu?.shares, 262144)
  })

  it('refuses what Docker refuses, in its words', () => {
    const cases: Array<[Partial<SpecInput>, string]> = [
      [{ resources: { memory: 1 << 20 } }, 'Minimum memory limit allowed is 6MB'],
      [{ resources: { memoryReservation: 1 << 20 } }, 'Minimum memory reservation allowed is 6MB'],
      [{ resources: { memory: 8 << 20, memoryReservation: 16 << 20 } }, 'Minimum memory limit can not be less than memory reservation limit, see usage'],
      [{ resources: { memory: 16 << 20, memorySwap: 8 << 20 } }, 'Minimum memoryswap limit should be larger than memory limit, see usage'],
      [{ resources: { memorySwap: 8 << 20 } }, 'You should always set the Memory limit when using Memoryswap limit, see usage'],
      [{ resources: { memorySwappiness: 101 } }, 'Invalid value: 101, valid memory swappiness range is 0-100'],
      [{ resources: { cpuPeriod: 100000 }, nanoCpus: 1e9 }, 'Conflicting options: Nano CPUs and CPU Period cannot both be set'],
      [{ resources: { cpuQuota: 100000 }, nanoCpus: 1e9 }, 'Conflicting options: Nano CPUs and CPU Quota cannot both be set'],
      [{ nanoCpus: 5e9 }, 'Range of CPUs is from 0.01 to 4.00, as there are only 4 CPUs available'],
      [{ resources: { cpuPeriod: 999 } }, 'CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)'],
      [{ resources: { cpuQuota: 999 } }, 'CPU cfs quota can not be less than 1ms (i.e. 1000)'],
      [{ resources: { cpusetCpus: '0-7' } }, 'Requested CPUs are not available - requested 0-7, available: 0-3'],
      [{ resources: { cpusetCpus: '0-x' } }, 'Invalid value 0-x for cpuset cpus: invalid format: 0-x'],
      [{ resources: { cpusetMems: '1' } }, 'Requested memory nodes are not available - requested 1, available: 0'],
      [{ resources: { blkioWeight: 5 } }, 'Range of blkio weight is from 10 to 1000'],
      [{ resources: { cpuShares: -1 } }, 'shares: invalid argument'],
      [{ resources: { cpuRealtimePeriod: 1000, cpuRealtimeRuntime: 2000 } }, 'cpu real-time runtime cannot be higher than cpu real-time period'],
    ]
    for (const [over, message] of cases) throwsDocker(() => build(over), message)
  })

  it('discards, with Docker warnings, what the host cannot enforce', () => {
    const host = fakeHost({ features: { ...fakeHost().features, swapLimit: false, blkioWeight: false, memorySwappiness: false } })
    const r = verifyResources({ memory: 64 << 20, blkioWeight: 300, memorySwappiness: 50 }, undefined, host)
    assert.deepEqual(r.warnings, [
      'Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.',
      'Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.',
      'Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.',
    ])
    const s = buildSpec(input({ resources: { memory: 64 << 20, blkioWeight: 300 } }), host)
    assert.deepEqual(s.linux.resources.memory, { limit: 67108864, disableOOMKiller: false })
    assert.equal(s.linux.resources.blockIO, undefined)
    assert.deepEqual(verifyResources({ oomKillDisable: true }, undefined, fakeHost()).warnings, [
      'OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.',
    ])
  })
})

describe('buildSpec: devices', () => {
  it('adds a --device node with its cgroup rule', () => {
    const s = build({ devices: [{ pathOnHost: '/dev/null', pathInContainer: '/dev/mynull', cgroupPermissions: 'rw' }] })
    const st = statSync('/dev/null')
    assert.deepEqual(s.linux.devices, [{ path: '/dev/mynull', type: 'c', major: 1, minor: 3, fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid }])
    assert.deepEqual(s.linux.resources.devices?.at(-1), { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' })
  })

  it('adds every node of a --device directory', () => {
    if (!existsSync('/dev/net/tun')) return
    const s = build({ devices: [{ pathOnHost: '/dev/net', pathInContainer: '/dev/net', cgroupPermissions: '' }] })
    assert.ok(s.linux.devices?.some((d) => d.path === '/dev/net/tun' && d.major === 10 && d.minor === 200))
    assert.deepEqual(s.linux.resources.devices?.at(-1)?.access, 'rwm')
  })

  it('refuses what is not a device, in Docker words', () => {
    throwsDocker(
      () => build({ devices: [{ pathOnHost: '/dev/nonexistent-berth', pathInContainer: '/dev/x', cgroupPermissions: 'rwm' }] }),
      'error gathering device information while adding custom device "/dev/nonexistent-berth": no such file or directory',
    )
    throwsDocker(
      () => build({ devices: [{ pathOnHost: '/etc/hostname', pathInContainer: '/dev/x', cgroupPermissions: 'rwm' }] }),
      'error gathering device information while adding custom device "/etc/hostname": not a device node',
    )
    throwsDocker(() => build({ devices: [{ pathOnHost: '/dev/null', pathInContainer: '/dev/x', cgroupPermissions: 'rwx' }] }), 'invalid device mode: rwx')
  })
})

// =============================================================================================
// On a real runtime: the generated config.json run by crun and runc

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir
    const up = dirname(dir)
    if (up === dir) return process.cwd()
    dir = up
  }
}

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0
}

function fixture(): string | undefined {
  const root = repoRoot()
  const tar = join(root, '.cache/fixtures/busybox.tar')
  if (!existsSync(tar) && existsSync(join(root, 'dist/scripts/make-fixtures.js'))) {
    spawnSync(process.execPath, [join(root, 'dist/scripts/make-fixtures.js'), '--quiet'], { stdio: 'ignore', cwd: root })
  }
  return existsSync(tar) ? tar : undefined
}

const isRoot = process.getuid?.() === 0
const busybox = isRoot ? fixture() : undefined
const skipRuntime = !isRoot ? 'needs root' : !busybox ? 'no busybox fixture (node dist/scripts/make-fixtures.js)' : false
const DEFAULT_MASK = '00000000a80425fb'

interface RunResult {
  code: number
  stdout: string
  stderr: string
}

describe('buildSpec on a real runtime', { skip: skipRuntime }, () => {
  const work = isRoot ? mkdtempSync(join(tmpdir(), 'berth-spec-')) : ''
  const rootfs = join(work, 'rootfs')
  const cgroupParent = `/berth-spectest-${process.pid}`
  let seq = 0

  before(async () => {
    await repairCgroupV1Hierarchies()
    mkdirSync(rootfs)
    const extract = (args: string[]) => {
      const r = spawnSync('tar', args, { encoding: 'utf8' })
      assert.equal(r.status, 0, `tar ${args.join(' ')}: ${r.stderr}`)
    }
    extract(['-xf', busybox ?? '', '-C', work, 'manifest.json'])
    const manifest = JSON.parse(readFileSync(join(work, 'manifest.json'), 'utf8')) as Array<{ Layers: string[] }>
    const layers = manifest[0]?.Layers ?? []
    assert.equal(layers.length, 1, 'busybox has a single layer')
    extract(['-xf', busybox ?? '', '-C', work, layers[0] ?? ''])
    extract(['-xf', join(work, layers[0] ?? ''), '-C', rootfs])
  })

  after(() => {
    // The runtimes remove the container cgroups; the parent is ours.
    for (const ctrl of readdirSync('/sys/fs/cgroup')) {
      try {
        rmdirSync(join('/sys/fs/cgroup', ctrl, cgroupParent))
      } catch (err) {
        if (errno(err) !== 'ENOENT' && errno(err) !== 'ENOTDIR') throw err
      }
    }
    rmSync(work, { recursive: true, force: true })
  })

  function specFor(over: Partial<SpecInput>, id: string): OciSpec {
    return buildSpec(
      input({
        id,
        rootfs,
        env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=spectest'],
        hostname: 'spectest',
        cgroupsPath: `${cgroupParent}/${id}`,
        ...over,
      }),
    )
  }

  /** Runs one container to its end (or until `onStarted` has looked at it), then removes it. */
  async function runContainer(
    runtime: string,
    over: Partial<SpecInput>,
    onStarted?: (id: string, spec: OciSpec) => Promise<void> | void,
  ): Promise<RunResult & { spec: OciSpec }> {
    const id = `spectest-${process.pid}-${++seq}`
    const bundle = join(work, id)
    const state = join(work, `state-${runtime}`)
    mkdirSync(bundle)
    mkdirSync(state, { recursive: true })
    const spec = specFor(over, id)
    writeFileSync(join(bundle, 'config.json'), serializeSpec(spec, 2))
    const child = spawn(runtime, ['--root', state, 'run', '-b', bundle, id], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    let started: Promise<void> | undefined
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString()
      if (onStarted && !started && stdout.includes('STARTED')) {
        started = Promise.resolve()
          .then(() => onStarted(id, spec))
          .finally(() => spawnSync(runtime, ['--root', state, 'kill', id, 'KILL'], { stdio: 'ignore' }))
      }
    })
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
    const timer = setTimeout(() => spawnSync(runtime, ['--root', state, 'kill', id, 'KILL'], { stdio: 'ignore' }), 60_000)
    try {
      const code = await new Promise<number>((resolve, reject) => {
        child.on('error', reject)
        child.on('close', (c, sig) => resolve(c ?? (sig ? 128 : 1)))
      })
      await started
      return { code, stdout, stderr, spec }
    } finally {
      clearTimeout(timer)
      spawnSync(runtime, ['--root', state, 'delete', '-f', id], { stdio: 'ignore' })
      for (const ctrl of readdirSync('/sys/fs/cgroup')) {
        try {
          rmdirSync(join('/sys/fs/cgroup', ctrl, cgroupParent, id))
        } catch (err) {
          if (errno(err) !== 'ENOENT' && errno(err) !== 'ENOTDIR') throw err
        }
      }
      rmSync(bundle, { recursive: true, force: true })
    }
  }

  const sh = (script: string): Partial<SpecInput> => ({ args: ['sh', '-c', script] })
  const status = (out: string, key: string) => new RegExp(`^${key}:\\s*(\\S+)$`, 'm').exec(out)?.[1]
  const hostCapEff = /^CapEff:\s*(\S+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]
  // Masked files that have content on this host (a masked one reads empty).
  const maskedWithContent = DEFAULT_MASKED_PATHS.filter((p) => {
    try {
      return statSync(p).isFile() && readFileSync(p).length > 0
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'EACCES' || errno(err) === 'EINVAL' || errno(err) === 'EPERM') return false
      throw err
    }
  })

  for (const runtime of ['crun', 'runc']) {
    describe(runtime, { skip: which(runtime) ? false : `${runtime} not installed` }, () => {
      it('passes the exit code through', async () => {
        const r = await runContainer(runtime, sh('exit 3'))
        assert.equal(r.code, 3, r.stderr)
      })

      it('confines a default container as Docker does', async () => {
        const script = [
          'grep -E "^(Cap|NoNewPrivs|Seccomp)" /proc/self/status',
          'id',
          'echo DEV $(ls /dev)',
          'cat /proc/1/cgroup',
          ...maskedWithContent.map((p) => `echo MASK ${p} $(cat ${p} 2>/dev/null | wc -c)`),
          'echo KCORE $(cat /proc/kcore 2>/dev/null | head -c 16 | wc -c)',
          'echo x > /proc/sys/kernel/hostname; echo PROCSYS=$?',
          'echo PING $(cat /proc/sys/net/ipv4/ping_group_range)',
          'echo NOFILE $(ulimit -n)',
          'echo HOST $(hostname)',
        ].join('; ')
        const r = await runContainer(runtime, {
          ...sh(script),
          noNewPrivileges: true,
          ulimits: [{ name: 'nofile', soft: 1234, hard: 2048 }],
        })
        assert.equal(r.code, 0, r.stderr)
        const out = r.stdout
        assert.equal(status(out, 'CapBnd'), DEFAULT_MASK)
        assert.equal(status(out, 'CapEff'), DEFAULT_MASK)
        assert.equal(status(out, 'CapPrm'), DEFAULT_MASK)
        assert.equal(status(out, 'CapInh'), '0000000000000000')
        assert.equal(status(out, 'CapAmb'), '0000000000000000')
        assert.equal(status(out, 'NoNewPrivs'), '1')
        assert.equal(status(out, 'Seccomp'), '2')
        assert.match(out, /uid=0\(root\) gid=0\(root\)/)
        const dev = new Set(/^DEV (.*)$/m.exec(out)?.[1]?.split(' '))
        for (const d of ['null', 'zero', 'full', 'random', 'urandom', 'tty', 'ptmx', 'pts', 'shm', 'mqueue']) assert.ok(dev.has(d), `/dev/${d}`)
        for (const d of ['kmsg', 'mem', 'loop0', 'vda', 'sda']) assert.ok(!dev.has(d), `/dev/${d} must not be there`)
        assert.match(out, new RegExp(`:memory:${cgroupParent}/spectest-`))
        for (const p of maskedWithContent) assert.match(out, new RegExp(`^MASK ${p} 0$`, 'm'), `${p} masked`)
        assert.match(out, /^KCORE 0$/m, '/proc/kcore masked (or absent)')
        assert.match(out, /^PROCSYS=1$/m)
        assert.match(r.stderr, /Read-only file system/)
        assert.match(out, /^PING 0\s+2147483647$/m)
        assert.match(out, /^NOFILE 1234$/m)
        assert.match(out, /^HOST spectest$/m)
      })

      it('bounds a non-root user only', async () => {
        const r = await runContainer(runtime, { ...sh('grep -E "^Cap" /proc/self/status; id -u'), user: { uid: 1000, gid: 1000, additionalGids: [] } })
        assert.equal(r.code, 0, r.stderr)
        assert.equal(status(r.stdout, 'CapBnd'), DEFAULT_MASK)
        assert.equal(status(r.stdout, 'CapEff'), '0000000000000000')
        assert.equal(status(r.stdout, 'CapPrm'), '0000000000000000')
        assert.match(r.stdout, /^1000$/m)
      })

      it('applies the memory limit to the container cgroup', async () => {
        let limit: string | undefined
        let swapLimit: string | undefined
        const r = await runContainer(runtime, { ...sh('echo STARTED; sleep 30'), resources: { memory: 64 << 20, pidsLimit: 64 } }, (id) => {
          const dir = `/sys/fs/cgroup/memory${cgroupParent}/${id}`
          limit = readFileSync(join(dir, 'memory.limit_in_bytes'), 'utf8').trim()
          if (existsSync(join(dir, 'memory.memsw.limit_in_bytes'))) swapLimit = readFileSync(join(dir, 'memory.memsw.limit_in_bytes'), 'utf8').trim()
          assert.equal(readFileSync(`/sys/fs/cgroup/pids${cgroupParent}/${id}/pids.max`, 'utf8').trim(), '64')
        })
        assert.notEqual(r.code, 0) // killed
        assert.equal(limit, String(64 << 20))
        if (swapLimit !== undefined) assert.equal(swapLimit, String(128 << 20))
      })

      it('refuses writes to a read-only root, not to /dev/shm', async () => {
        const r = await runContainer(runtime, { ...sh('touch /written; echo ROOT=$?; touch /dev/shm/x; echo SHM=$?'), readonlyRootfs: true })
        assert.equal(r.code, 0, r.stderr)
        assert.match(r.stdout, /^ROOT=1$/m)
        assert.match(r.stdout, /^SHM=0$/m)
        assert.match(r.stderr, /Read-only file system/)
        assert.ok(!existsSync(join(rootfs, 'written')))
      })

      it('gives a privileged container every capability, every device, no seccomp', async () => {
        const r = await runContainer(runtime, {
          ...sh('grep -E "^(CapBnd|CapEff|Seccomp):" /proc/self/status; echo DEV $(ls /dev); echo x > /proc/sys/kernel/hostname; echo PROCSYS=$?'),
          privileged: true,
        })
        assert.equal(r.code, 0, r.stderr)
        assert.equal(status(r.stdout, 'CapBnd'), hostCapEff)
        assert.equal(status(r.stdout, 'CapEff'), hostCapEff)
        assert.equal(status(r.stdout, 'Seccomp'), '0')
        const dev = new Set(/^DEV (.*)$/m.exec(r.stdout)?.[1]?.split(' '))
        for (const d of r.spec.linux.devices ?? []) if (d.path.split('/').length === 3) assert.ok(dev.has(d.path.slice(5)), d.path)
        assert.ok((r.spec.linux.devices ?? []).length > 6)
        assert.match(r.stdout, /^PROCSYS=0$/m)
      })

      it('lets seccomp follow the capabilities: mount with CAP_SYS_ADMIN, refused by a profile without that rule', async () => {
        const script = 'mount -t tmpfs none /tmp; echo MOUNT=$?'
        const withCap = await runContainer(runtime, { ...sh(script), capAdd: ['SYS_ADMIN'] })
        assert.match(withCap.stdout, /^MOUNT=0$/m, withCap.stderr)
        const noCap = await runContainer(runtime, sh(script))
        assert.match(noCap.stdout, /^MOUNT=[1-9]/m)
        const profile = structuredClone(loadDefaultProfile())
        // the CAP_SYS_ADMIN rule without mount (keeping clone & co, or sh could not fork)
        for (const s of profile.syscalls ?? []) {
          if (s.includes?.caps?.includes('CAP_SYS_ADMIN')) s.names = (s.names ?? []).filter((n) => n !== 'mount')
        }
        const filtered = await runContainer(runtime, { ...sh(script), capAdd: ['SYS_ADMIN'], seccomp: { mode: 'custom', profile } })
        assert.match(filtered.stdout, /^MOUNT=[1-9]/m)
        assert.equal(filtered.spec.process.capabilities.bounding?.includes('CAP_SYS_ADMIN'), true)
      })

      it('runs --init as pid 1 and a --device node', { skip: existsSync('/usr/bin/catatonit') ? false : 'catatonit not installed' }, async () => {
        const r = await runContainer(runtime, {
          ...sh('echo INIT $(tr "\\0" " " < /proc/1/cmdline); echo hi > /dev/mynull; echo DEV=$?; cat /dev/mynull | wc -c'),
          init: { path: '/usr/bin/catatonit' },
          devices: [{ pathOnHost: '/dev/null', pathInContainer: '/dev/mynull', cgroupPermissions: 'rw' }],
        })
        assert.equal(r.code, 0, r.stderr)
        assert.match(r.stdout, /^INIT \/sbin\/docker-init -- sh -c /m)
        assert.match(r.stdout, /^DEV=0$/m)
      })
    })
  }
})
