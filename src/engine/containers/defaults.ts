import { hostname } from 'node:os'
import { internal } from '../../lib/errors.js'
import { unlimitPids } from '../../platform/cgroups.js'
import { duBytes } from '../../platform/du.js'
import { run } from '../../platform/exec.js'
import { isMountPoint, mountOverlay, unmount } from '../../platform/mount.js'
import { compiledSeccomp, createWithMonitor, deleteContainer, hasRuntimeState, killContainer, pauseContainer, processAlive, startContainer, updateContainer } from '../../runtime/monitor.js'
import { hostInfo } from '../../runtime/spec.js'
import type { Clock, ContainerDeps, ContainerMounts, ContainerRuntime, Ctx } from './deps.js'
import { SeccompCache } from './caches.js'
import { containerLayout } from './layout.js'
import { SharedState } from './state.js'

/** conmon + crun/runc (src/runtime/monitor.ts). */
export const hostRuntime: ContainerRuntime = {
  create: createWithMonitor,
  start: startContainer,
  kill: killContainer,
  delete: deleteContainer,
  pause: pauseContainer,
  update: updateContainer,
  unlimitPids,
  hasState: hasRuntimeState,
  compiledSeccomp,
  alive: processAlive,
}

/** The host's mounts (src/platform). */
export const hostMounts: ContainerMounts = {
  mountOverlay,
  unmount,
  isMountPoint,
  async copyTree(src, dst) {
    const r = await run('cp', ['-a', '--', `${src}/.`, `${dst}/`])
    if (r.code !== 0) throw internal('ERR_VOLUME_COPY', r.stderr.trim())
  },
  diskUsage: duBytes,
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (t) => clearTimeout(t),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
}

/** The verbs' context over the given dependencies, the host's where none is given. */
export function makeContext(deps: ContainerDeps): Ctx {
  return {
    deps,
    store: deps.store,
    layout: containerLayout(deps.store.root, deps.execRoot),
    state: new SharedState(deps.events, deps.log, deps.runtimes),
    seccomp: new SeccompCache(),
    runtime: deps.runtime ?? hostRuntime,
    mounts: deps.mounts ?? hostMounts,
    clock: deps.clock ?? realClock,
    host: deps.host ?? hostInfo,
    hostname: deps.hostname ?? hostname,
  }
}
