import type { Daemon } from '../../daemon/daemon.js'
import { notImplemented } from '../../lib/errors.js'
import type { Router } from '../router.js'

export function statsRoutes(r: Router, _d: Daemon): void {
  r.add('GET', '/containers/{id}/stats', () => { throw notImplemented('ERR_NOT_IMPLEMENTED', 'stats: not supported by this berthd yet') })
}
