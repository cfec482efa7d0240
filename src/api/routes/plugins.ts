import { Filters } from '../../lib/filters.js'
import { notFound, notImplemented } from '../../lib/errors.js'
import type { Router } from '../router.js'

/** Docker's answer (404) for a plugin that is not installed. */
export const pluginNotFound = (name: string) => notFound('ERR_PLUGIN_NOT_FOUND', `plugin "${name}" not found`)

/**
 * The plugin API of a Docker with no plugins installed (berthd has no plugin runtime): the list
 * is `[]`, and every request naming a plugin (inspect, remove, enable, disable, set, push,
 * upgrade) is dockerd's 404 `plugin "NAME" not found`. Installing one (pull, create,
 * privileges) is refused with 501: that would need a registry and a plugin runtime.
 */
export function pluginRoutes(r: Router): void {
  r.add('GET', '/plugins', (ctx) => {
    // dockerd checks the filters even when nothing is installed.
    Filters.parse(ctx.query.get('filters')).validate(['capability', 'enable'])
    return []
  })
  for (const [methods, path] of [
    [['GET'], '/plugins/{name*}/json'],
    [['POST'], '/plugins/{name*}/enable'],
    [['POST'], '/plugins/{name*}/disable'],
    [['POST'], '/plugins/{name*}/set'],
    [['POST'], '/plugins/{name*}/push'],
    [['POST'], '/plugins/{name*}/upgrade'],
  ] as Array<[string[], string]>) {
    r.add(methods, path, (ctx) => {
      ctx.req.resume()
      throw pluginNotFound(ctx.params[0]!)
    })
  }
  for (const [methods, path] of [[['GET'], '/plugins/privileges'], [['POST'], '/plugins/pull'], [['POST'], '/plugins/create']] as Array<[string[], string]>) {
    r.add(methods, path, (ctx) => {
      ctx.req.resume()
      throw notImplemented('ERR_PLUGIN_INSTALL', 'plugins: installing a plugin is not supported by this berthd')
    })
  }
  r.add('DELETE', '/plugins/{name*}', (ctx) => {
    throw pluginNotFound(ctx.params[0]!)
  })
}
