import { conflict, notFound } from '../../lib/errors.js'
import type { NetworkSetUp } from '../../network/types.js'
import type { Ctx } from './deps.js'
import type { ContainerRecord } from './types.js'

/**
 * The environment of legacy links (`--link name:alias` on the default bridge), as Docker writes
 * it (moby's daemon/links): `<ALIAS>_NAME=/<container>/<alias>`, `<ALIAS>_PORT` (the lowest
 * exposed port), `<ALIAS>_PORT_<port>_<PROTO>[_ADDR|_PORT|_PROTO]` for each exposed port and
 * `<ALIAS>_ENV_<key>` for each of the linked container's variables but HOME and PATH.
 */
export function linkEnv(ctx: Ctx, rec: ContainerRecord, net: NetworkSetUp): string[] {
  const links = rec.hostConfig.links ?? []
  if (links.length === 0) return []
  const own = net.state?.endpoints[0]
  if (!own || own.networkName !== 'bridge') return []
  const env: string[] = []
  for (const l of links) {
    const [name = '', given] = l.replace(/^\//, '').split(':')
    let target: ContainerRecord
    try { target = ctx.store.resolve(name) } catch { continue }
    const alias = (given ?? target.name).replace(/^.*\//, '')
    const ip = target.network?.endpoints.find((e) => e.networkId === own.networkId)?.ip
    if (!ip) continue
    const prefix = alias.toUpperCase().replace(/-/g, '_')
    env.push(`${prefix}_NAME=/${rec.name}/${alias}`)
    const ports = Object.keys(target.config.exposedPorts ?? {}).map((p) => {
      const [num = '', proto = 'tcp'] = p.split('/')
      return { num: Number(num), proto: proto.toLowerCase() }
    }).filter((p) => Number.isInteger(p.num) && p.num > 0).sort((a, b) => a.num - b.num || a.proto.localeCompare(b.proto))
    if (ports[0]) env.push(`${prefix}_PORT=${ports[0].proto}://${ip}:${ports[0].num}`)
    for (const p of ports) {
      const key = `${prefix}_PORT_${p.num}_${p.proto.toUpperCase()}`
      env.push(`${key}=${p.proto}://${ip}:${p.num}`, `${key}_ADDR=${ip}`, `${key}_PORT=${p.num}`, `${key}_PROTO=${p.proto}`)
    }
    for (const e of target.config.env ?? []) {
      const i = e.indexOf('=')
      if (i <= 0) continue
      const k = e.slice(0, i)
      if (k === 'HOME' || k === 'PATH') continue
      env.push(`${prefix}_ENV_${k}=${e.slice(i + 1)}`)
    }
  }
  return env
}

/**
 * `DELETE /containers/<container>/<alias>?link=1` (docker rm --link): the container's link of
 * that alias goes from its host config; as Docker, a bare name is the container's own name,
 * which cannot be removed that way.
 */
export async function removeLink(ctx: Ctx, name: string): Promise<void> {
  const full = name.startsWith('/') ? name : `/${name}`
  const cut = full.lastIndexOf('/')
  const parentName = full.slice(1, cut)
  const alias = full.slice(cut + 1)
  if (parentName === '') throw conflict('ERR_LINK_DEFAULT_NAME', 'Conflict, cannot remove the default link name of the container')
  let parent: ContainerRecord
  try { parent = ctx.store.resolve(parentName) } catch { throw notFound('ERR_CONTAINER_NOT_FOUND', `No such container: ${full}`) }
  await using _ = await ctx.state.locks.acquire(parent.id)
  const links = parent.hostConfig.links ?? []
  const kept = links.filter((l) => {
    const [target = '', given] = l.replace(/^\//, '').split(':')
    return (given ?? target).replace(/^.*\//, '') !== alias
  })
  if (kept.length === links.length) throw notFound('ERR_CONTAINER_NOT_FOUND', `No such container: ${full}`)
  parent.hostConfig.links = kept
  await ctx.store.save(parent)
}
