import { notImplemented } from '../../lib/errors.js'
import type { Router } from '../router.js'
import { pluginRoutes } from './plugins.js'

/**
 * Docker Engine API endpoints that later milestones implement. Until then they answer 501
 * with what is missing, rather than a bare 404 that clients read as "no such object". The words
 * "not supported" matter: `docker inspect NAME` skips a type whose lookup says so.
 */
const LATER: Array<[string | string[], string, string]> = [
]

export function unimplementedRoutes(r: Router): void {
  // With no plugins installed, dockerd answers these itself. (The swarm API is routes/swarm.ts's.)
  pluginRoutes(r)
  for (const [method, path, what] of LATER) {
    r.add(method, path, (ctx) => {
      ctx.req.resume()
      throw notImplemented('ERR_NOT_IMPLEMENTED', `${what}: not supported by this berthd yet`)
    })
  }
}
