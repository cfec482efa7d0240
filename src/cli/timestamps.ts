/**
 * docker's timetypes.GetTimestamp: turn `--since`/`--until` values into the
 * `seconds.nanoseconds` strings the API takes. Durations (`10m`, `1h30m`) are relative to now;
 * Unix timestamps pass through; RFC 3339 dates and date-times (local time when no zone) are parsed.
 */
export function parseTimestampArg(value: string, now = Date.now()): string {
  if (/^\d+(\.\d{1,9})?$/.test(value)) return value
  if (/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(value)) {
    let ms = 0
    for (const m of value.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += parseFloat(m[1]!) * { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2]!]!
    return toSecondsNanos(now - ms)
  }
  let iso = value
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) iso += 'T00:00:00'
  const t = Date.parse(iso)
  if (Number.isNaN(t)) throw new Error(`failed to parse value as time or duration: "${value}"`)
  return toSecondsNanos(t)
}

function toSecondsNanos(ms: number): string {
  const sec = Math.floor(ms / 1000)
  const nanos = Math.round((ms - sec * 1000) * 1e6)
  return `${sec}.${String(nanos).padStart(9, '0')}`
}
