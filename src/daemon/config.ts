import { readFile } from 'node:fs/promises'
import { invalid, isNotFoundErrno } from '../lib/errors.js'
import { validateLogDefaults } from '../engine/containers/log-rotate.js'
import { validateInsecureRegistry, validateMirror } from '../distribution/hosts.js'

export interface DaemonConfig {
  hosts: string[]
  dataRoot: string
  execRoot: string
  pidfile: string
  configFile: string
  debug: boolean
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'fatal'
  tls: boolean
  tlsVerify: boolean
  tlsCaCert?: string
  tlsCert?: string
  tlsKey?: string
  labels: string[]
  defaultRuntime: string
  /** Containers' default log driver and options (`log-driver`, `log-opts`). */
  logDriver: string
  logOpts: Record<string, string>
  /** Registries reachable over plain HTTP or unverified TLS (`insecure-registries`). */
  insecureRegistries: string[]
  /** Docker Hub mirrors (`registry-mirrors`). */
  registryMirrors: string[]
  maxConcurrentDownloads: number
  maxConcurrentUploads: number
  /** The default bridge's gateway address and prefix (`bip`, e.g. 192.168.1.5/24); '' picks one from the pools. */
  bip: string
  /** The pools networks without a subnet take theirs from (`default-address-pools`); [] is Docker's defaults. */
  defaultAddressPools: Array<{ base: string; size: number }>
}

export const DEFAULT_SOCKET = 'unix:///run/berth/berth.sock'

/** daemon.json keys berthd implements, with the config field each sets (dockerd's names). */
const FILE_KEYS: Record<string, keyof DaemonConfig> = {
  hosts: 'hosts',
  'data-root': 'dataRoot',
  'exec-root': 'execRoot',
  pidfile: 'pidfile',
  debug: 'debug',
  'log-level': 'logLevel',
  tls: 'tls',
  tlsverify: 'tlsVerify',
  tlscacert: 'tlsCaCert',
  tlscert: 'tlsCert',
  tlskey: 'tlsKey',
  labels: 'labels',
  'default-runtime': 'defaultRuntime',
  'log-driver': 'logDriver',
  'log-opts': 'logOpts',
  'insecure-registries': 'insecureRegistries',
  'registry-mirrors': 'registryMirrors',
  'max-concurrent-downloads': 'maxConcurrentDownloads',
  'max-concurrent-uploads': 'maxConcurrentUploads',
  bip: 'bip',
  'default-address-pools': 'defaultAddressPools',
}

/** Flags as dockerd names them, with the daemon.json key each one conflicts with. */
const FLAGS: Record<string, { key: string; takesValue: boolean; repeat?: boolean }> = {
  '-H': { key: 'hosts', takesValue: true, repeat: true },
  '--host': { key: 'hosts', takesValue: true, repeat: true },
  '--data-root': { key: 'data-root', takesValue: true },
  '--exec-root': { key: 'exec-root', takesValue: true },
  '-p': { key: 'pidfile', takesValue: true },
  '--pidfile': { key: 'pidfile', takesValue: true },
  '--config-file': { key: '', takesValue: true },
  '-D': { key: 'debug', takesValue: false },
  '--debug': { key: 'debug', takesValue: false },
  '-l': { key: 'log-level', takesValue: true },
  '--log-level': { key: 'log-level', takesValue: true },
  '--tls': { key: 'tls', takesValue: false },
  '--tlsverify': { key: 'tlsverify', takesValue: false },
  '--tlscacert': { key: 'tlscacert', takesValue: true },
  '--tlscert': { key: 'tlscert', takesValue: true },
  '--tlskey': { key: 'tlskey', takesValue: true },
  '--label': { key: 'labels', takesValue: true, repeat: true },
  '--default-runtime': { key: 'default-runtime', takesValue: true },
  '--log-driver': { key: 'log-driver', takesValue: true },
  '--log-opt': { key: 'log-opts', takesValue: true, repeat: true },
  '--insecure-registry': { key: 'insecure-registries', takesValue: true, repeat: true },
  '--registry-mirror': { key: 'registry-mirrors', takesValue: true, repeat: true },
  '--max-concurrent-downloads': { key: 'max-concurrent-downloads', takesValue: true },
  '--max-concurrent-uploads': { key: 'max-concurrent-uploads', takesValue: true },
}

export const USAGE = `Usage:	berthd [OPTIONS]

A self-sufficient runtime for containers, compatible with the Docker Engine API.

Options:
      --config-file string      Daemon configuration file (default "/etc/berth/daemon.json")
      --data-root string        Root directory of persistent state (default "/var/lib/berth")
  -D, --debug                   Enable debug mode
      --default-runtime string  Default OCI runtime for containers (default "crun")
      --exec-root string        Root directory for execution state files (default "/run/berth")
  -H, --host list               Daemon socket(s) to connect to
      --insecure-registry list  Enable insecure registry communication
      --label list              Set key=value labels to the daemon
      --log-driver string       Default driver for container logs (default "json-file")
      --log-opt map             Default log driver options for containers (default map[])
      --max-concurrent-downloads int  Set the max concurrent downloads (default 3)
      --max-concurrent-uploads int    Set the max concurrent uploads (default 5)
      --registry-mirror list    Preferred Docker registry mirror
  -l, --log-level string        Set the logging level ("debug"|"info"|"warn"|"error"|"fatal") (default "info")
  -p, --pidfile string          Path to use for daemon PID file (default "/run/berth/berthd.pid")
      --tls                     Use TLS; implied by --tlsverify
      --tlscacert string        Trust certs signed only by this CA
      --tlscert string          Path to TLS certificate file
      --tlskey string           Path to TLS key file
      --tlsverify               Use TLS and verify the remote
  -v, --version                 Print version information and quit
`

export type ParsedArgs = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; config: DaemonConfig }

/** Parse berthd's argv and daemon.json into one config, with dockerd's errors for conflicts and unknown keys. */
export async function loadConfig(argv: string[]): Promise<ParsedArgs> {
  const flagValues: Record<string, unknown> = {}
  let configFile = '/etc/berth/daemon.json'
  let configFileGiven = false
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]!
    if (arg === '-h' || arg === '--help') return { kind: 'help' }
    if (arg === '-v' || arg === '--version') return { kind: 'version' }
    let value: string | undefined
    const eq = arg.indexOf('=')
    if (arg.startsWith('--') && eq > 0) { value = arg.slice(eq + 1); arg = arg.slice(0, eq) }
    else if (/^-[A-Za-z]./.test(arg) && FLAGS[arg.slice(0, 2)]?.takesValue) { value = arg.slice(2); arg = arg.slice(0, 2) }
    const spec = FLAGS[arg]
    if (!spec) throw invalid('ERR_UNKNOWN_FLAG', `unknown flag: ${arg}`)
    if (spec.takesValue && value === undefined) {
      value = argv[++i]
      if (value === undefined) throw invalid('ERR_FLAG_NEEDS_ARGUMENT', `flag needs an argument: ${arg}`)
    }
    if (arg === '--config-file') { configFile = value!; configFileGiven = true; continue }
    if (!spec.takesValue) {
      flagValues[spec.key] = value === undefined ? true : value !== 'false'
    } else if (spec.repeat) {
      ;((flagValues[spec.key] ??= []) as string[]).push(value!)
    } else {
      flagValues[spec.key] = value
    }
  }
  let fileValues: Record<string, unknown> = {}
  try {
    const text = await readFile(configFile, 'utf8')
    fileValues = text.trim() ? (JSON.parse(text) as Record<string, unknown>) : {}
  } catch (err) {
    if (!(isNotFoundErrno(err) && !configFileGiven)) {
      const reason = err instanceof SyntaxError ? err.message : (err as Error).message
      throw invalid('ERR_CONFIG_FILE', `unable to configure the Docker daemon with file ${configFile}: ${reason}`)
    }
  }
  const unknown = Object.keys(fileValues).filter((k) => !(k in FILE_KEYS))
  if (unknown.length) {
    throw invalid('ERR_CONFIG_FILE', `unable to configure the Docker daemon with file ${configFile}: the following directives don't match any configuration option: ${unknown.join(', ')}`)
  }
  const both = Object.keys(flagValues).filter((k) => k in fileValues)
  if (both.length) {
    const detail = both.map((k) => `${k}: (from flag: ${fmt(flagValues[k])}, from file: ${fmt(fileValues[k])})`).join(', ')
    throw invalid('ERR_CONFIG_CONFLICT', `unable to configure the Docker daemon with file ${configFile}: the following directives are specified both as a flag and in the configuration file: ${detail}`)
  }
  const merged = { ...fileValues, ...flagValues }
  const config: DaemonConfig = {
    hosts: [DEFAULT_SOCKET],
    dataRoot: '/var/lib/berth',
    execRoot: '/run/berth',
    pidfile: '',
    configFile,
    debug: false,
    logLevel: 'info',
    tls: false,
    tlsVerify: false,
    labels: [],
    defaultRuntime: 'crun',
    logDriver: 'json-file',
    logOpts: {},
    insecureRegistries: [],
    registryMirrors: [],
    maxConcurrentDownloads: 3,
    maxConcurrentUploads: 5,
    bip: '',
    defaultAddressPools: [],
  }
  for (const [key, v] of Object.entries(merged)) {
    const field = FILE_KEYS[key]!
    ;(config as unknown as Record<string, unknown>)[field] = v
  }
  if (!Array.isArray(config.hosts) || config.hosts.length === 0) config.hosts = [DEFAULT_SOCKET]
  if (!config.pidfile) config.pidfile = `${config.execRoot.replace(/\/$/, '')}/berthd.pid`
  if (config.tlsVerify) config.tls = true
  if (!['debug', 'info', 'warn', 'error', 'fatal'].includes(config.logLevel)) throw invalid('ERR_LOG_LEVEL', `unable to parse logging level: ${config.logLevel}`)
  if (config.debug) config.logLevel = 'debug'
  for (const l of config.labels) if (!/^[^=]+=/.test(l)) throw invalid('ERR_LABEL', `bad attribute format: ${l}`)
  if (Array.isArray(config.logOpts)) {
    // --log-opt k=v (repeated)
    const opts: Record<string, string> = {}
    for (const kv of config.logOpts as unknown as string[]) {
      const i = kv.indexOf('=')
      if (i <= 0) throw invalid('ERR_LOG_OPTS', `invalid value "${kv}" for flag --log-opt: invalid key value pair format: ${kv}`)
      opts[kv.slice(0, i)] = kv.slice(i + 1)
    }
    config.logOpts = opts
  }
  if (typeof config.logOpts !== 'object' || config.logOpts === null || Object.values(config.logOpts).some((v) => typeof v !== 'string')) {
    throw invalid('ERR_CONFIG_FILE', `unable to configure the Docker daemon with file ${configFile}: log-opts: values must be strings`)
  }
  if (typeof config.logDriver !== 'string' || config.logDriver === '') config.logDriver = 'json-file'
  try {
    validateLogDefaults({ type: config.logDriver, config: config.logOpts })
  } catch (err) {
    throw invalid('ERR_LOG_OPTS', `failed to set log opts: ${(err as Error).message}`)
  }
  validateRegistryKeys(config, configFile)
  validateNetworkKeys(config, configFile)
  if (!['crun', 'runc'].includes(config.defaultRuntime)) throw invalid('ERR_RUNTIME', `default runtime ${config.defaultRuntime} does not exist`)
  return { kind: 'run', config }
}

/** dockerd's checks of the registry keys (registry.ValidateMirror, LoadInsecureRegistries, max-concurrent-*). */
function validateRegistryKeys(config: DaemonConfig, configFile: string): void {
  const bad = (m: string) => invalid('ERR_CONFIG_FILE', `unable to configure the Docker daemon with file ${configFile}: ${m}`)
  if (!Array.isArray(config.insecureRegistries) || config.insecureRegistries.some((x) => typeof x !== 'string')) throw bad('insecure-registries: must be a list of strings')
  if (!Array.isArray(config.registryMirrors) || config.registryMirrors.some((x) => typeof x !== 'string')) throw bad('registry-mirrors: must be a list of strings')
  try {
    config.insecureRegistries = config.insecureRegistries.map(validateInsecureRegistry)
    config.registryMirrors = config.registryMirrors.map(validateMirror)
  } catch (err) {
    throw invalid('ERR_CONFIG_FILE', (err as Error).message)
  }
  for (const [key, field] of [['max-concurrent-downloads', 'maxConcurrentDownloads'], ['max-concurrent-uploads', 'maxConcurrentUploads']] as const) {
    const raw = config[field] as unknown
    const n = typeof raw === 'string' ? Number(raw) : raw
    if (typeof n !== 'number' || !Number.isInteger(n)) throw bad(`${key}: must be an integer`)
    // dockerd: "invalid max concurrent downloads: -1"
    if (n < 0) throw invalid('ERR_CONFIG_FILE', `invalid max concurrent ${key === 'max-concurrent-downloads' ? 'downloads' : 'uploads'}: ${n}`)
    config[field] = n === 0 ? (key === 'max-concurrent-downloads' ? 3 : 5) : n
  }
}

const CIDR4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/
const cidrOk = (s: string) => { const m = CIDR4.exec(s); return !!m && m.slice(1, 5).every((x) => Number(x) <= 255) && Number(m[5]) <= 32 }

/** `bip` and `default-address-pools` as dockerd checks them. */
function validateNetworkKeys(config: DaemonConfig, configFile: string): void {
  const bad = (m: string) => invalid('ERR_CONFIG_FILE', `unable to configure the Docker daemon with file ${configFile}: ${m}`)
  if (typeof config.bip !== 'string') throw bad('bip: must be a string')
  if (config.bip && !cidrOk(config.bip)) throw invalid('ERR_CONFIG_FILE', `invalid bip: ${config.bip}: invalid CIDR address: ${config.bip}`)
  const pools = config.defaultAddressPools as unknown
  if (!Array.isArray(pools)) throw bad('default-address-pools: must be a list')
  config.defaultAddressPools = pools.map((p: unknown) => {
    const o = p as { base?: unknown; size?: unknown }
    if (typeof p !== 'object' || p === null || typeof o.base !== 'string' || typeof o.size !== 'number' || !Number.isInteger(o.size)) throw bad('default-address-pools: each pool needs a "base" (string) and a "size" (integer)')
    if (!cidrOk(o.base)) throw invalid('ERR_CONFIG_FILE', `invalid base pool "${o.base}": invalid CIDR address: ${o.base}`)
    const bits = Number(o.base.split('/')[1])
    if (o.size < bits || o.size > 32) throw invalid('ERR_CONFIG_FILE', `invalid pools size: ${o.size}`)
    return { base: o.base, size: o.size }
  })
}

function fmt(v: unknown): string {
  return Array.isArray(v) ? `[${v.join(' ')}]` : String(v)
}
