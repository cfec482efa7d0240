/**
 * What the network service keeps in a container's record (`ContainerRecord.network`): filled
 * in by src/network. (Scaffold: the network work defines its fields.)
 */
export interface ContainerNetworkState {
  [k: string]: unknown
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
