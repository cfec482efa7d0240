import type { Duplex } from 'node:stream'
import type { ContainerBackend, ExecConfig } from '../backend.js'
import { invalid } from '../../lib/errors.js'
import { readJsonBody, versionAtLeast, type Ctx } from '../http.js'
import type { HijackCtx, Router } from '../router.js'
import { validateBody } from '../validate.js'

type Wire = Record<string, unknown>

export function execRoutes(r: Router, b: ContainerBackend): void {
  r.add('POST', '/containers/{id}/exec', async (ctx) => {
    const body = (await readJsonBody<Wire>(ctx.req)) ?? {}
    const id = await b.execCreate(ctx.params[0]!, fromWireExecConfig(body))
    ctx.res.writeHead(201, { 'Content-Type': 'application/json' })
    ctx.res.end(JSON.stringify({ Id: id }))
  })

  r.add('GET', '/exec/{id}/json', async (ctx) => {
    const s = await b.execInspect(ctx.params[0]!)
    const c = s.config
    return {
      ID: s.id,
      Running: s.running,
      ExitCode: s.exitCode,
      ProcessConfig: { tty: c.tty, entrypoint: c.cmd[0] ?? '', arguments: c.cmd.slice(1), privileged: c.privileged, ...(c.user ? { user: c.user } : {}) },
      OpenStdin: c.attachStdin,
      OpenStderr: c.attachStderr,
      OpenStdout: c.attachStdout,
      CanRemove: false,
      ContainerID: s.containerId,
      DetachKeys: c.detachKeys,
      Pid: s.pid,
    }
  })

  r.add('POST', '/exec/{id}/resize', async (ctx) => {
    const h = Number(ctx.query.get('h') ?? 0)
    const w = Number(ctx.query.get('w') ?? 0)
    if (!Number.isInteger(h) || !Number.isInteger(w) || h < 0 || w < 0) throw invalid('ERR_RESIZE', 'invalid resize parameters')
    await b.execResize(ctx.params[0]!, { height: h, width: w })
    // dockerd answers 200 with an empty body.
    ctx.res.writeHead(200, { 'Content-Length': '0' })
    ctx.res.end()
  })

  // Without a connection upgrade: a detached start, or output streamed in the answer's body.
  r.add('POST', '/exec/{id}/start', async (ctx) => {
    const opts = startOptions(await readJsonBody<Wire>(ctx.req))
    if (opts.detach) {
      await b.execStartDetached(ctx.params[0]!, opts)
      ctx.res.writeHead(200)
      ctx.res.end()
      return
    }
    const s = await b.execStream(ctx.params[0]!, opts)
    // As dockerd: without an upgrade the answer is labelled a raw stream, framed or not by the start's Tty.
    ctx.res.writeHead(200, { 'Content-Type': 'application/vnd.docker.raw-stream' })
    ctx.res.flushHeaders()
    await s.run(responseDuplex(ctx), { stdin: false, multiplexed: !opts.tty })
  })

  r.hijack('POST', '/exec/{id}/start', async (ctx) => {
    const { body, rest } = await readUpgradeBody(ctx)
    // The upgraded path reads its own body: the same schema check as readJsonBody's.
    const opts = startOptions(body === undefined ? undefined : validateBody('POST /exec/{id}/start', body) as Wire)
    if (opts.detach) {
      await b.execStartDetached(ctx.params[0]!, opts)
      ctx.socket.end(`HTTP/1.1 200 OK\r\nContent-Length: 0\r\nApi-Version: ${ctx.version}\r\n\r\n`)
      return
    }
    // Errors found before the process is set up answer as plain HTTP errors.
    const s = await b.execStream(ctx.params[0]!, opts)
    ctx.upgrade(!opts.tty && versionAtLeast(ctx, '1.42') ? 'application/vnd.docker.multiplexed-stream' : 'application/vnd.docker.raw-stream')
    await s.run(ctx.socket, { head: rest, stdin: true, multiplexed: !opts.tty })
  })
}

/**
 * The start's options. Its `Tty`, not the session's, decides the framing, as in dockerd: a start
 * without it gets stdcopy frames even from a session with a terminal (docker-py's
 * `exec_start(id)` of a `tty=True` exec reads frames), and one with it the raw bytes.
 */
interface StartOptions { detach: boolean; tty: boolean; consoleSize?: { height: number; width: number } }

function startOptions(body: Wire | undefined): StartOptions {
  // The body's keys are Go's already (validateBody folds `detachKeys` to `DetachKeys`, as encoding/json matches).
  const b = body ?? {}
  const cs = Array.isArray(b.ConsoleSize) ? (b.ConsoleSize as number[]) : undefined
  return { detach: !!b.Detach, tty: b.Tty === true, ...(cs && cs.length === 2 ? { consoleSize: { height: Number(cs[0]), width: Number(cs[1]) } } : {}) }
}

/** The answer of a plain request as the write side of a stream: it takes no input. */
function responseDuplex(ctx: Ctx): Duplex {
  return ctx.res as unknown as Duplex
}

/**
 * A hijacked request's JSON body: node hands over the connection right after the headers, so
 * the body (Content-Length bytes) is read from `head` and the socket; what follows is stdin.
 */
export async function readUpgradeBody(ctx: HijackCtx, o: { parse: boolean } = { parse: true }): Promise<{ body: Wire | undefined; rest: Buffer }> {
  const len = Number(ctx.req.headers['content-length'] ?? 0)
  let buf = ctx.head
  if (len > 0 && buf.length < len) {
    const chunks: Buffer[] = [buf]
    let have = buf.length
    await new Promise<void>((resolve, reject) => {
      const onData = (b: Buffer) => {
        chunks.push(b)
        have += b.length
        if (have >= len) { cleanup(); resolve() }
      }
      const onEnd = () => { cleanup(); reject(invalid('ERR_BODY', 'unexpected end of request body')) }
      const cleanup = () => { ctx.socket.off('data', onData); ctx.socket.off('end', onEnd); ctx.socket.pause() }
      ctx.socket.on('data', onData)
      ctx.socket.on('end', onEnd)
    })
    buf = Buffer.concat(chunks)
  }
  const bodyBuf = buf.subarray(0, len)
  const rest = buf.subarray(len)
  if (bodyBuf.length === 0 || !o.parse) return { body: undefined, rest }
  try {
    return { body: JSON.parse(bodyBuf.toString('utf8')) as Wire, rest }
  } catch (err) {
    throw invalid('ERR_INVALID_JSON', `invalid JSON: ${(err as Error).message}`)
  }
}

export function fromWireExecConfig(b: Wire): ExecConfig {
  const strs = (v: unknown, what: string): string[] => {
    if (v === undefined || v === null) return []
    if (typeof v === 'string') return [v]
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw invalid('ERR_INVALID_JSON', `json: cannot unmarshal ${typeof v} into Go struct field ExecConfig.${what} of type []string`)
    return v as string[]
  }
  const env = strs(b.Env, 'Env')
  for (const e of env) if (e.startsWith('=') || e === '') throw invalid('ERR_EXEC_ENV', `invalid environment variable: ${e}`)
  const cs = Array.isArray(b.ConsoleSize) ? (b.ConsoleSize as number[]) : undefined
  return {
    cmd: strs(b.Cmd, 'Cmd'),
    env,
    user: typeof b.User === 'string' ? b.User : '',
    workingDir: typeof b.WorkingDir === 'string' ? b.WorkingDir : '',
    privileged: !!b.Privileged,
    tty: !!b.Tty,
    attachStdin: !!b.AttachStdin,
    attachStdout: !!b.AttachStdout,
    attachStderr: !!b.AttachStderr,
    detachKeys: typeof b.DetachKeys === 'string' ? b.DetachKeys : '',
    ...(cs && cs.length === 2 ? { consoleSize: { height: Number(cs[0]), width: Number(cs[1]) } } : {}),
  }
}
