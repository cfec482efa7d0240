import { invalid } from '../../lib/errors.js'

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGSTKFLT: 16, SIGCHLD: 17, SIGCONT: 18, SIGSTOP: 19, SIGTSTP: 20, SIGTTIN: 21, SIGTTOU: 22, SIGURG: 23, SIGXCPU: 24, SIGXFSZ: 25, SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28, SIGIO: 29, SIGPWR: 30, SIGSYS: 31 }

/** Docker's signal names: `TERM`, `SIGTERM`, `15`, `SIGRTMIN+3`. Returns the canonical `SIGX` or number string. */
export function parseSignal(s: string): string {
  const up = s.toUpperCase()
  if (/^\d+$/.test(s)) {
    const n = Number(s)
    if (n < 1 || n > 64) throw invalid('ERR_INVALID_SIGNAL', `Invalid signal: ${s}`)
    return s
  }
  const name = up.startsWith('SIG') ? up : `SIG${up}`
  if (name in SIGNALS) return name
  const rt = /^SIGRTM(IN|AX)([+-]\d+)?$/.exec(name)
  if (rt) return String((rt[1] === 'IN' ? 34 : 64) + Number(rt[2] ?? 0))
  throw invalid('ERR_INVALID_SIGNAL', `Invalid signal: ${s}`)
}

/** The number of a parsed signal (SIGTERM when unknown). */
export function signalNumber(sig: string): number {
  return /^\d+$/.test(sig) ? Number(sig) : SIGNALS[sig] ?? 15
}
