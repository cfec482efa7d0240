import { humanSize } from '../lib/units.js'

/** Docker's JSON progress message (jsonmessage.JSONMessage), as pull and push stream it. */
export interface ProgressMessage {
  status?: string
  id?: string
  progressDetail?: { current?: number; total?: number }
  progress?: string
  aux?: unknown
  errorDetail?: { message: string }
  error?: string
}

export type ProgressSink = (msg: ProgressMessage) => void

/** The bar dockerd renders server side (JSONProgress.String at its 200-column default width). */
export function progressBar(current: number, total: number): string {
  if (total <= 0) return `${humanSize(current).padStart(8)}`
  let pct = Math.floor((Math.floor((current / total) * 100)) / 2)
  if (pct > 50) pct = 50
  const bar = `[${'='.repeat(pct)}>${' '.repeat(Math.max(0, 50 - pct))}] `
  const nums = current > total ? humanSize(current).padStart(8) : `${humanSize(current).padStart(8)}/${humanSize(total)}`
  return bar + nums
}

/** A plain status line for a layer or a step (`Pulling fs layer`, `Pushed`). */
export function statusMsg(id: string, status: string): ProgressMessage {
  return { status, progressDetail: {}, id }
}

/** A progress update, throttled by the caller. */
export function progressMsg(id: string, status: string, current: number, total: number): ProgressMessage {
  return { status, progressDetail: { current, total }, progress: progressBar(current, total), id }
}

/** Calls `fn` at most every `ms` (the last call is never lost when `flush` is called). */
export function throttle(ms: number): (force?: boolean) => boolean {
  let last = 0
  return (force = false) => {
    const now = Date.now()
    if (!force && now - last < ms) return false
    last = now
    return true
  }
}
