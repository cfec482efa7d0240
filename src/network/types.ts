/** One endpoint: a container's interface on one network, while it runs. */
export interface EndpointState {
  networkId: string
  networkName: string
  endpointId: string
  /** The interface inside the container (eth0, eth1...) and its host-side veth. */
  ifname: string
  hostVeth: string
  ip: string
  prefixLen: number
  gateway: string
  mac: string
  /** Aliases asked for on this network (--network-alias, connect --alias). */
  aliases: string[]
  /** The names the embedded DNS answers for this endpoint (name, aliases, short ID). */
  dnsNames: string[]
}

/** A published port: host address and port → container port. */
export interface PortMapping {
  hostIp: string
  hostPort: number
  containerPort: number
  proto: 'tcp' | 'udp'
}

/**
 * What the network service keeps in a container's record (`ContainerRecord.network`): the named
 * network namespace and the endpoints and ports set up for the current run (empty when stopped),
 * and the networks explicitly disconnected from (so a restart does not join them again).
 */
export interface ContainerNetworkState {
  /** Name of the network namespace (under /run/netns) while running. */
  netns?: string
  endpoints: EndpointState[]
  ports: PortMapping[]
  /** Network IDs the container was disconnected from (its NetworkMode's network included). */
  detached?: string[]
}

/** A network as stored under <data-root>/networks/<id>.json. */
export interface NetworkRecord {
  id: string
  name: string
  driver: 'bridge' | 'host' | 'null' | 'overlay'
  created: string
  subnet: string
  gateway: string
  ipRange: string
  /** The subnet was given by the user (so --ip is allowed). */
  userSubnet: boolean
  internal: boolean
  attachable: boolean
  labels: Record<string, string>
  options: Record<string, string>
  /** The Linux bridge's name. */
  bridge: string
  /** The default `bridge` network (no embedded DNS, links honoured). */
  isDefault: boolean
  /** driver overlay: the node-local part of a swarm network (its ID is the swarm network's; scope swarm). */
  overlay?: { vni: number; ingress: boolean; scope: 'swarm' }
}

/** Per-network settings asked at create or connect (NetworkingConfig.EndpointsConfig). */
export interface EndpointRequest {
  aliases: string[]
  ipv4Address: string
  ipv6Address: string
  macAddress: string
  links: string[]
}

/**
 * The small view of a container the network works from: its names, its network settings and
 * whether it runs. A container record is one (structurally); the network never saves it.
 */
export interface ContainerView {
  id: string
  name: string
  config: { hostname: string; domainname: string; exposedPorts: Record<string, object> }
  hostConfig: {
    networkMode: string
    portBindings: Record<string, Array<{ hostIp: string; hostPort: string }>>
    publishAllPorts: boolean
    links: string[]
    extraHosts: string[]
    dns: string[]
    dnsSearch: string[]
    dnsOptions: string[]
  }
  state: { status: string; pid: number }
  endpointsConfig?: Record<string, EndpointRequest>
  network?: ContainerNetworkState
}

/** What a container's start needs from its network set-up, and what the container records. */
export interface NetworkSetUp {
  /** The network namespace to join; absent: the mode's own (host: the host's, none: a new one). */
  netns?: { path: string; private: boolean }
  /** /etc/hosts and /etc/resolv.conf contents (absent with `etcFrom`). */
  hosts?: string
  resolvConf?: string
  /** `container:<id>` mode: the container whose /etc files this one shares. */
  etcFrom?: string
  /** The container's network state for this run (endpoints, ports), to record. */
  state?: ContainerNetworkState
}

/** A container's networks after a connect or disconnect: to record in the container. */
export interface EndpointChange {
  endpointsConfig: Record<string, EndpointRequest>
  network: ContainerNetworkState
  /** The container's new resolv.conf when it changed (a default-bridge container joined a user network: the embedded DNS from now on). */
  resolvConf?: string
}

/**
 * The network as the container domain calls it. It takes a view of the container and returns
 * what it computed; the container domain records it (only it saves container records) and holds
 * the container's lock around each call. Every method undoes its own work when it fails halfway.
 */
export interface NetworkHooks {
  /** At create: check the container's network settings (unknown network, bad ports...); returns the normalised --add-host entries. */
  validate(ctr: ContainerView): Promise<{ extraHosts: string[] }>
  /** Before the runtime creates the container. */
  setUp(ctr: ContainerView): Promise<NetworkSetUp>
  /** After the container stopped, or when a start failed after setUp: returns the state to record. */
  tearDown(ctr: ContainerView): Promise<ContainerNetworkState | undefined>
  /** The container record is being removed. */
  removed(ctr: ContainerView): Promise<void>
  /** Connect a (running or not) container to a network. */
  connectEndpoint(ctr: ContainerView, netRef: string, cfg: { aliases: string[]; ipv4Address: string; macAddress: string }): Promise<EndpointChange>
  /** Disconnect a container from a network. */
  disconnectEndpoint(ctr: ContainerView, netRef: string): Promise<EndpointChange>
  /** The container domain's connect/disconnect, for the network's own `connect`/`disconnect` (kept for callers of the network). */
  useContainerOps?(ops: ContainerNetworkOps): void
}

/** Connect and disconnect as container-domain operations (they lock and save the container). */
export interface ContainerNetworkOps {
  connect(ctrRef: string, netRef: string, cfg: { aliases: string[]; ipv4Address: string; macAddress: string }): Promise<void>
  disconnect(ctrRef: string, netRef: string, force: boolean): Promise<void>
}
