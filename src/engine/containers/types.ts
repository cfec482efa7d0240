import type { ContainerNetworkState } from '../../network/types.js'
import type { Digest } from '../../lib/digest.js'

/** What a container runs and how (Docker's Config, camelCase, validated). */
export interface ContainerConfig {
  hostname: string
  domainname: string
  user: string
  attachStdin: boolean
  attachStdout: boolean
  attachStderr: boolean
  tty: boolean
  openStdin: boolean
  stdinOnce: boolean
  env: string[]
  cmd: string[] | null
  entrypoint: string[] | null
  image: string
  workingDir: string
  labels: Record<string, string>
  stopSignal?: string
  stopTimeout?: number
  exposedPorts: Record<string, object>
  volumes: Record<string, object>
  onBuild: string[] | null
  healthcheck?: { test?: string[]; interval?: number; timeout?: number; startPeriod?: number; startInterval?: number; retries?: number }
  argsEscaped?: boolean
  shell?: string[]
}

export interface RestartPolicy {
  name: '' | 'no' | 'always' | 'on-failure' | 'unless-stopped'
  maximumRetryCount: number
}

/** How the host runs it (Docker's HostConfig, the parts berth implements). */
export interface HostConfig {
  autoRemove: boolean
  networkMode: string
  restartPolicy: RestartPolicy
  privileged: boolean
  readonlyRootfs: boolean
  capAdd: string[]
  capDrop: string[]
  securityOpt: string[]
  init: boolean
  memory: number
  memorySwap: number
  memoryReservation: number
  nanoCpus: number
  cpuShares: number
  cpuQuota: number
  cpuPeriod: number
  cpusetCpus: string
  cpusetMems: string
  pidsLimit: number | null
  oomKillDisable: boolean
  shmSize: number
  ulimits: Array<{ name: string; soft: number; hard: number }>
  sysctls: Record<string, string>
  devices: Array<{ pathOnHost: string; pathInContainer: string; cgroupPermissions: string }>
  logConfig: { type: string; config: Record<string, string> }
  extraHosts: string[]
  dns: string[]
  dnsSearch: string[]
  dnsOptions: string[]
  runtime: string
  oomScoreAdj: number
  /** As asked: `-v` specs, `--mount` objects (wire form), `--tmpfs`, `--volumes-from`. */
  binds: string[]
  mounts: Array<Record<string, unknown>>
  tmpfs: Record<string, string>
  volumesFrom: string[]
  /** `-p`: container port (`80/tcp`) → host bindings. */
  portBindings: Record<string, Array<{ hostIp: string; hostPort: string }>>
  publishAllPorts: boolean
  links: string[]
  /** `--pid`: '' (private), `host`, `container:<name|id>`. */
  pidMode?: string
  /** `--uts`: '' (private) or `host`. */
  utsMode?: string
  /** '' or `default` (Linux has no other). */
  isolation?: string
  /** `private` or `host`; the daemon's default is filled in at create. */
  cgroupnsMode?: string
  /** `--device-cgroup-rule`: `c 1:3 rwm`, `b 8:* r`, `a *:* m`. */
  deviceCgroupRules?: string[]
  /** `--memory-swappiness` 0-100; unset or -1: the kernel's. */
  memorySwappiness?: number
  /** `--group-add`: group names (the image's /etc/group) or numbers. */
  groupAdd?: string[]
  cpuRealtimePeriod?: number
  cpuRealtimeRuntime?: number
}

/** A resolved mount: a volume's `_data`, a host path, or a tmpfs. */
export interface MountPoint {
  type: 'volume' | 'bind' | 'tmpfs'
  /** Volume name (volumes only). */
  name?: string
  /** Host path (a volume's `_data`, a bind's source); '' for tmpfs. */
  source: string
  destination: string
  readOnly: boolean
  mode: string
  propagation: string
  noCopy: boolean
  /** Made for this container alone (`-v /path`, image VOLUME): `rm -v` removes it. */
  anonymous?: boolean
  /** The image's content was copied into the volume (once, when it was empty). */
  copied?: boolean
  tmpfsOptions?: string[]
}

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead'

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy'

/** One probe's result, as Docker keeps them (the last five). */
export interface HealthResult { start: string; end: string; exitCode: number; output: string }

export interface HealthState { status: HealthStatus; failingStreak: number; log: HealthResult[] }

export interface ContainerState {
  status: ContainerStatus
  pid: number
  exitCode: number
  error: string
  oomKilled: boolean
  startedAt: string
  finishedAt: string
  /** conmon's PID, so berthd can find the monitor again after a restart. */
  monitorPid: number
  /** Set when `stop`/`kill` was asked by a user (restart policies then do not restart). */
  stoppedByUser: boolean
  /** Present for a container with a healthcheck once it has started. */
  health?: HealthState
}

/** The engine's record of a container (`containers/<id>/container.json`). */
export interface ContainerRecord {
  id: string
  name: string
  created: string
  imageRef: string
  imageId: Digest
  /** Chain ID of the image's top layer: the container's lower dirs. */
  imageTopLayer: Digest | ''
  path: string
  args: string[]
  config: ContainerConfig
  hostConfig: HostConfig
  state: ContainerState
  restartCount: number
  runtime: string
  logPath: string
  /** The container's mounts, resolved at create (volumes made, bind sources checked). */
  mountPoints?: MountPoint[]
  /** The container's networks and what was set up for them (src/network). */
  network?: ContainerNetworkState
  /** Per-network settings asked at create (NetworkingConfig.EndpointsConfig), by network name. */
  endpointsConfig?: Record<string, EndpointSettings>
}

/** What a client asked for one network of a container (create's EndpointsConfig, or connect). */
export interface EndpointSettings {
  aliases: string[]
  ipv4Address: string
  ipv6Address: string
  macAddress: string
  links: string[]
  /** IPAMConfig.LinkLocalIPs, kept and shown as asked. */
  linkLocalIps?: string[]
  /** DriverOpts as sent: absent is null in inspect, `{}` stays `{}`. */
  driverOpts?: Record<string, string>
}

export const ZERO_TIME = '0001-01-01T00:00:00Z'
