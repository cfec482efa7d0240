import { watch as fsWatch, type FSWatcher } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { posix, relative, sep } from 'node:path'
import { isIgnored, parseDockerignore } from '../build/dockerignore.js'
import type { Docker } from '../client/sdk.js'
import { isNotFoundErrno } from '../lib/errors.js'
import { fileTar } from './build-context.js'
import { buildService, executeUp, planProjectUp, type UpOptions } from './execute.js'
import type { ProjectModel } from './model.js'
import { observeProject, serviceOf } from './observe.js'
import type { Reporter } from './progress.js'

type Rule = NonNullable<NonNullable<ProjectModel['services'][string]['develop']>['watch']>[number]

/**
 * `compose watch`: file-system events on each `develop.watch` path, batched for 300 ms, then the
 * rule's action: `sync` copies changed files into the service's running containers (a deleted
 * file is removed there), `rebuild` builds the image and converges the service, `sync+restart`
 * syncs then restarts, `restart` restarts. Runs until the signal aborts (or SIGINT).
 */
export async function watchProject(docker: Docker, p: ProjectModel, services: string[], o: { out: NodeJS.WritableStream; reporter: Reporter; signal?: AbortSignal }): Promise<void> {
  const watchers: FSWatcher[] = []
  const pending = new Map<string, { rule: Rule; service: string; files: Set<string> }>()
  let timer: NodeJS.Timeout | undefined
  let running = Promise.resolve()
  const flush = () => {
    const batch = [...pending.values()]
    pending.clear()
    running = running.then(async () => {
      for (const b of batch) {
        try {
          await apply(docker, p, b.service, b.rule, [...b.files], o)
        } catch (err) {
          o.out.write(`Error: ${(err as Error).message}\n`)
        }
      }
    })
  }
  for (const name of services) {
    for (const rule of p.services[name]!.develop?.watch ?? []) {
      const ignore = parseDockerignore((rule.ignore ?? []).join('\n'))
      const w = fsWatch(rule.path, { recursive: true }, (_event, file) => {
        const rel = file ? String(file).split(sep).join('/') : ''
        if (rel && isIgnored(ignore, rel)) return
        const key = `${name}\0${rule.path}\0${rule.action}`
        const entry = pending.get(key) ?? { rule, service: name, files: new Set<string>() }
        entry.files.add(rel)
        pending.set(key, entry)
        if (timer) clearTimeout(timer)
        timer = setTimeout(flush, 300)
      })
      watchers.push(w)
    }
  }
  await new Promise<void>((resolve) => {
    const stop = () => { for (const w of watchers) w.close(); if (timer) clearTimeout(timer); resolve() }
    o.signal?.addEventListener('abort', stop, { once: true })
    process.once('SIGINT', stop)
  })
  await running
}

async function apply(docker: Docker, p: ProjectModel, service: string, rule: Rule, files: string[], o: { out: NodeJS.WritableStream; reporter: Reporter }): Promise<void> {
  const ctrs = (await observeProject(docker, p.name)).containers.filter((c) => serviceOf(c) === service && c.State === 'running')
  if (rule.action === 'rebuild') {
    o.out.write(`Rebuilding service(s) ["${service}"] after changes were detected...\n`)
    await buildService(docker, p, p.services[service]!, o.reporter)
    const up: UpOptions = { services: [service] }
    const { plan, observed, images } = await planProjectUp(docker, p, up)
    await executeUp(docker, p, plan, images, observed, up, o.reporter)
    o.out.write(`service(s) ["${service}"] successfully built\n`)
    return
  }
  if (rule.action === 'sync' || rule.action === 'sync+restart' || rule.action === 'sync+exec') {
    if (!rule.target) throw new Error(`services.${service}.develop.watch: target is required for ${rule.action}`)
    o.out.write(`Syncing service "${service}" after ${files.length} changes were detected\n`)
    for (const rel of files) {
      const local = rel ? `${rule.path}/${rel}` : rule.path
      const dest = rel ? posix.join(rule.target, rel) : rule.target
      let data: Buffer | undefined
      try {
        if ((await stat(local)).isFile()) data = await readFile(local)
        else continue
      } catch (err) {
        if (!isNotFoundErrno(err)) throw err
      }
      for (const c of ctrs) {
        if (data) await docker.containers.putArchive(c.Id, '/', await fileTar(dest.replace(/^\/+/, ''), data, 0o644)) // parents are made as tar makes them
        else {
          const { Id } = await docker.exec.create(c.Id, { Cmd: ['rm', '-rf', '--', dest] })
          await docker.exec.startDetached(Id)
        }
      }
    }
    void relative
  }
  if (rule.action === 'sync+restart' || rule.action === 'restart') {
    for (const c of ctrs) await docker.containers.restart(c.Id)
    o.out.write(`service(s) ["${service}"] restarted\n`)
  }
  if (rule.action === 'sync+exec') throw new Error(`services.${service}.develop.watch: action sync+exec is not supported by berth compose yet`)
}
