import type { Duplex, Readable } from 'node:stream'
import type { BuildOptions, CachePruneFilters } from '../build/builder.js'
import type { ContainerConfig, ContainerRecord, ContainerStatus, HostConfig } from '../engine/containers/types.js'
import type { ContainerConfigFields, Image } from '../engine/images/types.js'
import type { EngineEvent } from '../engine/events/types.js'
import type { EndpointState, NetworkRecord } from '../network/types.js'
import type { Cluster, Config, TlsInfo, ConfigSpec, Network as SwarmNetwork, NetworkSpec as SwarmNetworkSpec, Node, NodeAvailability, NodeSpec, Secret, SecretSpec, Service, ServiceSpec, SwarmSpec, Task } from '../cluster/types.js'

/**
 * The seam between the HTTP edge and the engine: one role interface per resource, owned by the
 * API, implemented by the engine (src/engine/backends/*), wired once in src/daemon/. A route
 * parses the wire shape, calls one method, maps the result (camelCase, below) to the wire and
 * lets src/api/http.ts map the error kind to a status.
 *
 * Errors are `EngineError`s of src/lib/errors.ts with Docker's words: NotFound for an unknown
 * reference, Conflict for a wrong state, InvalidArgument for bad input. An outcome a client
 * sees as a status of its own (304) is a typed result, never an error.
 *
 * Large record types come type-only from the engine's `types.ts` files; everything else is
 * spelled out here.
 */

export type { ContainerConfig, ContainerRecord, ContainerStatus, HostConfig, Image, ContainerConfigFields, EngineEvent, NetworkRecord, EndpointState }

// ---- containers

/** Values of ps filters, parsed and validated by the API (a key left out does not filter). */
export interface ContainerListFilters {
  ancestor?: string[]
  /** Container references: only containers created before (after) them. */
  before?: string[]
  since?: string[]
  /** Port specs: `80`, `80/tcp`, `8000-8080/udp`. */
  expose?: string[]
  publish?: string[]
  exited?: number[]
  health?: Array<'starting' | 'healthy' | 'unhealthy' | 'none'>
  /** ID prefixes. */
  id?: string[]
  /** `key` or `key=value`; all must match. */
  label?: string[]
  /** Regular expressions over the name. */
  name?: string[]
  network?: string[]
  status?: ContainerStatus[]
  /** Volume names, mount destinations or sources. */
  volume?: string[]
}

export interface ContainerSize { sizeRw: number; sizeRootFs: number }

/** A container as list, inspect and system df show it. */
export interface ContainerView {
  record: ContainerRecord
  /** With `size`: the writable layer's size and the whole rootfs's. */
  size?: ContainerSize
}

/** Label and time filters of a prune (`label`, `label!`, `until`). */
export interface PruneFilters {
  label?: string[]
  labelNot?: string[]
  /** Docker timestamps or durations (`10m`), as the client sent them. */
  until?: string[]
}

export interface CreateContainerRequest {
  name?: string
  /** `os[/arch[/variant]]` the client asked for; only linux is served. */
  platform?: string
  config: ContainerConfig
  hostConfig: HostConfig
  endpointsConfig?: ContainerRecord['endpointsConfig']
}

export interface ContainerUpdate {
  memory?: number
  memorySwap?: number
  memoryReservation?: number
  nanoCpus?: number
  cpuShares?: number
  cpuQuota?: number
  cpuPeriod?: number
  cpusetCpus?: string
  cpusetMems?: string
  pidsLimit?: number
  blkioWeight?: number
  restartPolicy?: HostConfig['restartPolicy']
}

export interface StopOptions { timeout?: number; signal?: string }

export interface WaitResult { statusCode: number; error?: string }

export interface AttachOptions {
  stdin: boolean
  stdout: boolean
  stderr: boolean
  /** Replay the log first. */
  logs: boolean
  /** Stay attached to the live streams. */
  stream: boolean
  /** Docker's detach key syntax (`ctrl-p,ctrl-q`). */
  detachKeys: string
}

/**
 * An attach that found its container and checked its options: the route answers the upgrade
 * (raw or multiplexed by `tty`), then hands over the connection to `run`, which resolves when
 * the client is detached or the stream ended.
 */
export interface AttachSession {
  readonly tty: boolean
  run(client: Duplex, head: Buffer): Promise<void>
}

export interface LogsOptions {
  stdout: boolean
  stderr: boolean
  follow: boolean
  timestamps: boolean
  details: boolean
  /** Docker timestamps as sent; `0` or absent is no bound. */
  since?: string
  until?: string
  /** Lines from the end; absent is all. */
  tail?: number
  signal: AbortSignal
}

/** The log of a container: chunks ready to send (stdcopy frames without a TTY, raw bytes with one). */
export interface LogStream { tty: boolean; chunks: AsyncIterable<Buffer> }

/** cgroup v1 figures of one reading (nanoseconds and bytes as 64-bit integers). */
export interface CgroupStats {
  cpu: {
    totalUsage: bigint
    percpuUsage: bigint[]
    usageInKernelmode: bigint
    usageInUsermode: bigint
    throttling: { periods: bigint; throttledPeriods: bigint; throttledTime: bigint }
  }
  memory?: { usage: bigint; maxUsage: bigint; limit: bigint; failcnt: bigint; stat: Map<string, bigint> }
  pids?: { current: bigint; limit: bigint }
  blkio: { serviceBytes: BlkioStat[]; serviced: BlkioStat[] }
}
export interface BlkioStat { major: number; minor: number; op: string; value: bigint }
export interface NetStats {
  rxBytes: bigint; rxPackets: bigint; rxErrors: bigint; rxDropped: bigint
  txBytes: bigint; txPackets: bigint; txErrors: bigint; txDropped: bigint
}
/** One reading; an empty one (not running) has `readNano` 0 and nothing else. */
export interface StatsSample {
  readNano: bigint
  cgroup?: CgroupStats
  system?: { systemUsage: bigint; onlineCpus: number }
  memTotal?: bigint
  networks?: Map<string, NetStats>
}
/** One stats answer: this reading and the one before it. */
export interface StatsFrame { name: string; id: string; current: StatsSample; previous: StatsSample }

export interface PathStat { name: string; size: number; mode: number; mtime: string; linkTarget: string }

export interface ExtractOptions { noOverwriteDirNonDir: boolean; copyUIDGID: boolean; signal: AbortSignal }

export interface Change { path: string; kind: number }

export interface CommitRequest {
  container: string
  repo: string
  tag: string
  comment: string
  author: string
  pause: boolean
  changes: string[]
  config?: ContainerConfigFields
  signal: AbortSignal
}

export interface ExecConfig {
  cmd: string[]
  env: string[]
  user: string
  workingDir: string
  privileged: boolean
  tty: boolean
  attachStdin: boolean
  attachStdout: boolean
  attachStderr: boolean
  detachKeys: string
  consoleSize?: ConsoleSize
}

export interface ConsoleSize { height: number; width: number }

export interface ExecView {
  id: string
  containerId: string
  running: boolean
  exitCode: number | null
  pid: number
  config: ExecConfig
}

/**
 * An exec session ready to stream: `run` joins the client to the process (stdin only over a
 * hijacked connection) and resolves when the process ended and its output was passed on. An error
 * once the stream began is written into it, as Docker does.
 */
export interface ExecStream {
  readonly tty: boolean
  run(client: Duplex, opts: { head?: Buffer; stdin: boolean; multiplexed: boolean }): Promise<void>
}

/**
 * Containers: lifecycle verbs over references (full ID, name, unique ID prefix; NotFound
 * `No such container: <ref>` otherwise), listing, prune, the streams (attach, logs, stats), the
 * filesystem (archive, changes, export, commit) and exec sessions.
 */
export interface ContainerBackend {
  /** Newest first; without `all` (and with no status/exited filter or limit) only running ones. A limit > 0 keeps that many. */
  list(opts: { all: boolean; limit: number; size: boolean; filters: ContainerListFilters }): Promise<ContainerView[]>
  /** Validate, apply defaults, record the container (created, not started). */
  create(req: CreateContainerRequest): Promise<{ id: string; warnings: string[] }>
  inspect(ref: string, opts: { size: boolean }): Promise<{ container: ContainerView; execIds: string[] }>
  start(ref: string, opts: { signal: AbortSignal }): Promise<'started' | 'already-running'>
  stop(ref: string, opts: StopOptions): Promise<'stopped' | 'not-running'>
  restart(ref: string, opts: StopOptions): Promise<void>
  kill(ref: string, signal: string): Promise<void>
  pause(ref: string): Promise<void>
  unpause(ref: string): Promise<void>
  /**
   * Register a wait (NotFound first, so a route can answer 404 before its headers); `done`
   * settles at the condition (`not-running`, `next-exit`, `removed`) or when the signal aborts.
   */
  wait(ref: string, opts: { condition: string; signal: AbortSignal }): Promise<{ done: Promise<WaitResult> }>
  remove(ref: string, opts: { force: boolean; volumes: boolean }): Promise<void>
  /** `docker rm --link <container>/<alias>`: that container's legacy link goes. */
  removeLink(name: string): Promise<void>
  rename(ref: string, name: string): Promise<void>
  update(ref: string, update: ContainerUpdate): Promise<{ warnings: string[] }>
  /** Resize a running container's terminal (Conflict when it is not running). */
  resize(ref: string, size: ConsoleSize): Promise<void>
  /** Remove stopped containers matching the filters. */
  prune(filters: PruneFilters): Promise<{ deleted: string[]; spaceReclaimed: number }>
  /** `ps` over the container's processes (Conflict when it is not running). */
  top(ref: string, psArgs: string): Promise<{ titles: string[]; processes: string[][] }>
  attach(ref: string, opts: AttachOptions): Promise<AttachSession>
  /** Checks the request (InvalidArgument, NotImplemented for a driver without reading) before any chunk. */
  logs(ref: string, opts: LogsOptions): Promise<LogStream>
  stats(ref: string, opts: { stream: boolean; oneShot: boolean; signal: AbortSignal }): Promise<AsyncIterable<StatsFrame>>
  statPath(ref: string, path: string): Promise<PathStat>
  /** Resolve the path, then hand its stat and tar stream to `send`. */
  archivePath(ref: string, path: string, send: (stat: PathStat, tar: Readable) => Promise<void>, signal: AbortSignal): Promise<void>
  extractTo(ref: string, path: string, body: AsyncIterable<Buffer>, opts: ExtractOptions): Promise<void>
  changes(ref: string): Promise<Change[]>
  export(ref: string, send: (tar: Readable) => Promise<void>, signal: AbortSignal): Promise<void>
  /** A new image from the container's filesystem; returns its ID. */
  commit(req: CommitRequest): Promise<string>
  execCreate(ref: string, config: ExecConfig): Promise<string>
  execInspect(id: string): Promise<ExecView>
  /** Resize a running exec's terminal; nothing for one that ended. */
  execResize(id: string, size: ConsoleSize): Promise<void>
  /** Start detached: the process runs on, nothing is streamed. */
  execStartDetached(id: string, opts: { consoleSize?: ConsoleSize }): Promise<void>
  /** Look the session up (NotFound, Conflict when already started) before the stream begins. */
  execStream(id: string, opts: { consoleSize?: ConsoleSize }): Promise<ExecStream>
}

// ---- images

/** Values of image list filters. */
export interface ImageListFilters {
  before?: string[]
  since?: string[]
  dangling?: boolean
  label?: string[]
  labelNot?: string[]
  /** Reference patterns (`busybox`, `busy*:1.*`). */
  reference?: string[]
  until?: string[]
}

/** An image as list and df show it. */
export interface ImageSummary {
  id: string
  parentId: string
  repoTags: string[]
  repoDigests: string[]
  created: number
  size: number
  sharedSize: number
  labels: Record<string, string>
  containers: number
}

export interface ImageDetail {
  image: Image
  /** Familiar forms (`busybox:latest`). */
  repoTags: string[]
  repoDigests: string[]
  /** overlay2's GraphDriver.Data: UpperDir, LowerDir... */
  graphDriver: Record<string, string>
}

export interface HistoryItem { id: string; created: number; createdBy: string; tags: string[]; size: number; comment: string }

export interface DeleteItem { untagged?: string; deleted?: string }

export interface ImportRequest {
  repo: string
  tag: string
  message: string
  changes: string[]
  platform: string
  source: string
  signal: AbortSignal
}

/** Images in the local store: list, inspect, tag, remove, prune, load/save/import. */
export interface ImageBackend {
  list(opts: { all: boolean; sharedSize: boolean; filters: ImageListFilters }): Promise<ImageSummary[]>
  inspect(ref: string): Promise<ImageDetail>
  history(ref: string): Promise<HistoryItem[]>
  tag(ref: string, repo: string, tag?: string): Promise<void>
  remove(ref: string, opts: { force: boolean; noPrune: boolean }): Promise<DeleteItem[]>
  /** Dangling images, or all unused ones with `dangling=false`. */
  prune(filters: ImageListFilters): Promise<{ deleted: DeleteItem[]; spaceReclaimed: number }>
  /** A `docker save` archive: every name is resolved (NotFound) before `open` is called. */
  save(names: string[], open: () => (chunk: Buffer) => Promise<void> | void, signal: AbortSignal): Promise<void>
  load(body: AsyncIterable<Buffer>, signal: AbortSignal): Promise<{ messages: string[] }>
  /** A one-layer image from a tar; returns its ID. */
  import(body: AsyncIterable<Buffer>, req: ImportRequest): Promise<string>
}

// ---- registries

/** Credentials as the client sent them (X-Registry-Auth or /auth's body), decoded. */
export interface RegistryAuth {
  username?: string
  password?: string
  auth?: string
  serveraddress?: string
  identitytoken?: string
  registrytoken?: string
  email?: string
}

/** A progress message of pull and push (Docker's JSON-lines shape, produced by the engine). */
export type ProgressMessage = object

/** `docker search` filters: every `stars` minimum must be met. */
export interface SearchFilters { isOfficial?: boolean; isAutomated?: boolean; stars?: number[] }

export interface SearchItem { name: string; description: string; starCount: number; isOfficial: boolean }

/**
 * Talking to registries: pull, push, login, search, distribution inspect, with the daemon's
 * registry settings (mirrors, insecure registries, concurrency). `progress` is called for each
 * message; an error before the first message is thrown as is.
 */
export interface RegistryBackend {
  pull(req: { image: string; tag: string; platform?: string; auth?: RegistryAuth; progress: (m: ProgressMessage) => void; signal: AbortSignal }): Promise<void>
  push(req: { name: string; tag: string; auth?: RegistryAuth; progress: (m: ProgressMessage) => void; signal: AbortSignal }): Promise<void>
  /** Check the credentials against the registry (Unauthorized when refused). */
  login(auth: RegistryAuth, signal: AbortSignal): Promise<{ status: string; identityToken: string }>
  search(term: string, opts: { limit: number; filters: SearchFilters; auth?: RegistryAuth; signal: AbortSignal }): Promise<SearchItem[]>
  distributionInspect(name: string, opts: { auth?: RegistryAuth; signal: AbortSignal }): Promise<{ descriptor: { mediaType: string; digest: string; size: number }; platforms: Array<{ architecture: string; os: string; variant?: string }> }>
}

// ---- networks

export interface NetworkListFilters {
  dangling?: boolean
  driver?: string[]
  id?: string[]
  label?: string[]
  name?: string[]
  scope?: string[]
  type?: Array<'custom' | 'builtin'>
}

export interface CreateNetworkRequest {
  name: string
  driver?: string
  internal: boolean
  attachable: boolean
  enableIPv6: boolean
  labels: Record<string, string>
  options: Record<string, string>
  ipam: { driver?: string; config: Array<{ subnet?: string; gateway?: string; ipRange?: string }> }
}

/** A network with the containers attached to it. */
export interface NetworkView {
  network: NetworkRecord
  endpoints: Array<{ containerId: string; name: string; ep: EndpointState }>
}

/** Networks: list (oldest first), inspect, create, remove, connect/disconnect containers, prune. */
export interface NetworkBackend {
  list(filters: NetworkListFilters): Promise<NetworkView[]>
  inspect(ref: string): Promise<NetworkView>
  create(req: CreateNetworkRequest): Promise<{ id: string; warning: string }>
  remove(ref: string): Promise<void>
  connect(network: string, container: string, cfg: { aliases: string[]; ipv4Address: string; macAddress: string; links?: string[]; linkLocalIps?: string[]; driverOpts?: Record<string, string> }): Promise<void>
  disconnect(network: string, container: string, force: boolean): Promise<void>
  /** Remove unused custom networks matching the filters; returns their names. */
  prune(filters: PruneFilters): Promise<string[]>
}

// ---- volumes

export interface VolumeListFilters {
  dangling?: boolean
  driver?: string[]
  label?: string[]
  name?: string[]
}

export interface VolumePruneFilters {
  /** Every unused volume, not only anonymous ones. */
  all?: boolean
  label?: string[]
  labelNot?: string[]
}

/** A volume as the API shows it. */
export interface VolumeView {
  name: string
  driver: string
  labels: Record<string, string>
  options: Record<string, string>
  createdAt: string
  mountpoint: string
  usage?: { size: number; refCount: number }
}

/** Local volumes: list, inspect, create, remove (Conflict while in use), prune unused ones. */
export interface VolumeBackend {
  list(filters: VolumeListFilters): Promise<VolumeView[]>
  inspect(name: string): Promise<VolumeView>
  create(req: { name?: string; driver: string; labels: Record<string, string>; options: Record<string, string> }): Promise<VolumeView>
  remove(name: string, opts: { force: boolean }): Promise<void>
  /** `allByDefault`: API < 1.42 pruned every unused volume, not only anonymous ones. */
  prune(filters: VolumePruneFilters, opts: { allByDefault: boolean }): Promise<{ deleted: string[]; spaceReclaimed: number }>
}

// ---- system

export interface VersionInfo {
  version: string
  arch: string
  kernelVersion: string
  gitCommit: string
  buildTime: string
  nodeVersion: string
  /** Runtimes and the monitor, with their versions. */
  components: Array<{ name: string; version: string }>
}

/** What `docker info` shows (the API adds its constants). */
export interface SystemInfo {
  id: string
  containers: { total: number; running: number; paused: number; stopped: number }
  images: number
  backingFs: string
  ipv4Forwarding: boolean
  debug: boolean
  openFds: number
  activeHandles: number
  cgroupVersion: string
  eventListeners: number
  kernelVersion: string
  operatingSystem: string
  osVersion: string
  architecture: string
  ncpu: number
  memTotal: number
  dataRoot: string
  hostname: string
  labels: string[]
  runtimes: Record<string, { path: string }>
  defaultRuntime: string
  proxies: { http: string; https: string; no: string }
  warnings: string[]
  /** `Swarm` of /info (absent: not in swarm mode). */
  swarm?: SwarmInfo
}

export type DiskUsageType = 'container' | 'image' | 'volume' | 'build-cache'

export interface DiskUsage {
  layersSize?: number
  images?: ImageSummary[]
  containers?: ContainerView[]
  volumes?: VolumeView[]
  buildCache?: never[]
}

/** Event filters (values of a key OR-ed, keys AND-ed). */
export interface EventFilters {
  config?: string[]
  container?: string[]
  daemon?: string[]
  event?: string[]
  image?: string[]
  label?: string[]
  network?: string[]
  node?: string[]
  plugin?: string[]
  scope?: string[]
  secret?: string[]
  service?: string[]
  type?: string[]
  volume?: string[]
}

/**
 * An event subscription checked (times parsed, since before until): `past` are the recorded
 * events in range, `follow` then streams live ones until `until` passes or the signal aborts
 * (`false` when the range ended already).
 */
export interface EventStream {
  past: EngineEvent[]
  live: boolean
  follow(push: (e: EngineEvent) => void, signal: AbortSignal): Promise<void>
}

/** The daemon itself: version, info, disk usage, events. */
export interface SystemBackend {
  version(): VersionInfo
  info(): Promise<SystemInfo>
  /** The `Swarm` header of /_ping: inactive, pending, error, locked, active/worker, active/manager. */
  swarmPingStatus?(): string
  diskUsage(types: DiskUsageType[]): Promise<DiskUsage>
  events(opts: { since?: string; until?: string; filters: EventFilters }): Promise<EventStream>
}

// ---- build

/** What a build takes: the builder's own options, with the request's abort signal always set. */
export type BuildRequest = BuildOptions & { signal: AbortSignal }

/** A message of the classic builder's JSON stream. */
export type BuildMessage = { stream: string } | { aux: { ID: string } } | { errorDetail: { message: string; code?: number }; error: string }

/**
 * The classic builder. `build` calls `emit` for each message; an error before the first message
 * is thrown, after it, or a failed step (whose message and code the client prints), it ends the
 * stream as an `errorDetail` message and `build` resolves.
 */
export interface BuildBackend {
  build(context: AsyncIterable<Buffer>, req: BuildRequest, emit: (m: BuildMessage) => void): Promise<void>
  /** Drop cache entries: all of them, or those whose image is gone, narrowed by the filters. Returns the image IDs dropped (hex). */
  prune(opts: { all: boolean; filters?: BuildCachePruneFilters }): Promise<{ deleted: string[]; spaceReclaimed: number }>
}

/**
 * Docker's build-cache prune filters, checked: `until` as ms since the epoch (entries stored
 * before it); the BuildKit record fields compared with `==` (`id` as a pattern); an empty value
 * is the field given alone (`inuse`). `label`/`label!` are accepted and ignored, as by dockerd.
 */
export type BuildCachePruneFilters = CachePruneFilters

/** Every backend a router is built over. */
export interface Backends {
  containers: ContainerBackend
  images: ImageBackend
  registry: RegistryBackend
  networks: NetworkBackend
  volumes: VolumeBackend
  system: SystemBackend
  build: BuildBackend
}

// ---- swarm (cluster)
//
// Implemented by src/cluster (composed in src/daemon): SwarmLifecycle by cluster/node.ts,
// SwarmObjects by cluster/objects.ts, SwarmNetworks by the overlay code, SwarmLogs by
// cluster/logs.ts. Every manager-only method throws ERR_SWARM_NOT_MANAGER (503, Docker's words)
// outside swarm mode, and ERR_SWARM_WORKER (503) on a worker. Domain types are cluster/types.ts's.

export type { Cluster, Config, TlsInfo, ConfigSpec, Network as SwarmNetwork, NetworkSpec as SwarmNetworkSpec, Node, NodeAvailability, NodeRole, NodeSpec, Secret, SecretSpec, Service, ServiceSpec, SwarmSpec, Task } from '../cluster/types.js'

export interface SwarmInitRequest {
  /** host:port to listen on for the swarm (default 0.0.0.0:2377). */
  listenAddr: string
  /** ip, interface name, or ip:port; empty: chosen as dockerd does (the only non-loopback address, else an error). */
  advertiseAddr?: string
  dataPathAddr?: string
  dataPathPort?: number
  defaultAddrPool?: string[]
  subnetSize?: number
  forceNewCluster?: boolean
  spec?: Partial<SwarmSpec>
  availability?: NodeAvailability
}

export interface SwarmJoinRequest {
  listenAddr: string
  advertiseAddr?: string
  dataPathAddr?: string
  /** Managers' swarm addresses (host:port). */
  remoteAddrs: string[]
  joinToken: string
  availability?: NodeAvailability
}

export interface SwarmUpdateFlags {
  /** The cluster object's version.index (required by the API). */
  version: number
  rotateWorkerToken: boolean
  rotateManagerToken: boolean
  rotateManagerUnlockKey: boolean
}

/** GET /swarm: the cluster object and the join tokens (managers only). */
export interface SwarmView {
  cluster: Cluster
  joinTokens: { worker: string; manager: string }
  /** The swarm's root CA as Docker's TLSInfo shows it (TrustRoot PEM, issuer subject and public key, base64 DER). */
  tlsInfo?: TlsInfo
}

export type LocalNodeState = 'inactive' | 'pending' | 'active' | 'error' | 'locked'

/** `Swarm` of GET /info; never throws. */
export interface SwarmInfo {
  nodeId: string
  nodeAddr: string
  localNodeState: LocalNodeState
  controlAvailable: boolean
  error: string
  remoteManagers: { nodeId: string; addr: string }[]
  /** Managers only: */
  nodes?: number
  managers?: number
  cluster?: Cluster
}

export interface SwarmLifecycle {
  info(): Promise<SwarmInfo>
  inspect(): Promise<SwarmView>
  /** Returns the new node's ID. */
  init(req: SwarmInitRequest): Promise<string>
  join(req: SwarmJoinRequest): Promise<void>
  leave(force: boolean): Promise<void>
  update(spec: SwarmSpec, flags: SwarmUpdateFlags): Promise<void>
  unlockKey(): Promise<string>
  unlock(key: string): Promise<void>
}

/** Filters of the list endpoints, parsed by the API (a key left out does not filter). */
export interface NodeListFilters { id?: string[]; label?: string[]; 'node.label'?: string[]; membership?: string[]; name?: string[]; role?: string[] }
export interface ServiceListFilters { id?: string[]; label?: string[]; mode?: string[]; name?: string[]; runtime?: string[] }
export interface TaskListFilters {
  id?: string[]; label?: string[]; name?: string[]; node?: string[]; service?: string[]; 'desired-state'?: string[]; runtime?: string[]
  /** The CLI's progress filter: only tasks of the service's current spec revision. */
  '_up-to-date'?: string[]
}
export interface SecretListFilters { id?: string[]; label?: string[]; name?: string[]; names?: string[] }

/** A service as listed or inspected, with ServiceStatus when `status=true` was asked. */
export interface ServiceView {
  service: Service
  serviceStatus?: { runningTasks: number; desiredTasks: number; completedTasks: number }
}

export interface ServiceWriteOptions {
  /** X-Registry-Auth of the request, decoded; kept with the spec so workers can pull. */
  registryAuth?: RegistryAuth
}
export interface ServiceUpdateOptions extends ServiceWriteOptions {
  version: number
  /** `rollback=previous`: spec := previousSpec. */
  rollback?: boolean
  registryAuthFrom?: 'spec' | 'previous-spec'
}

export interface SwarmObjects {
  listNodes(f: NodeListFilters): Promise<Node[]>
  inspectNode(idOrName: string): Promise<Node>
  updateNode(idOrName: string, version: number, spec: NodeSpec): Promise<void>
  removeNode(idOrName: string, force: boolean): Promise<void>

  listServices(f: ServiceListFilters, status: boolean): Promise<ServiceView[]>
  inspectService(idOrName: string): Promise<ServiceView>
  /** Returns the new service's ID and Docker's warnings (e.g. an image without a digest). */
  createService(spec: ServiceSpec, o: ServiceWriteOptions): Promise<{ id: string; warnings: string[] }>
  updateService(idOrName: string, spec: ServiceSpec, o: ServiceUpdateOptions): Promise<{ warnings: string[] }>
  removeService(idOrName: string): Promise<void>

  listTasks(f: TaskListFilters): Promise<Task[]>
  inspectTask(id: string): Promise<Task>

  listSecrets(f: SecretListFilters): Promise<Secret[]>
  inspectSecret(idOrName: string): Promise<Secret>
  createSecret(spec: SecretSpec): Promise<string>
  updateSecret(idOrName: string, version: number, spec: SecretSpec): Promise<void>
  removeSecret(idOrName: string): Promise<void>

  listConfigs(f: SecretListFilters): Promise<Config[]>
  inspectConfig(idOrName: string): Promise<Config>
  createConfig(spec: ConfigSpec): Promise<string>
  updateConfig(idOrName: string, version: number, spec: ConfigSpec): Promise<void>
  removeConfig(idOrName: string): Promise<void>
}

/** Overlay networks of the swarm (the network routes call these for driver overlay / swarm scope). */
export interface SwarmNetworks {
  listSwarmNetworks(): Promise<SwarmNetwork[]>
  inspectSwarmNetwork(idOrName: string): Promise<SwarmNetwork>
  createSwarmNetwork(spec: SwarmNetworkSpec): Promise<string>
  removeSwarmNetwork(idOrName: string): Promise<void>
}

export interface SwarmLogs {
  /** Merged from every node running one of the service's tasks. */
  serviceLogs(idOrName: string, o: LogsOptions): Promise<LogStream>
  taskLogs(id: string, o: LogsOptions): Promise<LogStream>
}

export type ClusterBackend = SwarmLifecycle & SwarmObjects & SwarmNetworks & SwarmLogs
