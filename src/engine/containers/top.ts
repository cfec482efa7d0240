import { readFile } from 'node:fs/promises'
import { conflict, internal, invalid, isNotFoundErrno } from '../../lib/errors.js'
import { run } from '../../platform/exec.js'

/** PIDs (host namespace) of a container's processes, from its cgroup. */
export async function containerPids(cgroupsPath: string): Promise<number[]> {
  for (const controller of ['pids', 'memory', 'cpu', 'unified']) {
    try {
      const text = await readFile(`/sys/fs/cgroup/${controller}${cgroupsPath}/cgroup.procs`, 'utf8')
      return text.split('\n').filter(Boolean).map(Number)
    } catch (err) {
      if (!isNotFoundErrno(err)) throw err
    }
  }
  return []
}

/**
 * `docker top`: run the host's `ps` with the given arguments (default `-ef`), limited to the
 * container's PIDs, and keep the rows whose PID column belongs to the container, as Docker does.
 */
export async function top(cgroupsPath: string, running: boolean, id: string, psArgs: string): Promise<{ titles: string[]; processes: string[][] }> {
  if (!running) throw conflict('ERR_NOT_RUNNING', `container ${id} is not running`)
  const args = (psArgs || '-ef').split(' ').filter(Boolean)
  if (args.some((a) => a.includes('\0'))) throw invalid('ERR_PS_ARGS', 'invalid ps arguments')
  const pids = await containerPids(cgroupsPath)
  let r = await run('ps', [...args, '-q', pids.join(',') || '0'])
  // Some ps options (such as f) cannot be combined with -q: retry without it.
  if (r.code !== 0) r = await run('ps', args)
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
