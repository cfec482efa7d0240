import type { ClusterBackend, SwarmLifecycle, SwarmLogs, SwarmNetworks, SwarmObjects } from '../api/backend.js'
import type { AgentEngine } from '../cluster/agent.js'
import type { OverlayNetworks, SwarmContext, SwarmContextSource } from '../cluster/context.js'
import { SwarmNode } from '../cluster/node.js'
import type { NodeDescription } from '../cluster/types.js'
import type { Engine } from '../engine/engine.js'
import { BERTH_VERSION, type HostFacts } from '../engine/system/info.js'

/**
 * Swarm mode's composition root (docs/swarm.md, coord swarm.md "Composition"): the node
 * (lifecycle, cluster/node.ts) plus the three parts other helpers build — objects, networks,
 * logs — combined into the API's ClusterBackend. daemon.ts calls `buildSwarm` once.
 */

/** The parts of ClusterBackend besides the lifecycle. */
export interface SwarmParts {
  objects: SwarmObjects
  networks: SwarmNetworks
  logs: SwarmLogs
}

const LIFECYCLE_METHODS = ['info', 'inspect', 'init', 'join', 'leave', 'update', 'unlockKey', 'unlock'] as const satisfies readonly (keyof SwarmLifecycle)[]
const OBJECT_METHODS = [
  'listNodes', 'inspectNode', 'updateNode', 'removeNode',
  'listServices', 'inspectService', 'createService', 'updateService', 'removeService',
  'listTasks', 'inspectTask',
  'listSecrets', 'inspectSecret', 'createSecret', 'updateSecret', 'removeSecret',
  'listConfigs', 'inspectConfig', 'createConfig', 'updateConfig', 'removeConfig',
] as const satisfies readonly (keyof SwarmObjects)[]
const NETWORK_METHODS = ['listSwarmNetworks', 'inspectSwarmNetwork', 'createSwarmNetwork', 'removeSwarmNetwork'] as const satisfies readonly (keyof SwarmNetworks)[]
const LOG_METHODS = ['serviceLogs', 'taskLogs'] as const satisfies readonly (keyof SwarmLogs)[]

function delegate<T extends object>(out: Record<string, unknown>, target: T, keys: readonly (keyof T)[]): void {
  for (const k of keys) {
    const fn = target[k]
    if (typeof fn !== 'function') throw new TypeError(`swarm wiring: ${String(k)} is not implemented by its part`)
    out[k as string] = (fn as (...a: unknown[]) => unknown).bind(target)
  }
}

/** One ClusterBackend over the node and the three parts (methods bound to their owners). */
export function combineCluster(node: SwarmLifecycle, parts: SwarmParts): ClusterBackend {
  const out: Record<string, unknown> = {}
  delegate(out, node, LIFECYCLE_METHODS)
  delegate(out, parts.objects, OBJECT_METHODS)
  delegate(out, parts.networks, NETWORK_METHODS)
  delegate(out, parts.logs, LOG_METHODS)
  return out as unknown as ClusterBackend
}

export interface SwarmDeps {
  dataRoot: string
  execRoot: string
  engine: Engine
  facts: () => HostFacts
  /** berthd's --label values (key=value), the node's engine labels. */
  labels: string[]
  log: (m: string) => void
  /** The agent's engine (engine/backends/swarm-agent.ts). */
  agentEngine?: AgentEngine
  /** The overlay driver (engine/backends/swarm-overlay.ts). */
  overlay?: OverlayNetworks
  /** Run once after `swarm init` (the ingress network). */
  afterInit?: (ctx: SwarmContext) => Promise<void>
}

function engineLabels(labels: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const l of labels) {
    const i = l.indexOf('=')
    if (i > 0) out[l.slice(0, i)] = l.slice(i + 1)
    else out[l] = ''
  }
  return out
}

/** The node with this berthd's facts, and the ClusterBackend the routes get. */
export function buildSwarm(d: SwarmDeps, parts: (ctx: SwarmContextSource) => SwarmParts): { node: SwarmNode; cluster: ClusterBackend } {
  const description = (): NodeDescription => {
    const f = d.facts()
    return {
      hostname: f.hostname,
      platform: { architecture: f.architecture, os: 'linux' },
      resources: { nanoCPUs: f.ncpu * 1e9, memoryBytes: f.memTotal },
      engine: { engineVersion: BERTH_VERSION, labels: engineLabels(d.labels) },
    }
  }
  const node = new SwarmNode({
    dataRoot: d.dataRoot,
    execRoot: d.execRoot,
    description,
    ...(d.agentEngine ? { agentEngine: d.agentEngine } : {}),
    ...(d.overlay ? { overlay: d.overlay } : {}),
    ...(d.afterInit ? { afterInit: d.afterInit } : {}),
    localSubnets: () => localSubnets(d.engine),
    removeTaskContainers: (nodeId) => removeTaskContainers(d.engine, nodeId),
    log: d.log,
  })
  const ctx: SwarmContextSource = () => node.context()
  const cluster = combineCluster(node, parts(ctx))
  return { node, cluster }
}

/** Subnets of this engine's local networks (their bridge addresses are never advertised). */
function localSubnets(engine: Engine): string[] {
  return engine.networks.list().map((n) => n.subnet).filter((s) => !!s)
}

/** `swarm leave` removes the node's task containers (labelled with its node ID), as dockerd does. */
async function removeTaskContainers(engine: Engine, nodeId: string): Promise<void> {
  for (const rec of engine.containers.store.all()) {
    if (rec.config.labels['com.docker.swarm.node.id'] !== nodeId) continue
    await engine.containers.remove(rec.id, { force: true, volumes: true }).catch(() => undefined)
  }
}
