/**
 * Docker Engine API wire types (v1.50), by hand for what Berth's clients use. PascalCase as on the
 * wire; `../shared/specs/docker-engine-api-v1.50.yaml` is the reference. Fields a daemon may omit
 * are optional.
 */

export type Labels = Record<string, string>

export interface PortBinding { HostIp?: string; HostPort?: string }
export type PortMap = Record<string, PortBinding[] | null>

export interface Mount {
  Type: 'bind' | 'volume' | 'tmpfs' | 'npipe' | 'cluster' | 'image'
  Source?: string
  Target: string
  ReadOnly?: boolean
  Consistency?: string
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean; ReadOnlyNonRecursive?: boolean; ReadOnlyForceRecursive?: boolean }
  VolumeOptions?: { NoCopy?: boolean; Labels?: Labels; Subpath?: string; DriverConfig?: { Name?: string; Options?: Record<string, string> } }
  TmpfsOptions?: { SizeBytes?: number; Mode?: number }
}

export interface HealthConfig {
  Test?: string[]
  Interval?: number
  Timeout?: number
  Retries?: number
  StartPeriod?: number
  StartInterval?: number
}

export interface RestartPolicy { Name?: '' | 'no' | 'always' | 'unless-stopped' | 'on-failure'; MaximumRetryCount?: number }

export interface Ulimit { Name: string; Soft: number; Hard: number }
export interface DeviceMapping { PathOnHost: string; PathInContainer: string; CgroupPermissions: string }
export interface DeviceRequest { Driver?: string; Count?: number; DeviceIDs?: string[]; Capabilities?: string[][]; Options?: Record<string, string> }

export interface HostConfig {
  Binds?: string[]
  Mounts?: Mount[]
  Tmpfs?: Record<string, string>
  PortBindings?: PortMap
  PublishAllPorts?: boolean
  NetworkMode?: string
  RestartPolicy?: RestartPolicy
  AutoRemove?: boolean
  VolumesFrom?: string[]
  CapAdd?: string[]
  CapDrop?: string[]
  Dns?: string[]
  DnsOptions?: string[]
  DnsSearch?: string[]
  ExtraHosts?: string[]
  GroupAdd?: string[]
  IpcMode?: string
  PidMode?: string
  UTSMode?: string
  Privileged?: boolean
  ReadonlyRootfs?: boolean
  SecurityOpt?: string[]
  StorageOpt?: Record<string, string>
  ShmSize?: number
  Sysctls?: Record<string, string>
  Init?: boolean | null
  Runtime?: string
  LogConfig?: { Type?: string; Config?: Record<string, string> }
  Links?: string[]
  OomScoreAdj?: number
  Memory?: number
  MemoryReservation?: number
  MemorySwap?: number
  NanoCpus?: number
  CpuShares?: number
  CpuQuota?: number
  CpuPeriod?: number
  CpusetCpus?: string
  PidsLimit?: number | null
  Ulimits?: Ulimit[]
  Devices?: DeviceMapping[]
  DeviceRequests?: DeviceRequest[]
  OomKillDisable?: boolean
  Annotations?: Record<string, string>
  CgroupParent?: string
}

export interface EndpointSettings {
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] } | null
  Links?: string[] | null
  Aliases?: string[] | null
  DNSNames?: string[] | null
  MacAddress?: string
  NetworkID?: string
  EndpointID?: string
  Gateway?: string
  IPAddress?: string
  IPPrefixLen?: number
  GwPriority?: number
  DriverOpts?: Record<string, string> | null
}

/** POST /containers/create body. */
export interface ContainerCreateRequest {
  Hostname?: string
  Domainname?: string
  User?: string
  AttachStdin?: boolean
  AttachStdout?: boolean
  AttachStderr?: boolean
  ExposedPorts?: Record<string, object>
  Tty?: boolean
  OpenStdin?: boolean
  StdinOnce?: boolean
  Env?: string[]
  Cmd?: string[] | null
  Healthcheck?: HealthConfig
  Image?: string
  Volumes?: Record<string, object>
  WorkingDir?: string
  Entrypoint?: string[] | null
  NetworkDisabled?: boolean
  MacAddress?: string
  Labels?: Labels
  StopSignal?: string
  StopTimeout?: number
  HostConfig?: HostConfig
  NetworkingConfig?: { EndpointsConfig?: Record<string, EndpointSettings> }
}

export interface ContainerSummary {
  Id: string
  Names: string[]
  Image: string
  ImageID: string
  Command: string
  Created: number
  State: 'created' | 'running' | 'paused' | 'restarting' | 'exited' | 'removing' | 'dead'
  Status: string
  Ports: Array<{ IP?: string; PrivatePort: number; PublicPort?: number; Type: string }>
  Labels: Labels
  NetworkSettings?: { Networks?: Record<string, EndpointSettings> }
  Mounts?: Array<{ Type: string; Name?: string; Source: string; Destination: string }>
}

export interface ContainerState {
  Status: ContainerSummary['State']
  Running: boolean
  Paused: boolean
  Restarting: boolean
  OOMKilled: boolean
  Dead: boolean
  Pid: number
  ExitCode: number
  Error: string
  StartedAt: string
  FinishedAt: string
  Health?: { Status: 'starting' | 'healthy' | 'unhealthy' | 'none'; FailingStreak: number; Log?: Array<{ Start: string; End: string; ExitCode: number; Output: string }> }
}

export interface ContainerInspect {
  Id: string
  Created: string
  Path: string
  Args: string[]
  State: ContainerState
  Image: string
  Name: string
  RestartCount: number
  Config: ContainerCreateRequest & { Labels: Labels; Image: string }
  HostConfig: HostConfig
  NetworkSettings: { Networks: Record<string, EndpointSettings>; Ports?: PortMap }
  Mounts: Array<{ Type: string; Name?: string; Source: string; Destination: string; RW: boolean }>
}

export interface ContainerWaitResponse { StatusCode: number; Error?: { Message: string } | null }
export interface ContainerTop { Titles: string[]; Processes: string[][] }

export interface NetworkCreateRequest {
  Name: string
  Driver?: string
  Internal?: boolean
  Attachable?: boolean
  EnableIPv6?: boolean
  IPAM?: { Driver?: string; Config?: Array<{ Subnet?: string; IPRange?: string; Gateway?: string; AuxiliaryAddresses?: Record<string, string> }>; Options?: Record<string, string> }
  Options?: Record<string, string>
  Labels?: Labels
  CheckDuplicate?: boolean
}

export interface NetworkInspect {
  Name: string
  Id: string
  Created: string
  Scope: string
  Driver: string
  EnableIPv6: boolean
  Internal: boolean
  Attachable: boolean
  IPAM: NonNullable<NetworkCreateRequest['IPAM']>
  Options: Record<string, string>
  Labels: Labels
  Containers?: Record<string, { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string }>
}

export interface VolumeCreateRequest { Name?: string; Driver?: string; DriverOpts?: Record<string, string>; Labels?: Labels }
export interface Volume {
  Name: string
  Driver: string
  Mountpoint: string
  CreatedAt?: string
  Labels: Labels | null
  Options: Record<string, string> | null
  Scope: string
}

export interface ImageSummary {
  Id: string
  ParentId: string
  RepoTags: string[] | null
  RepoDigests: string[] | null
  Created: number
  Size: number
  Labels: Labels | null
  Containers: number
}

export interface ImageInspect {
  Id: string
  RepoTags: string[]
  RepoDigests: string[]
  Created: string
  Size: number
  Architecture: string
  Os: string
  Config: { Env?: string[]; Cmd?: string[] | null; Entrypoint?: string[] | null; ExposedPorts?: Record<string, object>; Volumes?: Record<string, object> | null; WorkingDir?: string; User?: string; Labels?: Labels | null; Healthcheck?: HealthConfig }
}

export interface ExecCreateRequest {
  AttachStdin?: boolean
  AttachStdout?: boolean
  AttachStderr?: boolean
  DetachKeys?: string
  Tty?: boolean
  Env?: string[]
  Cmd: string[]
  Privileged?: boolean
  User?: string
  WorkingDir?: string
}
export interface ExecInspect { ID: string; Running: boolean; ExitCode: number | null; ProcessConfig: { entrypoint: string; arguments: string[]; tty: boolean; privileged: boolean; user?: string }; ContainerID: string; Pid: number }

/** One line of a pull/push/build/load progress stream. */
export interface ProgressMessage {
  id?: string
  status?: string
  progress?: string
  progressDetail?: { current?: number; total?: number }
  stream?: string
  aux?: { ID?: string; Digest?: string; Tag?: string; Size?: number }
  error?: string
  errorDetail?: { code?: number; message?: string }
}

/** One event of GET /events. */
export interface EventMessage {
  Type: 'container' | 'image' | 'volume' | 'network' | 'daemon' | 'plugin' | 'builder' | 'node' | 'service' | 'secret' | 'config'
  Action: string
  Actor: { ID: string; Attributes: Record<string, string> }
  scope?: string
  time: number
  timeNano: number
  status?: string
  id?: string
  from?: string
}

export interface VersionInfo {
  Version: string
  ApiVersion: string
  MinAPIVersion?: string
  Os: string
  Arch: string
  KernelVersion?: string
  Components?: Array<{ Name: string; Version: string; Details?: Record<string, string> }>
}

/** Filters as the API takes them: `{label: ['a=b'], status: ['running']}`. */
export type Filters = Record<string, string[]>
