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
  driver: 'bridge' | 'host' | 'null'
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
}

/** What a container's start needs from its network set-up. */
export interface NetworkSetUp {
  /** The network namespace to join; absent: the mode's own (host: the host's, none: a new one). */
  netns?: { path: string; private: boolean }
  /** /etc/hosts and /etc/resolv.conf contents, when the network writes them. */
  hosts?: string
  resolvConf?: string
}

/**
 * The network service as the container lifecycle calls it. Every method undoes its own work
 * when it fails halfway.
 */
export interface NetworkHooks {
  /** At create: check and normalise the container's network settings (unknown network, bad ports...). */
  validate(rec: import('../engine/containers/types.js').ContainerRecord): Promise<void>
  /** Before the runtime creates the container. */
  setUp(rec: import('../engine/containers/types.js').ContainerRecord): Promise<NetworkSetUp>
  /** After the container stopped, or when a start failed after setUp. */
  tearDown(rec: import('../engine/containers/types.js').ContainerRecord): Promise<void>
  /** The container record is being removed. */
  removed(rec: import('../engine/containers/types.js').ContainerRecord): Promise<void>
}
