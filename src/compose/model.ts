/**
 * The normalised Compose model: the Compose Specification's own attribute names (what
 * `compose config` prints), every short syntax expanded to its long form, paths absolute,
 * durations in nanoseconds and sizes in bytes where the engine needs numbers.
 */

export interface ProjectModel {
  name: string
  workingDir: string
  configFiles: string[]
  /** Variables used for interpolation (the .env files under the process environment). */
  environment: Record<string, string>
  services: Record<string, ServiceConfig>
  /** Services left out by their profiles. */
  disabled: Record<string, ServiceConfig>
  networks: Record<string, NetworkConfig>
  volumes: Record<string, VolumeConfig>
  secrets: Record<string, FileObjectConfig>
  configs: Record<string, FileObjectConfig>
  /** `x-` extensions at the top level. */
  extensions: Record<string, unknown>
}

export interface BuildConfig {
  context: string
  dockerfile?: string
  dockerfile_inline?: string
  args?: Record<string, string | null>
  target?: string
  labels?: Record<string, string>
  cache_from?: string[]
  network?: string
  extra_hosts?: string[]
  shm_size?: number
  no_cache?: boolean
  pull?: boolean
  tags?: string[]
  platforms?: string[]
}

export interface PortConfig {
  mode: 'ingress' | 'host'
  host_ip?: string
  target: number
  published?: string
  protocol: 'tcp' | 'udp' | 'sctp'
  name?: string
  app_protocol?: string
}

export interface VolumeMountConfig {
  type: 'volume' | 'bind' | 'tmpfs' | 'npipe' | 'cluster' | 'image'
  source?: string
  target: string
  read_only?: boolean
  consistency?: string
  bind?: { propagation?: string; create_host_path?: boolean; selinux?: 'z' | 'Z' }
  volume?: { nocopy?: boolean; subpath?: string }
  tmpfs?: { size?: number; mode?: number }
}

export interface ServiceNetworkConfig {
  aliases?: string[]
  ipv4_address?: string
  ipv6_address?: string
  priority?: number
  mac_address?: string
  link_local_ips?: string[]
  driver_opts?: Record<string, string>
}

export interface DependsOnConfig {
  condition: 'service_started' | 'service_healthy' | 'service_completed_successfully'
  restart: boolean
  required: boolean
}

export interface HealthcheckConfig {
  test?: string[]
  interval?: number
  timeout?: number
  retries?: number
  start_period?: number
  start_interval?: number
  disable?: boolean
}

export interface FileReference { source: string; target: string; uid?: string; gid?: string; mode?: number }

export interface ServiceConfig {
  name: string
  profiles?: string[]
  image?: string
  build?: BuildConfig
  command?: string[] | null
  entrypoint?: string[] | null
  environment: Record<string, string | null>
  ports: PortConfig[]
  expose?: string[]
  volumes: VolumeMountConfig[]
  tmpfs?: string[]
  networks?: Record<string, ServiceNetworkConfig | null>
  network_mode?: string
  depends_on: Record<string, DependsOnConfig>
  healthcheck?: HealthcheckConfig
  restart?: string
  deploy?: {
    replicas?: number
    resources?: { limits?: { cpus?: number; memory?: number; pids?: number }; reservations?: { cpus?: number; memory?: number } }
    restart_policy?: { condition?: 'none' | 'on-failure' | 'any'; max_attempts?: number; delay?: number; window?: number }
    labels?: Record<string, string>
  }
  scale?: number
  labels: Record<string, string>
  container_name?: string
  hostname?: string
  domainname?: string
  user?: string
  working_dir?: string
  stop_signal?: string
  stop_grace_period?: number
  init?: boolean
  privileged?: boolean
  cap_add?: string[]
  cap_drop?: string[]
  security_opt?: string[]
  ulimits?: Record<string, { soft: number; hard: number }>
  sysctls?: Record<string, string>
  logging?: { driver?: string; options?: Record<string, string> }
  extra_hosts?: string[]
  dns?: string[]
  dns_search?: string[]
  dns_opt?: string[]
  devices?: string[]
  read_only?: boolean
  shm_size?: number
  mem_limit?: number
  mem_reservation?: number
  memswap_limit?: number
  cpus?: number
  cpu_shares?: number
  cpuset?: string
  pids_limit?: number
  oom_score_adj?: number
  links?: string[]
  external_links?: string[]
  secrets?: FileReference[]
  configs?: FileReference[]
  pull_policy?: 'always' | 'never' | 'missing' | 'if_not_present' | 'build' | 'daily' | 'weekly'
  attach?: boolean
  tty?: boolean
  stdin_open?: boolean
  platform?: string
  annotations?: Record<string, string>
  ipc?: string
  pid?: string
  uts?: string
  group_add?: string[]
  runtime?: string
  mac_address?: string
  cgroup_parent?: string
  develop?: { watch?: Array<{ path: string; action: 'sync' | 'rebuild' | 'sync+restart' | 'restart' | 'sync+exec'; target?: string; ignore?: string[] }> }
  /** `x-` extensions. */
  extensions?: Record<string, unknown>
}

export interface NetworkConfig {
  name: string
  driver?: string
  driver_opts?: Record<string, string>
  ipam?: { driver?: string; config?: Array<{ subnet?: string; ip_range?: string; gateway?: string; aux_addresses?: Record<string, string> }>; options?: Record<string, string> }
  internal?: boolean
  attachable?: boolean
  enable_ipv6?: boolean
  external?: boolean
  labels?: Record<string, string>
}

export interface VolumeConfig {
  name: string
  driver?: string
  driver_opts?: Record<string, string>
  external?: boolean
  labels?: Record<string, string>
}

export interface FileObjectConfig {
  name: string
  file?: string
  environment?: string
  content?: string
  external?: boolean
}

/** How many containers a service runs. */
export function replicasOf(s: ServiceConfig): number {
  return s.scale ?? s.deploy?.replicas ?? 1
}
