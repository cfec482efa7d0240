import type { Daemon } from '../../daemon/daemon.js'
import type { Router } from '../router.js'

/** (Scaffold: filled in by the networks work; until then unimplemented.ts answers.) */
export function networkRoutes(_r: Router, _d: Daemon): void {}
