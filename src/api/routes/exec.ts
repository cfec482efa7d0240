import type { Daemon } from '../../daemon/daemon.js'
import { notImplemented } from '../../lib/errors.js'
import type { Router } from '../router.js'

export function execRoutes(r: Router, _d: Daemon): void {
  r.add('POST', '/containers/{id}/exec', () => { throw notImplemented('ERR_NOT_IMPLEMENTED', 'exec: not supported by this berthd yet') })
}
