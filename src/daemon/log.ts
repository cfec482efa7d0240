export interface Logger {
  debug(msg: string): void
  info(msg: string): void
  warn(msg: string): void
  error(msg: string): void
}

const LEVELS = ['debug', 'info', 'warn', 'error', 'fatal'] as const

/** Log lines in dockerd's logfmt style: time="..." level=info msg="...". */
export function logger(level: string): Logger {
  const min = Math.max(0, LEVELS.indexOf(level as (typeof LEVELS)[number]))
  const line = (lvl: number, msg: string) => {
    if (lvl < min) return
    process.stderr.write(`time="${new Date().toISOString()}" level=${LEVELS[lvl]} msg=${JSON.stringify(msg)}\n`)
  }
  return {
    debug: (m) => line(0, m),
    info: (m) => line(1, m),
    warn: (m) => line(2, m),
    error: (m) => line(3, m),
  }
}
