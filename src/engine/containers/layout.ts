import { join } from 'node:path'

/**
 * Where a container's parts live on disk. The one place that spells these paths: nothing
 * outside the container domain reads them; other domains ask the container domain (its
 * methods return what they need).
 *
 * Data root (`containers/<id>/`): the record, the overlay upper/work dirs and the mount point,
 * the /etc files, the log. Exec root: the OCI bundle of the current run (config.json, conmon's
 * attach socket and control FIFO, pid files, the persist dir with `oom`) and the exit files.
 */
export interface ContainerLayout {
  /** `containers/<id>` under the data root. */
  dir(id: string): string
  upper(id: string): string
  work(id: string): string
  /** Where the rootfs is mounted while the container runs (or is held by cp/export/commit). */
  merged(id: string): string
  log(id: string): string
  etcFile(id: string, file: 'hostname' | 'hosts' | 'resolv.conf'): string
  /** The directory conmon writes `<id>` exit files into. */
  exitDir: string
  exitFile(id: string): string
  bundle(id: string): string
  /** The runtime spec of the current run: the exec processes' template. */
  specFile(id: string): string
  attachSocket(id: string): string
  controlFifo(id: string): string
  persistDir(id: string): string
  oomFile(id: string): string
  monitorPidFile(id: string): string
  containerPidFile(id: string): string
  /** A `<runtime> update --resources` file, written for the call and removed after. */
  updateFile(id: string): string
  /** The exec root's directory of bundles. */
  bundlesDir: string
}

/** The layout of containers under `containersRoot` (data root) and `execRoot`. */
export function containerLayout(containersRoot: string, execRoot: string): ContainerLayout {
  const dir = (id: string) => join(containersRoot, id)
  const bundlesDir = join(execRoot, 'containers')
  const bundle = (id: string) => join(bundlesDir, id)
  const exitDir = join(execRoot, 'exits')
  return {
    dir,
    upper: (id) => join(dir(id), 'upper'),
    work: (id) => join(dir(id), 'work'),
    merged: (id) => join(dir(id), 'merged'),
    log: (id) => join(dir(id), 'container.log'),
    etcFile: (id, file) => join(dir(id), file),
    exitDir,
    exitFile: (id) => join(exitDir, id),
    bundle,
    specFile: (id) => join(bundle(id), 'config.json'),
    attachSocket: (id) => join(bundle(id), 'attach'),
    controlFifo: (id) => join(bundle(id), 'ctl'),
    persistDir: (id) => join(bundle(id), 'persist'),
    oomFile: (id) => join(bundle(id), 'persist', 'oom'),
    monitorPidFile: (id) => join(bundle(id), 'conmon.pid'),
    containerPidFile: (id) => join(bundle(id), 'pidfile'),
    updateFile: (id) => join(bundle(id), 'update.json'),
    bundlesDir,
  }
}

/** The cgroup of a container (relative to the cgroup root), as the spec and `update` name it. */
export const cgroupPathOf = (id: string): string => `/berth/${id}`
