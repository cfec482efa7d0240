/**
 * Docker seccomp profiles → the OCI `linux.seccomp` object.
 *
 * A Docker profile (the format of `--security-opt seccomp=<file>` and of the default profile,
 * `seccomp-default.json` beside this file) extends the OCI object with conditional rules: an
 * `archMap` expanded for the host architecture only, and per-rule `includes`/`excludes` filters
 * on architecture, on the container's capabilities (its bounding set) and on the running
 * kernel's version. `setupSeccomp` resolves those conditions the way moby's profiles/seccomp
 * `setupSeccomp` does, so a container gets exactly the filter Docker would give it.
 */
import { existsSync, readFileSync } from 'node:fs'
import { endianness, release } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { EngineError, invalid } from '../lib/errors.js'

// ---------------------------------------------------------------------------------------------
// OCI runtime-spec shapes (config.json, linux.seccomp)

export interface LinuxSeccompArg {
  index: number
  /** uint64: a bigint when it does not fit a double exactly (see serializeSpec). */
  value: number | bigint
  valueTwo?: number | bigint
  op: string
}

export interface LinuxSyscall {
  names: string[]
  action: string
  errnoRet?: number
  args?: LinuxSeccompArg[]
}

export interface LinuxSeccomp {
  defaultAction: string
  defaultErrnoRet?: number
  architectures?: string[]
  flags?: string[]
  listenerPath?: string
  listenerMetadata?: string
  syscalls?: LinuxSyscall[]
}

// ---------------------------------------------------------------------------------------------
// Docker profile shapes

export interface SeccompFilter {
  caps?: string[]
  arches?: string[]
  /** "<kernel>.<major>", e.g. "4.8". */
  minKernel?: string
}

export interface DockerSyscallRule {
  /** Deprecated single-name form, still accepted as Docker does. */
  name?: string
  names?: string[]
  action: string
  errnoRet?: number
  args?: LinuxSeccompArg[]
  comment?: string
  includes?: SeccompFilter
  excludes?: SeccompFilter
}

export interface DockerSeccompProfile {
  defaultAction: string
  defaultErrnoRet?: number
  architectures?: string[]
  archMap?: Array<{ architecture: string; subArchitectures: string[] | null }>
  flags?: string[]
  listenerPath?: string
  listenerMetadata?: string
  syscalls?: DockerSyscallRule[]
}

/** What a profile is resolved against. */
export interface SeccompContext {
  /** The container's bounding capability set, CAP_-prefixed ("CAP_SYS_ADMIN"). */
  bounding: readonly string[]
  /** Go's GOARCH spelling of the host architecture ("amd64"); default: this host's. */
  goArch?: string
  /** `uname -r` of the host; default: this host's. */
  kernelRelease?: string
}

// ---------------------------------------------------------------------------------------------
// Architectures

/** Node's process.arch → Go's GOARCH (the spelling profiles' `arches` filters use via libseccomp). */
export function goArchOf(nodeArch: string = process.arch, endian: 'BE' | 'LE' = endianness()): string {
  switch (nodeArch) {
    case 'x64': return 'amd64'
    case 'ia32': return '386'
    case 'arm': return 'arm'
    case 'arm64': return 'arm64'
    case 'ppc64': return endian === 'LE' ? 'ppc64le' : 'ppc64'
    case 'ppc': return 'ppc'
    case 's390x': return 's390x'
    case 's390': return 's390'
    case 'riscv64': return 'riscv64'
    case 'loong64': return 'loong64'
    case 'mips': return 'mips'
    case 'mipsel': return 'mipsle'
    case 'mips64': return 'mips64'
    case 'mips64el': return 'mips64le'
    default: return nodeArch
  }
}

// GOARCH → libseccomp's native arch name (what `includes.arches` / `excludes.arches` compare to).
const GO_TO_NATIVE: Record<string, string> = {
  '386': 'x86',
  amd64: 'amd64',
  arm: 'arm',
  arm64: 'arm64',
  mips64: 'mips64',
  mips64p32: 'mips64n32',
  mips64le: 'mipsel64',
  mips64p32le: 'mips3l64n32',
  mipsle: 'mipsel',
  ppc: 'ppc',
  ppc64: 'ppc64',
  ppc64le: 'ppc64le',
  riscv64: 'riscv64',
  s390: 's390',
  s390x: 's390x',
}

// libseccomp native name → the SCMP_ARCH_* constant an archMap entry is keyed by.
const NATIVE_TO_SCMP: Record<string, string> = {
  x86: 'SCMP_ARCH_X86',
  amd64: 'SCMP_ARCH_X86_64',
  arm: 'SCMP_ARCH_ARM',
  arm64: 'SCMP_ARCH_AARCH64',
  mips64: 'SCMP_ARCH_MIPS64',
  mips64n32: 'SCMP_ARCH_MIPS64N32',
  mipsel64: 'SCMP_ARCH_MIPSEL64',
  mips3l64n32: 'SCMP_ARCH_MIPSEL64N32',
  mipsle: 'SCMP_ARCH_MIPSEL',
  ppc: 'SCMP_ARCH_PPC',
  ppc64: 'SCMP_ARCH_PPC64',
  ppc64le: 'SCMP_ARCH_PPC64LE',
  riscv64: 'SCMP_ARCH_RISCV64',
  s390: 'SCMP_ARCH_S390',
  s390x: 'SCMP_ARCH_S390X',
}

// ---------------------------------------------------------------------------------------------
// Kernel versions

interface KernelVersion {
  kernel: number
  major: number
}

/** "<kernel>.<major>[anything]" of a `uname -r` string, as Go's Sscanf("%d.%d") reads it. */
export function parseKernelRelease(rel: string): KernelVersion {
  const m = /^\s*(\d+)\.(\d+)/.exec(rel)
  if (!m) throw invalid('ERR_SECCOMP_KERNEL_VERSION', `failed to parse kernel version "${rel}"`)
  return { kernel: Number(m[1]), major: Number(m[2]) }
}

// A profile's minKernel: exactly "<kernel>.<major>", each an 8-bit number, not "0.0".
function parseMinKernel(v: unknown): KernelVersion | undefined {
  const raw = JSON.stringify(v)
  const bad = (why?: string) =>
    decodeError(`invalid kernel version: ${raw}, expected "<kernel>.<major>"${why ? `: ${why}` : ''}`)
  if (typeof v !== 'string') throw bad(`json: cannot unmarshal ${jsonKind(v)} into Go value of type string`)
  if (v === '') return undefined
  const parts = v.split('.')
  if (parts.length !== 2) throw bad()
  const nums = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : NaN))
  const [kernel, major] = nums as [number, number]
  for (const [i, n] of nums.entries()) {
    if (!Number.isInteger(n) || n > 255) throw bad(`strconv.ParseUint: parsing "${parts[i]}": invalid syntax`)
  }
  if (kernel === 0 && major === 0) throw bad('version cannot be 0.0')
  return { kernel, major }
}

function kernelAtLeast(have: KernelVersion, min: KernelVersion): boolean {
  return have.kernel > min.kernel || (have.kernel === min.kernel && have.major >= min.major)
}

// ---------------------------------------------------------------------------------------------
// Profile decoding (the checks Go's json.Unmarshal into moby's Seccomp type makes)

function decodeError(detail: string): EngineError {
  return invalid('ERR_SECCOMP_PROFILE', `Decoding seccomp profile failed: ${detail}`)
}

function jsonKind(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  if (typeof v === 'bigint') return 'number'
  return typeof v
}

/** Go's encoding/json matches field names case-insensitively; so does this. */
function field(obj: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(obj, name)) return obj[name]
  const lower = name.toLowerCase()
  for (const k of Object.keys(obj)) if (k.toLowerCase() === lower) return obj[k]
  return undefined
}

function optString(obj: Record<string, unknown>, name: string, where: string): string | undefined {
  const v = field(obj, name)
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') throw decodeError(`json: cannot unmarshal ${jsonKind(v)} into Go struct field ${where}.${name} of type string`)
  return v
}

function optStrings(obj: Record<string, unknown>, name: string, where: string): string[] | undefined {
  const v = field(obj, name)
  if (v === undefined || v === null) return undefined
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) {
    throw decodeError(`json: cannot unmarshal ${jsonKind(v)} into Go struct field ${where}.${name} of type []string`)
  }
  return v as string[]
}

function optUint(obj: Record<string, unknown>, name: string, where: string, bits: 32 | 64): number | bigint | undefined {
  const v = field(obj, name)
  if (v === undefined || v === null) return undefined
  const max = bits === 32 ? 0xffffffffn : 0xffffffffffffffffn
  if (typeof v === 'bigint' && v >= 0n && v <= max) return v
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && BigInt(v) <= max) {
    // Beyond 2^53 a JSON number has already been rounded by JSON.parse: refuse rather than guess.
    if (!Number.isSafeInteger(v)) {
      throw decodeError(`${where}.${name}: ${v} is too large to be read exactly; pass the profile with bigint values`)
    }
    return v
  }
  throw decodeError(`json: cannot unmarshal ${jsonKind(v)} into Go struct field ${where}.${name} of type uint${bits}`)
}

function asObject(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw decodeError(`json: cannot unmarshal ${jsonKind(v)} into Go value of type ${what}`)
  }
  return v as Record<string, unknown>
}

interface ParsedFilter {
  caps: string[]
  arches: string[]
  minKernel?: KernelVersion
}

interface ParsedRule {
  syscall: LinuxSyscall
  includes?: ParsedFilter
  excludes?: ParsedFilter
}

interface ParsedProfile {
  base: Omit<LinuxSeccomp, 'syscalls' | 'architectures'>
  architectures: string[]
  archMap: Array<{ architecture: string; subArchitectures: string[] }>
  rules: ParsedRule[]
}

function parseFilter(v: unknown, where: string): ParsedFilter | undefined {
  if (v === undefined || v === null) return undefined
  const o = asObject(v, 'seccomp.Filter')
  const f: ParsedFilter = {
    caps: optStrings(o, 'caps', where) ?? [],
    arches: optStrings(o, 'arches', where) ?? [],
  }
  const mk = parseMinKernel(field(o, 'minKernel') ?? '')
  if (mk) f.minKernel = mk
  return f
}

function parseArgs(v: unknown): LinuxSeccompArg[] | undefined {
  if (v === undefined || v === null) return undefined
  if (!Array.isArray(v)) throw decodeError(`json: cannot unmarshal ${jsonKind(v)} into Go struct field Syscall.syscalls.args of type []specs.LinuxSeccompArg`)
  return v.map((a) => {
    const o = asObject(a, 'specs.LinuxSeccompArg')
    const where = 'Syscall.syscalls.args'
    const arg: LinuxSeccompArg = {
      index: Number(optUint(o, 'index', where, 32) ?? 0),
      value: optUint(o, 'value', where, 64) ?? 0,
      op: optString(o, 'op', where) ?? '',
    }
    const two = optUint(o, 'valueTwo', where, 64)
    // specs.LinuxSeccompArg marshals valueTwo with omitempty.
    if (two !== undefined && two !== 0 && two !== 0n) arg.valueTwo = two
    return arg
  })
}

/** Decodes a Docker seccomp profile: a parsed JSON value or the JSON text itself. */
function parseProfile(input: unknown): ParsedProfile {
  let raw = input
  if (typeof raw === 'string' || Buffer.isBuffer(raw)) {
    try {
      raw = JSON.parse(raw.toString())
    } catch (err) {
      throw decodeError((err as Error).message)
    }
  }
  const o = asObject(raw, 'seccomp.Seccomp')
  const where = 'Seccomp'
  const base: ParsedProfile['base'] = { defaultAction: optString(o, 'defaultAction', where) ?? '' }
  const errnoRet = optUint(o, 'defaultErrnoRet', where, 32)
  if (errnoRet !== undefined) base.defaultErrnoRet = Number(errnoRet)
  const flags = optStrings(o, 'flags', where)
  if (flags && flags.length) base.flags = flags
  const listenerPath = optString(o, 'listenerPath', where)
  if (listenerPath) base.listenerPath = listenerPath
  const listenerMetadata = optString(o, 'listenerMetadata', where)
  if (listenerMetadata) base.listenerMetadata = listenerMetadata

  const archMapRaw = field(o, 'archMap')
  const archMap: ParsedProfile['archMap'] = []
  if (archMapRaw !== undefined && archMapRaw !== null) {
    if (!Array.isArray(archMapRaw)) throw decodeError(`json: cannot unmarshal ${jsonKind(archMapRaw)} into Go struct field Seccomp.archMap of type []seccomp.Architecture`)
    for (const a of archMapRaw) {
      const ao = asObject(a, 'seccomp.Architecture')
      archMap.push({
        architecture: optString(ao, 'architecture', 'Architecture') ?? '',
        subArchitectures: optStrings(ao, 'subArchitectures', 'Architecture') ?? [],
      })
    }
  }

  const syscallsRaw = field(o, 'syscalls')
  const rules: ParsedRule[] = []
  if (syscallsRaw !== undefined && syscallsRaw !== null) {
    if (!Array.isArray(syscallsRaw)) throw decodeError(`json: cannot unmarshal ${jsonKind(syscallsRaw)} into Go struct field Seccomp.syscalls of type []*seccomp.Syscall`)
    for (const s of syscallsRaw) {
      if (s === null) continue // a null *Syscall: Go would crash; skip it instead
      const so = asObject(s, 'seccomp.Syscall')
      const w = 'Syscall.syscalls'
      const name = optString(so, 'name', w)
      let names = optStrings(so, 'names', w) ?? []
      if (name) {
        if (names.length) {
          throw invalid('ERR_SECCOMP_PROFILE', "both 'name' and 'names' are specified in the seccomp profile, use either 'name' or 'names'")
        }
        names = [name]
      }
      const syscall: LinuxSyscall = { names, action: optString(so, 'action', w) ?? '' }
      const eret = optUint(so, 'errnoRet', w, 32)
      if (eret !== undefined) syscall.errnoRet = Number(eret)
      const args = parseArgs(field(so, 'args'))
      if (args && args.length) syscall.args = args
      const rule: ParsedRule = { syscall }
      const inc = parseFilter(field(so, 'includes'), `${w}.includes`)
      if (inc) rule.includes = inc
      const exc = parseFilter(field(so, 'excludes'), `${w}.excludes`)
      if (exc) rule.excludes = exc
      rules.push(rule)
    }
  }
  return { base, architectures: optStrings(o, 'architectures', where) ?? [], archMap, rules }
}

// ---------------------------------------------------------------------------------------------
// The conversion

/**
 * Resolves a Docker seccomp profile for one container, as moby's setupSeccomp does:
 * - no defaultAction and no syscalls: seccomp disabled (undefined);
 * - `architectures` and `archMap` together are an error; the archMap entry of the host
 *   architecture (if any) contributes itself and its sub-architectures;
 * - a rule is dropped when excludes.arches holds the host arch, when any excludes.caps is in the
 *   bounding set, when the kernel is at least excludes.minKernel, when includes.arches does not
 *   hold the host arch, when any includes.caps is missing from the bounding set, or when the
 *   kernel is older than includes.minKernel;
 * - what is kept becomes an OCI syscall rule (names, action, errnoRet, args), in profile order.
 */
export function setupSeccomp(profile: unknown, ctx: SeccompContext): LinuxSeccomp | undefined {
  const p = parseProfile(profile)
  if (p.base.defaultAction === '' && p.rules.length === 0) return undefined
  if (p.architectures.length && p.archMap.length) {
    throw invalid(
      'ERR_SECCOMP_PROFILE',
      "both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'",
    )
  }
  const arch = GO_TO_NATIVE[ctx.goArch ?? goArchOf()] ?? ''
  const architectures = [...p.architectures]
  const scmpArch = NATIVE_TO_SCMP[arch]
  if (scmpArch) {
    const entry = p.archMap.find((a) => a.architecture === scmpArch)
    if (entry) architectures.push(entry.architecture, ...entry.subArchitectures)
  }
  let kernel: KernelVersion | undefined
  const kernelVersion = () => (kernel ??= parseKernelRelease(ctx.kernelRelease ?? release()))
  const bounding = new Set(ctx.bounding)

  const syscalls: LinuxSyscall[] = []
  for (const rule of p.rules) {
    const exc = rule.excludes
    if (exc) {
      if (exc.arches.length && exc.arches.includes(arch)) continue
      if (exc.caps.some((c) => bounding.has(c))) continue
      if (exc.minKernel && kernelAtLeast(kernelVersion(), exc.minKernel)) continue
    }
    const inc = rule.includes
    if (inc) {
      if (inc.arches.length && !inc.arches.includes(arch)) continue
      if (inc.caps.some((c) => !bounding.has(c))) continue
      if (inc.minKernel && !kernelAtLeast(kernelVersion(), inc.minKernel)) continue
    }
    syscalls.push(structuredClone(rule.syscall))
  }

  const out: LinuxSeccomp = { ...p.base }
  if (architectures.length) out.architectures = architectures
  if (syscalls.length) out.syscalls = syscalls
  return out
}

// ---------------------------------------------------------------------------------------------
// The default profile

const PROFILE_FILE = 'seccomp-default.json'

/**
 * Where the default profile is: beside this module when it was copied there, otherwise
 * `src/runtime/seccomp-default.json` of the nearest ancestor that has one (the repository root
 * seen from dist/src/runtime/).
 */
export function defaultProfilePath(): string {
  const here = dirname(fileURLToPath(import.meta.url))
  const sibling = join(here, PROFILE_FILE)
  if (existsSync(sibling)) return sibling
  for (let dir = here; ; ) {
    const candidate = join(dir, 'src', 'runtime', PROFILE_FILE)
    if (existsSync(candidate)) return candidate
    const up = dirname(dir)
    if (up === dir) break
    dir = up
  }
  throw new EngineError('Internal', 'ERR_SECCOMP_DEFAULT_PROFILE', `default seccomp profile ${PROFILE_FILE} not found from ${here}`)
}

let defaultProfile: DockerSeccompProfile | undefined

/** Docker's default profile, parsed once. Callers must not mutate it. */
export function loadDefaultProfile(): DockerSeccompProfile {
  if (!defaultProfile) {
    const path = defaultProfilePath()
    try {
      defaultProfile = JSON.parse(readFileSync(path, 'utf8')) as DockerSeccompProfile
    } catch (err) {
      throw new EngineError('Internal', 'ERR_SECCOMP_DEFAULT_PROFILE', `reading ${path}: ${(err as Error).message}`, { cause: err })
    }
  }
  return defaultProfile
}

/** The default profile resolved for a container (its bounding set) on this host. */
export function defaultSeccomp(ctx: SeccompContext): LinuxSeccomp {
  const s = setupSeccomp(loadDefaultProfile(), ctx)
  if (!s) throw new EngineError('Internal', 'ERR_SECCOMP_DEFAULT_PROFILE', 'the default seccomp profile is empty')
  return s
}
