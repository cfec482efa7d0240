import { EngineError } from '../lib/errors.js'
import type { Node } from './types.js'

/**
 * Placement constraints as `docker service create --constraint` takes them:
 * `<key> == <value>` or `<key> != <value>`, keys node.id, node.hostname, node.role,
 * node.platform.os, node.platform.arch, node.labels.<name>, engine.labels.<name>.
 * Values compare case-insensitively, as swarmkit does; a missing label never equals anything.
 */
export interface Constraint {
  key: string
  op: '==' | '!='
  value: string
}

const KEY_RE = /^[a-z_][a-z0-9\-_.]+$/i
const VALUE_RE = /^[a-z0-9:\-_\s.*()?+[\]\\^$|/]+$/i
const KNOWN = new Set(['node.id', 'node.hostname', 'node.ip', 'node.role', 'node.platform.os', 'node.platform.arch'])

export function parseConstraint(expr: string): Constraint {
  const m = /^(.*?)(==|!=)(.*)$/.exec(expr)
  if (!m) throw new EngineError('InvalidArgument', 'ERR_SWARM_CONSTRAINT', `constraint expected one operator from ==, !=`)
  const key = m[1]!.trim()
  const value = m[3]!.trim()
  if (!KEY_RE.test(key)) throw new EngineError('InvalidArgument', 'ERR_SWARM_CONSTRAINT', `key '${key}' is invalid`)
  if (!VALUE_RE.test(value)) throw new EngineError('InvalidArgument', 'ERR_SWARM_CONSTRAINT', `value '${value}' is invalid`)
  const lower = key.toLowerCase()
  const labelKey = lower.startsWith('node.labels.') || lower.startsWith('engine.labels.')
  if (!KNOWN.has(lower) && !labelKey) throw new EngineError('InvalidArgument', 'ERR_SWARM_CONSTRAINT', `constraint key '${key}' is not supported`)
  return { key, op: m[2] as '==' | '!=', value }
}

export function parseConstraints(exprs: string[] = []): Constraint[] {
  return exprs.map(parseConstraint)
}

/** The node's value for a constraint key, undefined when the node has no such label. */
export function nodeAttribute(node: Node, key: string): string | undefined {
  const lower = key.toLowerCase()
  switch (lower) {
    case 'node.id':
      return node.id
    case 'node.hostname':
      return node.spec.name || node.description.hostname
    case 'node.ip':
      return node.status.addr
    case 'node.role':
      return node.spec.role
    case 'node.platform.os':
      return node.description.platform.os
    case 'node.platform.arch':
      return node.description.platform.architecture
  }
  if (lower.startsWith('node.labels.')) return node.spec.labels[key.slice('node.labels.'.length)]
  if (lower.startsWith('engine.labels.')) return node.description.engine.labels[key.slice('engine.labels.'.length)]
  return undefined
}

export function matchConstraint(c: Constraint, node: Node): boolean {
  const v = nodeAttribute(node, c.key)
  const eq = v !== undefined && v.toLowerCase() === c.value.toLowerCase()
  return c.op === '==' ? eq : !eq
}

export function matchAll(cs: Constraint[], node: Node): boolean {
  return cs.every((c) => matchConstraint(c, node))
}

/** The value a node has for a placement preference `spread=<key>` (missing label: ""). */
export function spreadValue(node: Node, descriptor: string): string {
  return nodeAttribute(node, descriptor) ?? ''
}
