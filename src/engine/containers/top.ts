import { conflict, internal, invalid } from '../../lib/errors.js'
import { hostProcs, type Procs } from '../../platform/procs.js'
import type { ContainerRecord } from './types.js'

/** The cgroup (under each controller) that holds a container's processes. */
export function cgroupsPathOf(id: string): string {
  return `/berth/${id}`
}

/**
 * `docker top`: run the host's `ps` with the given arguments (default `-ef`), limited to the
 * container's PIDs, and keep the rows whose PID column belongs to the container, as Docker does.
 */
export async function topContainer(rec: ContainerRecord, psArgs: string, procs: Procs = hostProcs): Promise<{ titles: string[]; processes: string[][] }> {
  if (rec.state.status !== 'running' && rec.state.status !== 'paused') throw conflict('ERR_NOT_RUNNING', `container ${rec.id} is not running`)
  const args = (psArgs || '-ef').split(' ').filter(Boolean)
  if (args.some((a) => a.includes('\0'))) throw invalid('ERR_PS_ARGS', 'invalid ps arguments')
  const pids = await procs.cgroupPids(cgroupsPathOf(rec.id))
  let r = await procs.ps([...args, '-q', pids.join(',') || '0'])
  // Some ps options (such as f) cannot be combined with -q: retry without it.
  if (r.code !== 0) r = await procs.ps(args)
  if (r.code !== 0) throw internal('ERR_PS', `ps: ${r.stderr.trim() || `exit status ${r.code}`}`)
  return parsePs(r.stdout, new Set(pids))
}

/** Parse ps output: the header gives the titles; the last column keeps its spaces. */
export function parsePs(output: string, pids: Set<number>): { titles: string[]; processes: string[][] } {
  const lines = output.split('\n').filter((l) => l.trim() !== '')
  const titles = (lines[0] ?? '').trim().split(/\s+/)
  const pidIndex = titles.indexOf('PID')
  if (pidIndex < 0) throw internal('ERR_PS', "Couldn't find PID field in ps output")
  const processes: string[][] = []
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/)
    if (fields.length > titles.length) fields.splice(titles.length - 1, fields.length, fields.slice(titles.length - 1).join(' '))
    const pid = Number(fields[pidIndex])
    if (pids.has(pid)) processes.push(fields)
  }
  return { titles, processes }
}
