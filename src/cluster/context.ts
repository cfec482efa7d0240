import { EngineError } from '../lib/errors.js'
import type { ClusterStore } from './store.js'
import type { Network, NodeRole } from './types.js'

/**
 * What a joined node knows about its swarm, handed by cluster/node.ts (SwarmNode) to the other
 * cluster pieces (objects, networks, logs, overlay). `undefined` while the node is not in a swarm
 * (or is locked): every manager-only call then answers Docker's 503.
 */
export interface SwarmContext {
  readonly nodeId: string
  readonly role: NodeRole
  readonly store: ClusterStore
  /** This node's advertised address (IP, no port) and its swarm port's host:port. */
  readonly advertiseAddr: string
  readonly swarmAddr: string
  /** Where VXLAN traffic of this node goes (the data path address, else advertiseAddr). */
  readonly dataPathAddr: string
  readonly dataPathPort: number
  /** TLS material of this node (PEM): for node-to-node HTTPS (logs, join). */
  readonly tls: { certPem: string; keyPem: string; caPem: string }
}

export type SwarmContextSource = () => SwarmContext | undefined

export const NOT_A_MANAGER = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.'
export const WORKER_NOT_MANAGER = "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager."
export const NOT_IN_SWARM = 'This node is not part of a swarm'

/** The context of a manager, or Docker's 503 for a node outside swarm mode or a worker. */
export function requireManager(src: SwarmContextSource): SwarmContext {
  const ctx = src()
  if (!ctx) throw new EngineError('Unavailable', 'ERR_SWARM_NOT_MANAGER', NOT_A_MANAGER)
  if (ctx.role !== 'manager') throw new EngineError('Unavailable', 'ERR_SWARM_WORKER', WORKER_NOT_MANAGER)
  return ctx
}

/**
 * A swarm network as a node needs it to attach a task's container (the agent engine calls
 * OverlayNetworks.ensure before creating the container, release after removing it).
 */
export interface OverlayAttachment {
  network: Network
  /** The task's address on it, CIDR (from task.networksAttachments). */
  address: string
  aliases: string[]
}

/** Implemented by the overlay driver (engine side), used by the agent engine and SwarmNode. */
export interface OverlayNetworks {
  /** Make the swarm network usable on this node (a local network of driver overlay, VXLAN set-up); idempotent. Returns the local network's ID to attach containers to. */
  ensure(network: Network): Promise<string>
  /** Drop the node-local part when no container uses it any more. */
  release(networkId: string): Promise<void>
  /** Start following cluster state (FDB/neighbour entries, ingress, service VIPs and DNS); stopped on leave. */
  start(ctx: SwarmContext): Promise<{ stop(): Promise<void> }>
}


