import type { Daemon } from '../../daemon/daemon.js'
import type { Router } from '../router.js'

/** (Scaffold: filled in by the registry work; until then unimplemented.ts answers.) */
export function registryRoutes(_r: Router, _d: Daemon): void {}
