import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { runChecked } from './exec.js'

/**
 * crun refuses a cgroup v1 host whose empty cgroup2 mount lists controllers (hugetlb) that
 * no v1 hierarchy holds ("cgroups in hybrid mode not supported"). Mount the missing v1
 * hierarchies once, as a host set up by systemd would have them. Returns what it mounted.
 */
export async function repairCgroupV1Hierarchies(): Promise<string[]> {
  let text: string
  try {
    text = await readFile('/proc/cgroups', 'utf8')
  } catch {
    return []
  }
  const mounts = await readFile('/proc/self/mounts', 'utf8')
  if (!/ \/sys\/fs\/cgroup tmpfs /.test(mounts)) return [] // pure cgroup v2 host: nothing to repair
  const mounted: string[] = []
  for (const line of text.split('\n').slice(1)) {
    const [name, hierarchy, , enabled] = line.split('\t')
    if (!name || enabled !== '1' || hierarchy !== '0') continue
    // Only hugetlb is known to upset crun; the others are harmless and left alone.
    if (name !== 'hugetlb') continue
    const dir = `/sys/fs/cgroup/${name}`
    await mkdir(dir, { recursive: true })
    await runChecked('mount', ['-t', 'cgroup', '-o', name, 'cgroup', dir])
    mounted.push(name)
  }
  return mounted
}

/**
 * Lift a cgroup's PIDs limit (`pids.max` = `max`), which `crun update` cannot do (it refuses -1
 * and ignores 0). `cgroupPath` is the container's path below the hierarchy, e.g. `/berth/<id>`.
 */
export async function unlimitPids(cgroupPath: string): Promise<void> {
  for (const file of [`/sys/fs/cgroup/pids${cgroupPath}/pids.max`, `/sys/fs/cgroup${cgroupPath}/pids.max`]) {
    try {
      await writeFile(file, 'max')
      return
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
  }
}
