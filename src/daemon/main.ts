import { loadConfig, USAGE } from './config.js'
import { Daemon } from './daemon.js'
import { BERTH_VERSION } from '../engine/system/info.js'

/** berthd's entry point. */
export async function main(argv: string[]): Promise<number> {
  let parsed
  try {
    parsed = await loadConfig(argv)
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`)
    return 125
  }
  if (parsed.kind === 'help') { process.stdout.write(USAGE); return 0 }
  if (parsed.kind === 'version') { process.stdout.write(`Berth version ${BERTH_VERSION}\n`); return 0 }
  if (process.getuid?.() !== 0) {
    process.stderr.write('berthd needs to be started with root privileges. To run berthd in rootless mode as an unprivileged user, see the documentation (not supported yet)\n')
    return 1
  }
  // As dockerd: a log reader that goes away (its pipe closed: EPIPE) never takes the daemon down;
  // the lines are lost, the containers and the API go on.
  for (const out of [process.stdout, process.stderr]) out.on('error', () => undefined)
  const daemon = new Daemon(parsed.config)
  try {
    await daemon.start()
  } catch (err) {
    process.stderr.write(`failed to start daemon: ${(err as Error).message}\n`)
    return 1
  }
  await daemon.refreshHostState()
  await daemon.countFds()
  const refresher = setInterval(() => { void daemon.refreshHostState(); void daemon.countFds() }, 10_000)
  refresher.unref()
  return new Promise<number>((resolve) => {
    let stopping = false
    const shutdown = (sig: string) => {
      if (stopping) return
      stopping = true
      daemon.log.info(`Processing signal '${sig}'`)
      clearInterval(refresher)
      // A stuck client must not keep the daemon from stopping.
      setTimeout(() => { daemon.log.warn('shutdown took longer than 15 s; exiting'); resolve(1) }, 15_000).unref()
      daemon.stop().then(() => resolve(0), (err) => { daemon.log.error(String(err)); resolve(1) })
    }
    process.on('SIGTERM', () => shutdown('terminated'))
    process.on('SIGINT', () => shutdown('interrupt'))
    process.on('SIGQUIT', () => shutdown('quit'))
  })
}
