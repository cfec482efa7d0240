/**
 * compose v2's progress output: `[+] Running 3/3` with one line per resource (` ✔ Container
 * app-web-1  Started`) redrawn in place on a terminal; plain lines (` Container app-web-1
 * Started`) as they happen on a pipe. Both go to stderr, as compose v2 writes them.
 */
export interface Reporter {
  event(kind: 'Network' | 'Volume' | 'Container' | 'Image' | 'Service', name: string, status: string, done?: boolean): void
  /** Stop redrawing (before attached output or an error is printed). */
  close(): void
}

export function makeReporter(out: NodeJS.WriteStream, mode: 'auto' | 'plain' | 'tty' | 'quiet' = 'auto'): Reporter {
  if (mode === 'quiet') return { event() {}, close() {} }
  const tty = mode === 'tty' || (mode === 'auto' && !!out.isTTY && process.env.TERM !== 'dumb')
  if (!tty) {
    return {
      event(kind, name, status) { out.write(` ${kind} ${name}  ${status}\n`) },
      close() {},
    }
  }
  const lines = new Map<string, { kind: string; name: string; status: string; done: boolean; start: number }>()
  let drawn = 0
  let timer: NodeJS.Timeout | undefined
  const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']
  let frame = 0
  const draw = () => {
    const rows = [...lines.values()]
    const done = rows.filter((r) => r.done).length
    const width = Math.max(0, ...rows.map((r) => r.kind.length + r.name.length + 1))
    let s = drawn ? `\x1b[${drawn}A` : ''
    s += `\x1b[2K[+] Running ${done}/${rows.length}\n`
    for (const r of rows) {
      const mark = r.done ? '\x1b[32m✔\x1b[0m' : frames[frame % frames.length]
      const secs = ((Date.now() - r.start) / 1000).toFixed(1)
      s += `\x1b[2K ${mark} ${`${r.kind} ${r.name}`.padEnd(width)}  ${r.done ? '\x1b[32m' : ''}${r.status}${r.done ? '\x1b[0m' : ''}  ${' '.repeat(2)}${secs}s\n`
    }
    drawn = rows.length + 1
    out.write(s)
    frame++
  }
  return {
    event(kind, name, status, done) {
      const key = `${kind}/${name}`
      const cur = lines.get(key)
      const finished = done ?? /^(Created|Started|Running|Healthy|Stopped|Removed|Pulled|Built|Exited|Killed|Paused|Unpaused|Restarted|Recreated|Waiting done)$/.test(status)
      lines.set(key, { kind, name, status, done: finished, start: cur?.start ?? Date.now() })
      if (!timer) { timer = setInterval(draw, 100); timer.unref() }
      draw()
    },
    close() {
      if (timer) clearInterval(timer)
      timer = undefined
      if (lines.size) draw()
    },
  }
}

const COLORS = [36, 33, 32, 35, 34, 91, 96, 93, 92, 95, 94]

/** `web-1  | line` prefixes, coloured on a terminal, padded to the longest name. */
export class LogPrefixer {
  #width = 0
  #colors = new Map<string, number>()
  constructor(readonly color: boolean, readonly prefix: boolean) {}

  add(name: string): void {
    this.#width = Math.max(this.#width, name.length)
    if (!this.#colors.has(name)) this.#colors.set(name, COLORS[this.#colors.size % COLORS.length]!)
  }

  line(name: string, text: string): string {
    if (!this.prefix) return `${text}\n`
    const p = `${name.padEnd(this.#width)}  | `
    return this.color ? `\x1b[${this.#colors.get(name) ?? 36}m${p}\x1b[0m${text}\n` : `${p}${text}\n`
  }
}
