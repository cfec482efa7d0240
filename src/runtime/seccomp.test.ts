import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { EngineError } from '../lib/errors.js'
import {
  defaultProfilePath,
  defaultSeccomp,
  goArchOf,
  loadDefaultProfile,
  parseKernelRelease,
  setupSeccomp,
  type LinuxSeccomp,
} from './seccomp.js'

const DEFAULT_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
]

const amd64 = (bounding: string[] = DEFAULT_CAPS, kernelRelease = '6.1.0-18-amd64') => ({ bounding, goArch: 'amd64', kernelRelease })

/** Rules holding exactly this syscall name alone. */
const rulesFor = (s: LinuxSeccomp, name: string) => (s.syscalls ?? []).filter((r) => r.names.length === 1 && r.names[0] === name)
const allNames = (s: LinuxSeccomp) => new Set((s.syscalls ?? []).flatMap((r) => r.names))

function throwsMessage(fn: () => unknown, message: string | RegExp) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof EngineError, `expected an EngineError, got ${String(err)}`)
    assert.equal(err.kind, 'InvalidArgument')
    if (typeof message === 'string') assert.equal(err.message, message)
    else assert.match(err.message, message)
    return true
  })
}

describe('the default profile', () => {
  it('is the repository copy of shared/specs/seccomp-default.json, parsed once', () => {
    const path = defaultProfilePath()
    assert.match(path, /src\/runtime\/seccomp-default\.json$/)
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), loadDefaultProfile())
    assert.equal(loadDefaultProfile(), loadDefaultProfile())
  })

  it('resolves for amd64 and the default capabilities as Docker does', () => {
    const s = defaultSeccomp(amd64())
    assert.equal(s.defaultAction, 'SCMP_ACT_ERRNO')
    assert.equal(s.defaultErrnoRet, 1)
    assert.deepEqual(s.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'])
    const rules = s.syscalls ?? []
    // the big allow list, ptrace (kernel >= 4.8), 3 socket, 5 personality, arch_prctl,
    // modify_ldt, restricted clone, clone3 -> ENOSYS, chroot (CAP_SYS_CHROOT)
    assert.equal(rules.length, 15)
    assert.equal(rules[0]?.action, 'SCMP_ACT_ALLOW')
    assert.ok(rules[0]?.names.includes('read'))
    assert.deepEqual(rules[1]?.names, ['process_vm_readv', 'process_vm_writev', 'ptrace'])
    assert.equal(rulesFor(s, 'socket').length, 3)
    assert.equal(rulesFor(s, 'personality').length, 5)
    assert.equal(rulesFor(s, 'arch_prctl').length, 1)
    assert.equal(rulesFor(s, 'modify_ldt').length, 1)
    assert.equal(rulesFor(s, 'chroot').length, 1)
    const clone = rulesFor(s, 'clone')
    assert.deepEqual(clone, [{ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2114060288, op: 'SCMP_CMP_MASKED_EQ' }] }])
    assert.deepEqual(rulesFor(s, 'clone3'), [{ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }])
    // no rule of another architecture, none keyed on a capability the container lacks
    for (const n of ['arm_fadvise64_64', 's390_runtime_instr', 'riscv_flush_icache', 'swapcontext', 'mount', 'bpf', 'reboot', 'open_by_handle_at']) {
      assert.ok(!allNames(s).has(n), n)
    }
    // comments and conditions never reach the OCI object
    for (const r of rules) assert.deepEqual(Object.keys(r).filter((k) => !['names', 'action', 'errnoRet', 'args'].includes(k)), [])
  })

  it('follows the container capabilities (its bounding set)', () => {
    const s = defaultSeccomp(amd64([...DEFAULT_CAPS, 'CAP_SYS_ADMIN', 'CAP_SYS_PTRACE', 'CAP_SYS_TIME']))
    for (const n of ['mount', 'umount2', 'unshare', 'setns', 'kcmp', 'settimeofday', 'clock_settime']) assert.ok(allNames(s).has(n), n)
    // excludes.caps CAP_SYS_ADMIN: neither the restricted clone nor the clone3 -> ENOSYS rule
    assert.equal(rulesFor(s, 'clone').length, 0)
    assert.equal(rulesFor(s, 'clone3').length, 0)
    const noChroot = defaultSeccomp(amd64(DEFAULT_CAPS.filter((c) => c !== 'CAP_SYS_CHROOT')))
    assert.equal(rulesFor(noChroot, 'chroot').length, 0)
  })

  it('compares minKernel with the running kernel on kernel and major only', () => {
    const ptrace = (rel: string) => (defaultSeccomp(amd64(DEFAULT_CAPS, rel)).syscalls ?? []).some((r) => r.names.includes('ptrace'))
    assert.equal(ptrace('4.8.0'), true)
    assert.equal(ptrace('4.8-1-amd64'), true)
    assert.equal(ptrace('5.4.0'), true)
    assert.equal(ptrace('4.7.10'), false)
    assert.equal(ptrace('3.19.0'), false)
  })

  it('keeps the rules of the host architecture only', () => {
    const arm64 = defaultSeccomp({ bounding: DEFAULT_CAPS, goArch: 'arm64', kernelRelease: '6.1.0' })
    assert.deepEqual(arm64.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'])
    assert.ok(allNames(arm64).has('arm_fadvise64_64'))
    assert.ok(!allNames(arm64).has('arch_prctl'))
    const s390x = defaultSeccomp({ bounding: DEFAULT_CAPS, goArch: 's390x', kernelRelease: '6.1.0' })
    assert.deepEqual(s390x.architectures, ['SCMP_ARCH_S390X', 'SCMP_ARCH_S390'])
    assert.deepEqual(rulesFor(s390x, 'clone')[0]?.args, [{ index: 1, value: 2114060288, op: 'SCMP_CMP_MASKED_EQ' }])
    const riscv = defaultSeccomp({ bounding: DEFAULT_CAPS, goArch: 'riscv64', kernelRelease: '6.1.0' })
    assert.deepEqual(riscv.architectures, ['SCMP_ARCH_RISCV64'])
    assert.ok(allNames(riscv).has('riscv_flush_icache'))
    // an architecture libseccomp does not name: no archMap entry, no arch-specific rules
    const unknown = defaultSeccomp({ bounding: DEFAULT_CAPS, goArch: 'wasm', kernelRelease: '6.1.0' })
    assert.equal(unknown.architectures, undefined)
    assert.ok(!allNames(unknown).has('arch_prctl'))
  })

  it('is not changed by resolving it', () => {
    const before = JSON.stringify(loadDefaultProfile())
    const s = defaultSeccomp(amd64())
    s.syscalls?.[0]?.names.push('mutated')
    assert.equal(JSON.stringify(loadDefaultProfile()), before)
  })
})

describe('custom profiles', () => {
  it('accept the JSON text, and field names in any case as Go does', () => {
    const text = JSON.stringify({ DefaultAction: 'SCMP_ACT_ALLOW', Syscalls: [{ Names: ['mkdir'], Action: 'SCMP_ACT_ERRNO', ErrnoRet: 13 }] })
    assert.deepEqual(setupSeccomp(text, amd64()), {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }],
    })
  })

  it('accept the deprecated single name, but not with names', () => {
    const s = setupSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ name: 'read', action: 'SCMP_ACT_ALLOW' }] }, amd64())
    assert.deepEqual(s?.syscalls, [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }])
    throwsMessage(
      () => setupSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ name: 'read', names: ['write'], action: 'SCMP_ACT_ALLOW' }] }, amd64()),
      "both 'name' and 'names' are specified in the seccomp profile, use either 'name' or 'names'",
    )
  })

  it('mean no seccomp at all without a default action or syscalls', () => {
    assert.equal(setupSeccomp({}, amd64()), undefined)
    assert.equal(setupSeccomp('{"syscalls": []}', amd64()), undefined)
  })

  it('take either architectures or archMap', () => {
    assert.deepEqual(setupSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'] }, amd64())?.architectures, ['SCMP_ARCH_X86_64'])
    throwsMessage(
      () =>
        setupSeccomp(
          { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86'], archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: null }] },
          amd64(),
        ),
      "both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'",
    )
  })

  it('apply includes (all caps needed) and excludes (any cap excludes)', () => {
    const profile = {
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['a'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN', 'CAP_NET_ADMIN'] } },
        { names: ['b'], action: 'SCMP_ACT_ALLOW', excludes: { caps: ['CAP_SYS_ADMIN', 'CAP_BPF'] } },
        { names: ['c'], action: 'SCMP_ACT_ALLOW', excludes: { minKernel: '5.10' } },
        { names: ['d'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['arm64'] } },
        { names: ['e'], action: 'SCMP_ACT_ALLOW', excludes: { arches: ['amd64'] } },
        { names: ['f'], action: 'SCMP_ACT_ALLOW', includes: {}, excludes: {} },
      ],
    }
    const names = (caps: string[], rel = '6.1.0') => (setupSeccomp(profile, amd64(caps, rel))?.syscalls ?? []).map((s) => s.names[0])
    assert.deepEqual(names([]), ['b', 'f'])
    assert.deepEqual(names(['CAP_SYS_ADMIN']), ['f'])
    assert.deepEqual(names(['CAP_SYS_ADMIN', 'CAP_NET_ADMIN']), ['a', 'f'])
    assert.deepEqual(names(['CAP_BPF'], '5.4.0'), ['c', 'f'])
  })

  it('carry errnoRet, flags and args, with valueTwo only when set, and uint64 values as bigints', () => {
    const s = setupSeccomp(
      {
        defaultAction: 'SCMP_ACT_ERRNO',
        defaultErrnoRet: 38,
        flags: ['SECCOMP_FILTER_FLAG_LOG'],
        syscalls: [
          {
            names: ['ioctl'],
            action: 'SCMP_ACT_ALLOW',
            comment: 'dropped',
            args: [
              { index: 1, value: 0x5401, valueTwo: 0, op: 'SCMP_CMP_EQ' },
              { index: 2, value: 18446744073709551615n, valueTwo: 7, op: 'SCMP_CMP_MASKED_EQ' },
            ],
          },
        ],
      },
      amd64(),
    )
    assert.deepEqual(s, {
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 38,
      flags: ['SECCOMP_FILTER_FLAG_LOG'],
      syscalls: [
        {
          names: ['ioctl'],
          action: 'SCMP_ACT_ALLOW',
          args: [
            { index: 1, value: 0x5401, op: 'SCMP_CMP_EQ' },
            { index: 2, value: 18446744073709551615n, valueTwo: 7, op: 'SCMP_CMP_MASKED_EQ' },
          ],
        },
      ],
    })
  })

  it('are refused in Docker words when they do not decode', () => {
    throwsMessage(() => setupSeccomp('{not json', amd64()), /^Decoding seccomp profile failed: /)
    throwsMessage(() => setupSeccomp([], amd64()), 'Decoding seccomp profile failed: json: cannot unmarshal array into Go value of type seccomp.Seccomp')
    throwsMessage(
      () => setupSeccomp({ defaultAction: 7 }, amd64()),
      'Decoding seccomp profile failed: json: cannot unmarshal number into Go struct field Seccomp.defaultAction of type string',
    )
    throwsMessage(
      () => setupSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['x'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4' } }] }, amd64()),
      'Decoding seccomp profile failed: invalid kernel version: "4", expected "<kernel>.<major>"',
    )
    throwsMessage(
      () => setupSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['x'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '0.0' } }] }, amd64()),
      'Decoding seccomp profile failed: invalid kernel version: "0.0", expected "<kernel>.<major>": version cannot be 0.0',
    )
    // a JSON number above 2^53 was already rounded: refused rather than silently changed
    throwsMessage(
      () => setupSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['x'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2 ** 60, op: 'SCMP_CMP_EQ' }] }] }, amd64()),
      /too large to be read exactly/,
    )
  })
})

describe('host helpers', () => {
  it('read kernel versions as Go Sscanf("%d.%d") does', () => {
    assert.deepEqual(parseKernelRelease('3.12.25-gentoo'), { kernel: 3, major: 12 })
    assert.deepEqual(parseKernelRelease('6.18.44-fc-v669'), { kernel: 6, major: 18 })
    assert.throws(() => parseKernelRelease('linux'))
  })

  it('spell architectures as GOARCH', () => {
    assert.equal(goArchOf('x64'), 'amd64')
    assert.equal(goArchOf('ia32'), '386')
    assert.equal(goArchOf('arm64'), 'arm64')
    assert.equal(goArchOf('ppc64', 'LE'), 'ppc64le')
    assert.equal(goArchOf('ppc64', 'BE'), 'ppc64')
    assert.equal(goArchOf('mips64el'), 'mips64le')
  })
})
