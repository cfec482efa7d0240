import type { ContainerRecord } from './types.js'

const PROJECT = 'com.docker.compose.project'
const SERVICE = 'com.docker.compose.service'
const DEPENDS_ON = 'com.docker.compose.depends_on'

/** How long a start-up restart waits for a dependency's condition before starting anyway. */
export const DEPENDENCY_WAIT_MS = 120_000

export interface BootDeps {
  start(id: string): Promise<void>
  /** The container as it is now (undefined once removed). */
  get(id: string): ContainerRecord | undefined
  sleep(ms: number): Promise<void>
  now(): number
  log(msg: string): void
}

/** `com.docker.compose.depends_on` as compose v2 writes it: `svc:condition:restart,...`. */
export function parseDependsOn(label: string | undefined): Array<{ service: string; condition: string }> {
  if (!label) return []
  return label.split(',').filter(Boolean).map((d) => {
    const [service = '', condition = 'service_started'] = d.split(':')
    return { service, condition }
  }).filter((d) => d.service !== '')
}

/**
 * berthd's start-up restarts (the containers whose policy brings them back), in the order
 * compose would start them: a container of a compose project starts only once the project's
 * containers of every service it depends on are running (`service_started`) or healthy
 * (`service_healthy`; a dependency without a healthcheck counts once running), each waited on
 * for at most DEPENDENCY_WAIT_MS (then it starts anyway, logged, rather than stay down).
 * `service_completed_successfully` dependencies have run to their end before: nothing to wait
 * for. Everything else, and independent services, start at once and concurrently.
 */
export function restartInDependencyOrder(recs: ContainerRecord[], d: BootDeps): Promise<void> {
  const started = new Map<string, Promise<void>>()
  const byService = new Map<string, ContainerRecord[]>()
  const key = (project: string, service: string) => `${project}\0${service}`
  for (const r of recs) {
    const p = r.config.labels?.[PROJECT]
    const s = r.config.labels?.[SERVICE]
    if (p && s) byService.set(key(p, s), [...(byService.get(key(p, s)) ?? []), r])
  }
  const visiting = new Set<string>()
  const startOne = (r: ContainerRecord): Promise<void> => {
    const known = started.get(r.id)
    if (known) return known
    visiting.add(r.id)
    const project = r.config.labels?.[PROJECT]
    const waits: Promise<void>[] = []
    if (project) {
      for (const dep of parseDependsOn(r.config.labels?.[DEPENDS_ON])) {
        if (dep.condition === 'service_completed_successfully') continue
        for (const other of byService.get(key(project, dep.service)) ?? []) {
          if (visiting.has(other.id)) continue // a cycle compose would have refused: do not deadlock
          waits.push(startOne(other).then(() => waitFor(other.id, dep.condition, d)))
        }
      }
    }
    const p = Promise.all(waits).then(() => d.start(r.id)).catch((e) => d.log(`restart of ${r.id}: ${String(e)}`))
    started.set(r.id, p)
    visiting.delete(r.id)
    return p
  }
  return Promise.all(recs.map(startOne)).then(() => undefined)
}

async function waitFor(id: string, condition: string, d: BootDeps): Promise<void> {
  const deadline = d.now() + DEPENDENCY_WAIT_MS
  for (;;) {
    const r = d.get(id)
    if (!r) return
    const running = r.state.status === 'running'
    if (running && (condition !== 'service_healthy' || !r.state.health || r.state.health.status === 'healthy')) return
    if (d.now() >= deadline) {
      d.log(`restart: ${id} is not ${condition === 'service_healthy' ? 'healthy' : 'running'} after ${DEPENDENCY_WAIT_MS / 1000}s; starting its dependants anyway`)
      return
    }
    await d.sleep(100)
  }
}
