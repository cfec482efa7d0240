import { hostname } from 'node:os'
import { internal } from '../../lib/errors.js'
import { duBytes } from '../../platform/du.js'
import { realPlatform, type Platform } from '../../platform/platform.js'
import { compiledSeccomp, createWithMonitor, deleteContainer, hasRuntimeState, killContainer, pauseContainer, processAlive, startContainer, updateContainer } from '../../runtime/monitor.js'
import { hostInfo } from '../../runtime/spec.js'
import type { Clock, ContainerDeps, ContainerMounts, ContainerRuntime, Ctx } from './deps.js'
import { SeccompCache } from './caches.js'
import { containerLayout } from './layout.js'
import { SharedState } from './state.js'
import { traced, tracing } from './trace.js'

/** conmon + crun/runc (src/runtime/monitor.ts); the PIDs limit through the platform's cgroups. */
export function hostRuntime(platform: Platform): ContainerRuntime {
  return {
    create: createWithMonitor,
    start: startContainer,
    kill: killContainer,
    delete: deleteContainer,
    pause: pauseContainer,
    update: updateContainer,
    unlimitPids: (path) => platform.cgroups.unlimitPids(path),
    hasState: hasRuntimeState,
    compiledSeccomp,
    alive: processAlive,
  }
}

/** A container's mounts and copy-up over the platform's mount table and tools. */
export function platformMounts(platform: Platform): ContainerMounts {
  return {
    mountOverlay: (lower, upper, work, target) => platform.mounts.mountOverlay(lower, upper, work, target),
    unmount: (target) => platform.mounts.unmount(target),
    isMountPoint: (target) => platform.mounts.isMounted(target),
    async copyTree(src, dst) {
      const r = await platform.spawner.run('cp', ['-a', '--', `${src}/.`, `${dst}/`])
      if (r.code !== 0) throw internal('ERR_VOLUME_COPY', r.stderr.trim())
    },
    diskUsage: duBytes,
    bind: (source, target, opts) => platform.mounts.bind(source, target, opts),
  }
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (t) => clearTimeout(t),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
}

/** The verbs' context over the given dependencies, the host's where none is given. */
export function makeContext(deps0: ContainerDeps): Ctx {
  const platform = deps0.platform ?? realPlatform()
  // BERTH_TRACE: the network and the store are timed too (trace.ts).
  const deps = tracing ? { ...deps0, store: traced('store', deps0.store), ...(deps0.network ? { network: traced('network', deps0.network) } : {}) } : deps0
  return {
    deps,
    store: deps.store,
    layout: containerLayout(deps.store.root, deps.execRoot),
    state: new SharedState(deps.events, deps.log, deps.runtimes),
    seccomp: new SeccompCache(),
    runtime: traced('runtime', deps.runtime ?? hostRuntime(platform)),
    mounts: traced('mounts', deps.mounts ?? platformMounts(platform)),
    clock: deps.clock ?? realClock,
    host: deps.host ?? hostInfo,
    hostname: deps.hostname ?? hostname,
  }
}
