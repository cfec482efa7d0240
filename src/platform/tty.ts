import type { Spawner } from './platform.js'

/**
 * Put the terminal on the engine's stdin in raw mode without echo (`stty raw -echo`), as docker
 * does for `-it`. Returns the saved settings to restore, or undefined when stdin is no terminal.
 */
export function setRawTerminal(spawner: Spawner): string | undefined {
  let g
  try {
    g = spawner.runSync('stty', ['-g'], { stdin: 'inherit' })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined // no stty: stay cooked
    throw err
  }
  if (g.code !== 0) return undefined
  spawner.runSync('stty', ['raw', '-echo'], { stdin: 'inherit' })
  return g.stdout.trim()
}

/** Restore settings saved by setRawTerminal. */
export function restoreTerminal(spawner: Spawner, saved: string): void {
  spawner.runSync('stty', [saved], { stdin: 'inherit' })
}
