import { EngineError } from '../../lib/errors.js'
import type { Router } from '../router.js'

/** Docker's answer (503) to a manager-only request on a node outside swarm mode. */
export const NOT_A_MANAGER = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.'
/** Docker's answer (503) to `swarm leave` on a node outside swarm mode. */
export const NOT_IN_SWARM = 'This node is not part of a swarm'

const noManager = () => new EngineError('Unavailable', 'ERR_SWARM_NOT_MANAGER', NOT_A_MANAGER)

/** Every path of the swarm API that only a manager serves, with its methods. */
const MANAGER_ONLY: Array<[string[], string]> = [
  [['GET'], '/swarm'],
  [['POST'], '/swarm/update'],
  [['GET'], '/swarm/unlockkey'],
  [['POST'], '/swarm/unlock'],
  [['GET'], '/nodes'],
  [['GET', 'DELETE'], '/nodes/{id}'],
  [['POST'], '/nodes/{id}/update'],
  [['GET'], '/services'],
  [['POST'], '/services/create'],
  [['GET', 'DELETE'], '/services/{id}'],
  [['POST'], '/services/{id}/update'],
  [['GET'], '/services/{id}/logs'],
  [['GET'], '/tasks'],
  [['GET'], '/tasks/{id}'],
  [['GET'], '/tasks/{id}/logs'],
  [['GET'], '/secrets'],
  [['POST'], '/secrets/create'],
  [['GET', 'DELETE'], '/secrets/{id}'],
  [['POST'], '/secrets/{id}/update'],
  [['GET'], '/configs'],
  [['POST'], '/configs/create'],
  [['GET', 'DELETE'], '/configs/{id}'],
  [['POST'], '/configs/{id}/update'],
]

/**
 * The swarm API of a node that is not in swarm mode, as dockerd answers it: 503 with
 * "This node is not a swarm manager..." for every manager request (inspect, nodes, services,
 * tasks, secrets, configs, unlock) and "This node is not part of a swarm" for leave. Init and
 * join would make this node a swarm member, which this berthd cannot: 503 saying so (never a
 * 404 a client reads as "no such object", nor a 501).
 */
export function swarmAbsentRoutes(r: Router): void {
  for (const [methods, path] of MANAGER_ONLY) {
    r.add(methods, path, (ctx) => {
      ctx.req.resume()
      throw noManager()
    })
  }
  r.add('POST', '/swarm/leave', (ctx) => {
    ctx.req.resume()
    throw new EngineError('Unavailable', 'ERR_SWARM_NOT_IN_SWARM', NOT_IN_SWARM)
  })
  r.add(['POST'], '/swarm/init', (ctx) => {
    ctx.req.resume()
    throw new EngineError('Unavailable', 'ERR_SWARM_UNAVAILABLE', 'swarm mode is not available on this berthd')
  })
  r.add(['POST'], '/swarm/join', (ctx) => {
    ctx.req.resume()
    throw new EngineError('Unavailable', 'ERR_SWARM_UNAVAILABLE', 'swarm mode is not available on this berthd')
  })
}
