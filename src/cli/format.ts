import { formatTemplate, TemplateError } from './gotemplate/index.js'
import { renderRows } from './gotemplate/docker-format.js'
import { bytesSize as goBytesSize, humanDuration, humanSize as goHumanSize, humanSizeWithPrecision } from '../lib/units.js'
import { ApiError } from '../client/client.js'
import { CliExit, type CliContext } from './context.js'

/** Output helpers shared by every command: tables, templates, sizes and times as docker prints them. */

export interface TableOptions {
  format: string | undefined
  quiet?: boolean
  quietFormat?: string
  defaultFormat: string
  headers: Record<string, string>
  rows: Iterable<unknown>
}

export async function renderTable(ctx: CliContext, o: TableOptions): Promise<void> {
  let text: string
  try {
    text = renderRows({
      ...(o.format !== undefined ? { format: unescapeFormat(o.format) } : {}),
      rows: o.rows,
      headers: o.headers,
      defaultTableFormat: o.defaultFormat,
      ...(o.quiet ? { quiet: true } : {}),
      ...(o.quietFormat ? { quietFormat: o.quietFormat } : {}),
    })
  } catch (err) {
    if (err instanceof TemplateError) throw new CliExit(1, err.message)
    throw err
  }
  ctx.out.write(text)
}

/** Execute a template once (inspect, version, info, events). */
export function executeTemplate(format: string, data: unknown): string {
  try {
    return formatTemplate(unescapeFormat(format), data)
  } catch (err) {
    if (err instanceof TemplateError) throw new CliExit(1, `template parsing error: ${err.message}`)
    throw err
  }
}

/** docker turns the two characters `\t` and `\n` typed in a --format into a tab and a newline. */
function unescapeFormat(f: string): string {
  return f.replace(/\\t/g, '\t').replace(/\\n/g, '\n')
}

export function isJsonFormat(format: string): boolean {
  return format.trim() === 'json'
}

/** inspect output: an indented JSON array, or the template per element. */
export async function printInspect(ctx: CliContext, elements: unknown[], format: string | undefined): Promise<void> {
  if (!format || isJsonFormat(format)) {
    ctx.out.write(`${elements.length ? JSON.stringify(elements, null, 4) : '[]'}\n`)
    return
  }
  for (const e of elements) ctx.out.write(`${executeTemplate(format, e)}\n`)
}

/** `--filter k=v` flags as the API's filters map. */
export function filtersParam(list: string[] | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const f of list ?? []) {
    const eq = f.indexOf('=')
    if (eq < 0) throw new CliExit(125, `invalid argument "${f}" for "-f, --filter" flag: bad format of filter (expected name=value)`)
    const k = f.slice(0, eq).trim().toLowerCase()
    ;(out[k] ??= []).push(f.slice(eq + 1).trim())
  }
  return out
}

export const humanSize = (n: number) => goHumanSize(n)
export const humanSizePrec = (n: number, p: number) => humanSizeWithPrecision(n, p)
export const bytesSize = (n: number) => goBytesSize(n)

/** `2 years ago`, from a Unix time in seconds. */
export function createdSince(unixSeconds: number): string {
  if (!unixSeconds) return 'N/A'
  return `${humanDuration(Math.max(0, Date.now() - unixSeconds * 1000))} ago`
}

/** 12 hex characters of an ID, without `sha256:`. */
export function truncId(id: string): string {
  const i = id.indexOf(':')
  return (i >= 0 ? id.slice(i + 1) : id).slice(0, 12)
}

/** docker's stringutils.Ellipsis. */
export function ellipsis(s: string, max: number): string {
  const chars = [...s]
  if (chars.length <= max) return s
  if (max < 3) return chars.slice(0, max).join('')
  return `${chars.slice(0, max - 1).join('')}…`
}

/** Ask `[y/N]` on the terminal; anything but y/Y is no. */
export async function confirm(ctx: CliContext, message: string): Promise<boolean> {
  ctx.out.write(`${message} [y/N] `)
  const line = await new Promise<string>((resolve) => {
    let buf = ''
    const onData = (b: Buffer) => {
      buf += b.toString()
      const nl = buf.indexOf('\n')
      if (nl >= 0) { done(buf.slice(0, nl)) }
    }
    const done = (s: string) => { process.stdin.off('data', onData); process.stdin.off('end', onEnd); process.stdin.pause(); resolve(s) }
    const onEnd = () => done(buf)
    process.stdin.on('data', onData)
    process.stdin.on('end', onEnd)
  })
  const ok = /^\s*[yY]\s*$/.test(line)
  if (!ok) ctx.out.write('\n')
  return ok
}

/**
 * Run an action per argument as docker does: what worked is printed as it goes, errors are
 * collected and reported at the end (exit status 1). `skip` lets an error pass silently
 * (`rm -f` of something already gone).
 */
export async function eachArg(ctx: CliContext, action: (arg: string) => Promise<void>, ok: (arg: string) => string = (a) => `${a}\n`, skip: (err: ApiError) => boolean = () => false): Promise<number> {
  const errors: string[] = []
  for (const arg of ctx.args) {
    try {
      await action(arg)
      ctx.out.write(ok(arg))
    } catch (err) {
      if (!(err instanceof ApiError)) throw err
      if (skip(err)) continue
      errors.push(`Error response from daemon: ${err.message}`)
    }
  }
  if (errors.length) throw new CliExit(1, errors.join('\n'))
  return 0
}

/** `inspect` of objects of one kind: what was found is printed, then the errors (exit status 1). */
export async function inspectEach(ctx: CliContext, path: (name: string) => string): Promise<number> {
  const found: unknown[] = []
  const errors: string[] = []
  for (const name of ctx.args) {
    try {
      found.push(await ctx.client().json('GET', path(name)))
    } catch (err) {
      if (!(err instanceof ApiError)) throw err
      errors.push(`Error response from daemon: ${err.message}`)
    }
  }
  await printInspect(ctx, found, ctx.flags.format as string | undefined)
  if (errors.length) throw new CliExit(1, errors.join('\n'))
  return 0
}

/**
 * Write an archive the daemon streams (`save`, `export`) to `-o FILE` or to stdout, as docker
 * does: never to a terminal, the destination checked before the daemon does any work, the file
 * written under a temporary name and renamed when complete. `what` names the failure
 * (`failed to save image`).
 */
export async function saveArchive(ctx: CliContext, output: string | undefined, what: string, fetch: () => Promise<NodeJS.ReadableStream>): Promise<void> {
  const { createWriteStream } = await import('node:fs')
  const { rename, rm, stat } = await import('node:fs/promises')
  const { basename, dirname, join, resolve } = await import('node:path')
  const { pipeline } = await import('node:stream/promises')
  if (!output && ctx.out.isTTY) throw new CliExit(1, 'cowardly refusing to save to a terminal. Use the -o flag or redirect')
  if (output) {
    try {
      if (!(await stat(dirname(resolve(output)))).isDirectory()) throw new CliExit(1, `${what}: invalid output path: "${dirname(output)}" is not a directory`)
    } catch (err) {
      if (err instanceof CliExit) throw err
      throw new CliExit(1, `${what}: invalid output path: directory "${dirname(output)}" does not exist`)
    }
  }
  const res = await fetch()
  if (!output) {
    await pipeline(res, ctx.out)
    return
  }
  const tmp = join(dirname(output), `.${basename(output)}.berth-tmp`)
  try {
    await pipeline(res, createWriteStream(tmp, { mode: 0o600 }))
    await rename(tmp, output)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}
