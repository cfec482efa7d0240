import type { Daemon } from '../../daemon/daemon.js'
import { notImplemented } from '../../lib/errors.js'
import type { Router } from '../router.js'

/** cp (archive), diff (changes), export and commit. */
export function archiveRoutes(r: Router, _d: Daemon): void {
  r.add(['GET', 'PUT', 'HEAD'], '/containers/{id}/archive', () => { throw notImplemented('ERR_NOT_IMPLEMENTED', 'cp: not supported by this berthd yet') })
  r.add('GET', '/containers/{id}/changes', () => { throw notImplemented('ERR_NOT_IMPLEMENTED', 'diff: not supported by this berthd yet') })
  r.add('GET', '/containers/{id}/export', () => { throw notImplemented('ERR_NOT_IMPLEMENTED', 'export: not supported by this berthd yet') })
  r.add('POST', '/commit', () => { throw notImplemented('ERR_NOT_IMPLEMENTED', 'commit: not supported by this berthd yet') })
}
