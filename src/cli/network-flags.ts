import type { CliContext } from './context.js'

type Wire = Record<string, unknown>
const list = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : [])

/**
 * The network flags of `run`/`create` (`--network`, `-p`, `-P`, `--expose`, `--link`, `--ip`,
 * `--mac-address`, `--network-alias`...) as the create body's fields. (Owned by the network work.)
 */
export function networkFields(f: CliContext['flags']): { exposedPorts: Record<string, object>; hostConfig: Wire; networkingConfig?: Wire } {
  const exposedPorts: Record<string, object> = {}
  for (const p of list(f.expose)) exposedPorts[p.includes('/') ? p : `${p}/tcp`] = {}
  return {
    exposedPorts,
    hostConfig: {
      NetworkMode: (f.network as string) || 'default',
      PortBindings: Object.fromEntries(list(f.publish).map((p) => [p, [{}]])),
      PublishAllPorts: !!f['publish-all'],
      Links: list(f.link),
    },
  }
}
