/**
 * Swarm-mode domain model: camelCase mirrors of the Engine API's Swarm, Node, Service, Task,
 * Network, Secret and Config objects (shared/specs/docker-engine-api-v1.50.yaml). The API edge
 * maps them to PascalCase; the cluster store keeps them as JSON in etcd. `version.index` is the
 * etcd modification revision of the record (Docker's ObjectVersion), used for optimistic
 * concurrency on update.
 */

export interface ObjectVersion {
  index: number
}

export interface Meta {
  id: string
  version: ObjectVersion
  createdAt: string
  updatedAt: string
}

export type NodeRole = 'worker' | 'manager'
export type NodeAvailability = 'active' | 'pause' | 'drain'
export type NodeState = 'unknown' | 'down' | 'ready' | 'disconnected'

export interface NodeSpec {
  name?: string
  labels: Record<string, string>
  role: NodeRole
  availability: NodeAvailability
}

export interface NodeDescription {
  hostname: string
  platform: { architecture: string; os: string }
  resources: { nanoCPUs: number; memoryBytes: number }
  engine: { engineVersion: string; labels: Record<string, string> }
  tlsInfo?: TlsInfo
}

export interface TlsInfo {
  trustRoot: string
  certIssuerSubject: string
  certIssuerPublicKey: string
}

export interface ManagerStatus {
  leader: boolean
  reachability: 'unknown' | 'unreachable' | 'reachable'
  /** The manager's advertised swarm address (host:port). */
  addr: string
  /** The etcd member ID (hex) of this manager. */
  etcdMemberId?: string
}

export interface Node extends Meta {
  spec: NodeSpec
  description: NodeDescription
  /** `dataPathAddr`: where this node's VXLAN traffic goes (`--data-path-addr`; berth's own, not on the wire). */
  status: { state: NodeState; message?: string; addr: string; dataPathAddr?: string }
  managerStatus?: ManagerStatus
  /** Addresses the allocator gave this node itself (its ingress endpoint), as swarmkit's node attachments. */
  attachments?: { networkId: string; addresses: string[] }[]
}

export interface ResourceSpec {
  nanoCPUs?: number
  memoryBytes?: number
  pids?: number
}

export interface RestartPolicy {
  condition: 'none' | 'on-failure' | 'any'
  /** Nanoseconds between a task's end and its replacement (Docker default 5 s). */
  delay: number
  /** 0 means unlimited. */
  maxAttempts: number
  /** Nanoseconds; attempts are counted within this window (0: forever). */
  window: number
}

export interface PlacementPreference {
  spread: { spreadDescriptor: string }
}

export interface Placement {
  constraints?: string[]
  preferences?: PlacementPreference[]
  /** 0: unlimited. */
  maxReplicas?: number
  platforms?: { architecture?: string; os?: string }[]
}

export interface Mount {
  type: 'bind' | 'volume' | 'tmpfs' | 'npipe' | 'cluster'
  source?: string
  target: string
  readOnly?: boolean
  consistency?: string
  bindOptions?: { propagation?: string; nonRecursive?: boolean; createMountpoint?: boolean; readOnlyNonRecursive?: boolean; readOnlyForceRecursive?: boolean }
  volumeOptions?: { noCopy?: boolean; labels?: Record<string, string>; subpath?: string; driverConfig?: { name?: string; options?: Record<string, string> } }
  tmpfsOptions?: { sizeBytes?: number; mode?: number; options?: string[][] }
}

export interface SecretReference {
  secretId: string
  secretName: string
  file?: { name: string; uid: string; gid: string; mode: number }
}
export type ConfigReference = Omit<SecretReference, 'secretId' | 'secretName'> & { configId: string; configName: string }

export interface HealthConfig {
  test?: string[]
  interval?: number
  timeout?: number
  retries?: number
  startPeriod?: number
}

export interface ContainerSpec {
  image: string
  labels?: Record<string, string>
  command?: string[]
  args?: string[]
  hostname?: string
  env?: string[]
  dir?: string
  user?: string
  tty?: boolean
  openStdin?: boolean
  mounts?: Mount[]
  stopSignal?: string
  /** Nanoseconds. */
  stopGracePeriod?: number
  healthCheck?: HealthConfig
  secrets?: SecretReference[]
  configs?: ConfigReference[]
  init?: boolean
  readOnly?: boolean
  groups?: string[]
  /** `host-name ip` or `ip host-name` entries for /etc/hosts. */
  hosts?: string[]
  dnsConfig?: { nameservers?: string[]; search?: string[]; options?: string[] }
  capabilityAdd?: string[]
  capabilityDrop?: string[]
  sysctls?: Record<string, string>
  ulimits?: { name: string; soft: number; hard: number }[]
  oomScoreAdj?: number
}

export interface NetworkAttachment {
  target: string
  aliases?: string[]
  driverOpts?: Record<string, string>
}

export interface TaskSpec {
  containerSpec: ContainerSpec
  resources?: { limits?: ResourceSpec; reservations?: ResourceSpec }
  restartPolicy?: Partial<RestartPolicy>
  placement?: Placement
  networks?: NetworkAttachment[]
  /** Changing it forces tasks to be replaced even when nothing else changed. */
  forceUpdate?: number
  logDriver?: { name: string; options?: Record<string, string> }
}

export interface UpdateConfig {
  /** 0: all at once. */
  parallelism: number
  /** Nanoseconds between updates of one task and the next on a worker. */
  delay: number
  failureAction: 'continue' | 'pause' | 'rollback'
  /** Nanoseconds a new task is watched after it starts before it counts as updated. */
  monitor: number
  maxFailureRatio: number
  order: 'stop-first' | 'start-first'
}

export interface EndpointPortConfig {
  name?: string
  protocol: 'tcp' | 'udp' | 'sctp'
  targetPort: number
  publishedPort?: number
  publishMode: 'ingress' | 'host'
}

export interface EndpointSpec {
  mode: 'vip' | 'dnsrr'
  ports?: EndpointPortConfig[]
}

export type ServiceMode =
  | { replicated: { replicas: number } }
  | { global: Record<string, never> }
  | { replicatedJob: { maxConcurrent: number; totalCompletions: number } }
  | { globalJob: Record<string, never> }

export interface ServiceSpec {
  name: string
  labels: Record<string, string>
  taskTemplate: TaskSpec
  mode: ServiceMode
  updateConfig?: Partial<UpdateConfig>
  rollbackConfig?: Partial<UpdateConfig>
  endpointSpec?: EndpointSpec
}

export type UpdateState =
  | 'updating'
  | 'paused'
  | 'completed'
  | 'rollback_started'
  | 'rollback_paused'
  | 'rollback_completed'

export interface UpdateStatus {
  state: UpdateState
  startedAt: string
  completedAt?: string
  message: string
}

export interface Service extends Meta {
  spec: ServiceSpec
  previousSpec?: ServiceSpec
  /** Incremented whenever `spec` changes; tasks record the revision they were made from. */
  specRevision: number
  endpoint?: { spec: EndpointSpec; ports: EndpointPortConfig[]; virtualIPs: { networkId: string; addr: string }[] }
  updateStatus?: UpdateStatus
  /** Registry credentials of the create/update request (X-Registry-Auth, decoded), for workers to pull; never shown by inspect. */
  registryAuth?: { username?: string; password?: string; auth?: string; serveraddress?: string; identitytoken?: string; registrytoken?: string; email?: string }
  /** The credentials of the previous spec (`registryAuthFrom=previous-spec`). */
  previousRegistryAuth?: Service['registryAuth']
}

export type TaskState =
  | 'new'
  | 'allocated'
  | 'pending'
  | 'assigned'
  | 'accepted'
  | 'preparing'
  | 'ready'
  | 'starting'
  | 'running'
  | 'complete'
  | 'shutdown'
  | 'failed'
  | 'rejected'
  | 'remove'
  | 'orphaned'

/** Task states in lifecycle order; a task only moves forward. */
export const TASK_STATE_ORDER: readonly TaskState[] = [
  'new', 'allocated', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running',
  'complete', 'shutdown', 'failed', 'rejected', 'remove', 'orphaned',
]

export function taskStateRank(s: TaskState): number {
  return TASK_STATE_ORDER.indexOf(s)
}

/** complete, shutdown, failed, rejected, remove, orphaned: the task's container is gone or will never run. */
export function isTerminal(s: TaskState): boolean {
  return taskStateRank(s) > taskStateRank('running')
}

export interface TaskStatus {
  timestamp: string
  state: TaskState
  message: string
  err?: string
  containerStatus?: { containerId: string; pid: number; exitCode: number }
}

export interface Task extends Meta {
  name?: string
  labels: Record<string, string>
  spec: TaskSpec
  serviceId: string
  /** The service's name when the task was made (swarmkit's ServiceAnnotations): names the container. */
  serviceName: string
  /** The service's specRevision this task was made from. */
  specRevision: number
  /** 1-based for replicated services; 0 for global ones (they are keyed by node). */
  slot: number
  nodeId: string
  status: TaskStatus
  desiredState: TaskState
  networksAttachments?: { networkId: string; addresses: string[] }[]
  /** Set when the restart policy declined to replace this task: its slot stays empty. */
  noRestart?: boolean
  /** Earliest time (ms since epoch) the agent may start the task (restart delay). */
  notBefore?: number
}

export interface NetworkSpec {
  name: string
  labels: Record<string, string>
  driver: 'overlay'
  options: Record<string, string>
  attachable: boolean
  ingress: boolean
  internal: boolean
  ipam: { driver: string; config: { subnet: string; gateway: string }[] }
}

export interface Network extends Meta {
  spec: NetworkSpec
  /** VXLAN network identifier, unique in the swarm (4096 + n, as Docker's overlay driver). */
  vni: number
}

export interface SecretSpec {
  name: string
  labels: Record<string, string>
  /** Base64 of the secret's bytes; never returned by inspect/list. */
  data: string
}
export interface Secret extends Meta {
  spec: SecretSpec
}
export type ConfigSpec = SecretSpec
export interface Config extends Meta {
  spec: ConfigSpec
}

export interface SwarmSpec {
  name: string
  labels: Record<string, string>
  orchestration: { taskHistoryRetentionLimit: number }
  raft: { snapshotInterval: number; keepOldSnapshots: number; logEntriesForSlowFollowers: number; electionTick: number; heartbeatTick: number }
  dispatcher: { heartbeatPeriod: number }
  caConfig: { nodeCertExpiry: number; forceRotate: number }
  encryptionConfig: { autoLockManagers: boolean }
  taskDefaults: { logDriver?: { name: string; options?: Record<string, string> } }
}

/** The cluster object: one per swarm. Join tokens and the CA key live in the CA record, not here. */
export interface Cluster extends Meta {
  spec: SwarmSpec
  rootRotationInProgress: boolean
  dataPathPort: number
  defaultAddrPool: string[]
  subnetSize: number
}

/** The swarm's CA material and join tokens (etcd key /berth/swarm/ca). */
export interface CaRecord {
  version: ObjectVersion
  rootCertPem: string
  rootKeyPem: string
  /** sha256:<hex> of rootCertPem, the digest embedded in join tokens. */
  digest: string
  joinTokens: { worker: string; manager: string }
  /** SWMKEY-1-... when autolock is on. */
  unlockKey?: string
}

export function defaultSwarmSpec(name = 'default'): SwarmSpec {
  return {
    name,
    labels: {},
    orchestration: { taskHistoryRetentionLimit: 5 },
    raft: { snapshotInterval: 10000, keepOldSnapshots: 0, logEntriesForSlowFollowers: 500, electionTick: 10, heartbeatTick: 1 },
    dispatcher: { heartbeatPeriod: 5_000_000_000 },
    caConfig: { nodeCertExpiry: 7_776_000_000_000_000, forceRotate: 0 },
    encryptionConfig: { autoLockManagers: false },
    taskDefaults: {},
  }
}

/** Docker's defaults for a service's restart policy and update/rollback configs. */
export const DEFAULT_RESTART_POLICY: RestartPolicy = { condition: 'any', delay: 5_000_000_000, maxAttempts: 0, window: 0 }
export const DEFAULT_UPDATE_CONFIG: UpdateConfig = {
  parallelism: 1, delay: 0, failureAction: 'pause', monitor: 5_000_000_000, maxFailureRatio: 0, order: 'stop-first',
}
export const DEFAULT_ROLLBACK_CONFIG: UpdateConfig = {
  parallelism: 1, delay: 0, failureAction: 'pause', monitor: 5_000_000_000, maxFailureRatio: 0, order: 'stop-first',
}

export function restartPolicyOf(spec: TaskSpec): RestartPolicy {
  return { ...DEFAULT_RESTART_POLICY, ...stripUndefined(spec.restartPolicy ?? {}) }
}
export function updateConfigOf(spec: ServiceSpec, rollback = false): UpdateConfig {
  const base = rollback ? DEFAULT_ROLLBACK_CONFIG : DEFAULT_UPDATE_CONFIG
  return { ...base, ...stripUndefined((rollback ? spec.rollbackConfig : spec.updateConfig) ?? {}) }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}
