import { SeqpacketSocket } from 'node-unix-socket'
import { closeSync, constants, openSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { basename, dirname } from 'node:path'
import type { Daemon } from '../../daemon/daemon.js'
import { Filters, parseTimestamp } from '../../engine/filters.js'
import { frame, readLogs } from '../../engine/containers/logs.js'
import { top } from '../../engine/containers/top.js'
import type { ContainerRecord } from '../../engine/containers/types.js'
import { conflict, invalid, notImplemented } from '../../lib/errors.js'
import { boolParam, readJsonBody, versionAtLeast, type Ctx } from '../http.js'
import type { HijackCtx, Router } from '../router.js'
import { fromWireCreate, toWireInspect, toWireSummary } from '../wire-containers.js'

const PS_FILTERS = ['ancestor', 'before', 'expose', 'exited', 'health', 'id', 'isolation', 'is-task', 'label', 'name', 'network', 'publish', 'since', 'status', 'volume']
const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead']

export function containerRoutes(r: Router, d: Daemon): void {
  const svc = () => d.engine.containers

  r.add('GET', '/containers/json', (ctx) => {
    const f = Filters.parse(ctx.query.get('filters'))
    f.validate(PS_FILTERS)
    for (const s of f.get('status')) if (!STATUSES.includes(s)) throw invalid('ERR_INVALID_FILTER', `invalid filter 'status=${s}'`)
    const all = boolParam(ctx.query, 'all')
    const limit = Number(ctx.query.get('limit') ?? -1)
    let list = svc().store.all().sort((a, b) => Date.parse(b.created) - Date.parse(a.created) || (a.id < b.id ? 1 : -1))
    const before = f.get('before').map((x) => svc().resolve(x))
    const since = f.get('since').map((x) => svc().resolve(x))
    list = list.filter((c) => {
      const running = c.state.status === 'running' || c.state.status === 'paused' || c.state.status === 'restarting'
      if (!all && limit <= 0 && !f.has('status') && !f.has('exited') && !running) return false
      if (f.has('status') && !f.get('status').includes(c.state.status)) return false
      if (f.has('exited') && (c.state.status !== 'exited' || !f.get('exited').includes(String(c.state.exitCode)))) return false
      if (f.has('id') && !f.get('id').some((x) => c.id.startsWith(x))) return false
      if (f.has('name') && !f.get('name').some((x) => new RegExp(x.replace(/^\//, '')).test(c.name))) return false
      if (!f.matchLabels('label', c.config.labels)) return false
      if (f.has('ancestor') && !f.get('ancestor').some((a) => matchesAncestor(d, c, a))) return false
      if (before.some((b) => Date.parse(c.created) >= Date.parse(b.created))) return false
      if (since.some((s) => Date.parse(c.created) <= Date.parse(s.created))) return false
      if (f.has('network') && !f.get('network').includes(c.hostConfig.networkMode)) return false
      if (f.has('health') && !f.get('health').includes('none')) return false
      return true
    })
    if (limit > 0) list = list.slice(0, limit)
    return list.map(toWireSummary)
  })

  r.add('POST', '/containers/create', async (ctx) => {
    const body = (await readJsonBody<Record<string, unknown>>(ctx.req)) ?? {}
    const { config, hostConfig } = fromWireCreate(body)
    const name = ctx.query.get('name') ?? ''
    const platform = ctx.query.get('platform')
    if (platform && !platform.startsWith('linux')) throw invalid('ERR_PLATFORM', `image with reference ${config.image} was found but does not match the specified platform: wanted ${platform}`)
    const out = await svc().create({ ...(name ? { name } : {}), config, hostConfig })
    ctx.res.writeHead(201, { 'Content-Type': 'application/json' })
    ctx.res.end(JSON.stringify({ Id: out.id, Warnings: out.warnings }))
  })

  r.add('GET', '/containers/{id}/json', (ctx) => toWireInspect(svc().resolve(ctx.params[0]!), ctx.version))

  r.add('POST', '/containers/{id}/start', async (ctx) => {
    if (ctx.query.get('checkpoint')) throw notImplemented('ERR_CHECKPOINT', 'checkpoints are not supported by berthd')
    const r = await svc().start(ctx.params[0]!, { signal: ctx.signal })
    if (r === 'already') { ctx.res.writeHead(304); ctx.res.end(); return }
  })

  r.add('POST', '/containers/{id}/stop', async (ctx) => {
    const t = ctx.query.get('t')
    const out = await svc().stop(ctx.params[0]!, { ...(t !== null && t !== '' ? { timeout: Number(t) } : {}), ...(ctx.query.get('signal') ? { signal: ctx.query.get('signal')! } : {}) })
    if (out === 'not-running') { ctx.res.writeHead(304); ctx.res.end() }
  })

  r.add('POST', '/containers/{id}/restart', async (ctx) => {
    const t = ctx.query.get('t')
    await svc().restart(ctx.params[0]!, { ...(t !== null && t !== '' ? { timeout: Number(t) } : {}), ...(ctx.query.get('signal') ? { signal: ctx.query.get('signal')! } : {}) })
  })

  r.add('POST', '/containers/{id}/kill', async (ctx) => {
    await svc().kill(ctx.params[0]!, ctx.query.get('signal') || 'SIGKILL')
  })

  r.add('POST', '/containers/{id}/pause', async (ctx) => { await svc().pause(ctx.params[0]!, true) })
  r.add('POST', '/containers/{id}/unpause', async (ctx) => { await svc().pause(ctx.params[0]!, false) })

  r.add('POST', '/containers/{id}/wait', async (ctx) => {
    const condition = ctx.query.get('condition') ?? 'not-running'
    const rec = svc().resolve(ctx.params[0]!)
    const waiting = svc().wait(rec.id, condition, ctx.signal)
    // Docker sends the headers at once, so clients know the wait is registered.
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' })
    ctx.res.flushHeaders()
    const out = await waiting
    ctx.res.end(JSON.stringify({ StatusCode: out.statusCode, ...(out.error ? { Error: { Message: out.error } } : {}) }))
  })

  r.add('DELETE', '/containers/{id}', async (ctx) => {
    if (boolParam(ctx.query, 'link')) throw notImplemented('ERR_LINKS', 'links are not implemented in this berthd yet')
    await svc().remove(ctx.params[0]!, { force: boolParam(ctx.query, 'force'), volumes: boolParam(ctx.query, 'v') })
  })

  r.add('POST', '/containers/{id}/rename', async (ctx) => {
    const name = ctx.query.get('name')
    if (!name) throw invalid('ERR_INVALID_NAME', 'Neither old nor new names may be empty')
    await svc().rename(ctx.params[0]!, name)
  })

  r.add('POST', '/containers/{id}/resize', async (ctx) => {
    const rec = svc().resolve(ctx.params[0]!)
    if (rec.state.status !== 'running') throw conflict('ERR_NOT_RUNNING', `Container ${rec.id} is not running`)
    await resize(svc().controlPath(rec.id), Number(ctx.query.get('h') ?? 0), Number(ctx.query.get('w') ?? 0))
  })

  r.add('POST', '/containers/prune', async (ctx) => {
    const f = Filters.parse(ctx.query.get('filters'))
    f.validate(['label', 'label!', 'until'])
    const until = f.get('until').map((u) => parseTimestamp(u))
    const deleted: string[] = []
    for (const c of svc().store.all()) {
      if (c.state.status === 'running' || c.state.status === 'paused' || c.state.status === 'restarting') continue
      if (!f.matchLabels('label', c.config.labels)) continue
      if (until.some((u) => Date.parse(c.created) > u)) continue
      await svc().remove(c.id)
      deleted.push(c.id)
    }
    d.engine.events.emit('container', 'prune', '', { reclaimed: '0' })
    return { ContainersDeleted: deleted.length ? deleted : null, SpaceReclaimed: 0 }
  })

  r.add('GET', '/containers/{id}/top', async (ctx) => {
    const c = svc().resolve(ctx.params[0]!)
    const out = await top(`/berth/${c.id}`, c.state.status === 'running' || c.state.status === 'paused', c.id, ctx.query.get('ps_args') ?? '')
    return { Titles: out.titles, Processes: out.processes }
  })

  r.hijack('POST', '/containers/{id}/attach', (ctx) => attach(ctx, d))
}

function matchesAncestor(d: Daemon, c: ContainerRecord, ancestor: string): boolean {
  try {
    const img = d.engine.images.resolve(ancestor)
    return img.record.id === c.imageId
  } catch {
    return false
  }
}

async function resize(ctlPath: string, h: number, w: number): Promise<void> {
  // conmon's control FIFO: "1 <height> <width>\n" resizes the terminal. Opened non-blocking:
  // a blocking open of a FIFO nobody reads (conmon gone) would hold a thread-pool thread forever
  // and starve every other file operation of the daemon.
  let fh
  try {
    fh = await open(ctlPath, constants.O_WRONLY | constants.O_NONBLOCK)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENXIO' || code === 'ENOENT') return // the monitor is gone: nothing to resize
    throw err
  }
  try {
    await fh.write(`1 ${h} ${w}\n`)
  } finally {
    await fh.close()
  }
}

/** conmon reads its attach socket into a 32 KiB buffer: the longest stdin packet it takes whole. */
const STDIN_PACKET = 32 * 1024
/** stdin held for a container that is not started yet before reading from the client pauses. */
const PENDING_STDIN_MAX = 1 << 20

/** conmon's attach socket carries one byte of stream (2 stdout, 3 stderr) before each message. */
async function attach(ctx: HijackCtx, d: Daemon): Promise<void> {
  const svc = d.engine.containers
  const rec = svc.resolve(ctx.params[0]!)
  const q = ctx.query
  const wantIn = boolParam(q, 'stdin')
  const wantOut = boolParam(q, 'stdout')
  const wantErr = boolParam(q, 'stderr')
  const stream = boolParam(q, 'stream')
  const tty = rec.config.tty
  const detachKeys = parseDetachKeys(q.get('detachKeys') ?? 'ctrl-p,ctrl-q')
  ctx.upgrade(tty || !versionAtLeast({ version: ctx.version } as Ctx, '1.42') ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream')
  const client = ctx.socket
  if (boolParam(q, 'logs')) {
    for await (const r of readLogs(rec.logPath, { stdout: wantOut, stderr: wantErr, follow: false })) client.write(tty ? r.data : frame(r.stream === 'stdout' ? 1 : 2, r.data))
  }
  if (!stream) { client.end(); return }
  d.engine.events.emit('container', 'attach', rec.id, { ...rec.config.labels, image: rec.imageRef, name: rec.name })
  let seq: SeqpacketSocket | undefined
  /** Set once the socket accepts writes: until then stdin waits in `pending`. */
  let connected = false
  let onConnected: () => void = () => {}
  let finished = false
  const finish = () => {
    if (finished) return
    finished = true
    unhook()
    seq?.destroy()
    client.end()
  }
  const connect = (path: string) => new Promise<void>((resolve, reject) => {
    const s = new SeqpacketSocket()
    seq = s
    s.on('data', (buf: Buffer) => {
      if (buf.length < 1) return
      const kind = buf[0]
      const payload = buf.subarray(1)
      if (kind === 2 && wantOut) client.write(tty ? payload : frame(1, payload))
      else if (kind === 3 && wantErr) client.write(tty ? payload : frame(2, payload))
    })
    s.on('end', finish)
    s.on('close', finish)
    s.on('error', (err: Error) => { if (!finished) reject(err); finish() })
    keepReadingAfterReset(s, () => connected, () => setTimeout(finish, 2000).unref())
    try {
      connectSeqpacket(s, path, () => { connected = true; onConnected(); resolve() })
    } catch (err) {
      reject(err)
    }
  })
  // Before start, the monitor's socket does not exist yet: connect when it does.
  const unhook = svc.addAttachHook(rec.id, { connect })
  if (rec.state.status === 'running' || rec.state.status === 'paused') {
    unhook()
    try {
      await connect(svc.attachSocketPath(rec.id))
    } catch {
      finish()
      return
    }
  }
  if (wantIn) {
    // Input that arrives before the container starts waits for the monitor's socket, and must
    // not be written before its 'connect': conmon reads stdin only once the container runs, so
    // early packets would fill the socket, it would never turn writable, the connect would
    // never complete and the start waiting on it would hang (`docker run -i` with big input).
    const pending: Buffer[] = []
    let pendingBytes = 0
    let inputEnded = false
    let matched = 0
    let inFlight = 0
    // Each write is one SOCK_SEQPACKET message and conmon reads at most 32 KiB of one: longer
    // messages would be cut. Reading from the client pauses while packets wait for the kernel.
    const send = (b: Buffer) => {
      if (finished) return // the socket is closed: nothing takes input any more
      for (let off = 0; off < b.length; off += STDIN_PACKET) {
        inFlight++
        seq!.write(b, off, Math.min(STDIN_PACKET, b.length - off), () => {
          if (--inFlight === 0 && !finished) client.resume()
        })
      }
      if (inFlight > 0) client.pause()
    }
    const forward = (b: Buffer) => {
      if (connected) return send(b)
      pending.push(b)
      pendingBytes += b.length
      if (pendingBytes >= PENDING_STDIN_MAX) client.pause()
    }
    const endInput = () => {
      // stdin closed by the client: close the container's stdin unless it stays open for others.
      if (!rec.config.stdinOnce) return
      if (connected) { try { seq!.end() } catch { /* closed */ } } else inputEnded = true
    }
    onConnected = () => {
      for (const b of pending.splice(0)) send(b)
      pendingBytes = 0
      if (inFlight === 0 && !finished) client.resume()
      if (inputEnded) endInput()
    }
    client.on('data', (b: Buffer) => {
      if (tty && detachKeys.length) {
        for (const byte of b) {
          matched = byte === detachKeys[matched] ? matched + 1 : byte === detachKeys[0] ? 1 : 0
          if (matched === detachKeys.length) { finish(); return }
        }
      }
      forward(b)
    })
    client.on('end', endInput)
    if (ctx.head.length) forward(ctx.head)
  }
  client.on('close', finish)
  // When the container stops, the stream ends once the monitor closes its socket.
  void svc.wait(rec.id, 'next-exit').then(() => setTimeout(finish, 50))
}

/**
 * When conmon closes its end with stdin we sent still unread in its queue (the container exited
 * without reading all its input), the kernel flags our socket ECONNRESET although the
 * container's last output is still queued for us. libuv then stops polling it (EBADF) and
 * node-unix-socket destroys it: that output was lost (`yes | docker run -i busybox head -c 10`
 * printed nothing now and then). So once connected, an error does not destroy the socket: a
 * write takes the pending error off it (sendmsg returns and clears it), polling restarts, and
 * the queued output is read up to 'end'. `onReset` arms a fallback in case no 'end' comes.
 * Relies on two internals of node-unix-socket 0.2 (the `_error` event, `wrap.startRecv`); with
 * other versions it keeps the library's behaviour.
 */
function keepReadingAfterReset(s: SeqpacketSocket, isConnected: () => boolean, onReset: () => void): void {
  const library = s.listeners('_error') as Array<(err: Error) => void>
  const wrap = (s as unknown as { wrap?: { startRecv?: () => void } }).wrap
  if (library.length === 0 || typeof wrap?.startRecv !== 'function') return
  s.removeAllListeners('_error')
  let reset = false
  s.on('_error', (err: Error) => {
    if (!isConnected()) {
      for (const l of library) l.call(s, err)
      return
    }
    if (reset) return
    reset = true
    onReset()
    try {
      s.write(Buffer.alloc(0))
      wrap.startRecv!()
    } catch {
      // destroyed meanwhile: nothing more to read
    }
  })
}

/**
 * Connect to a unix socket whose path may not fit `sun_path` (108 bytes, e.g. under a deep
 * exec root): go through `/proc/self/fd/<fd of its directory>`, as conmon does to bind it.
 * The path is resolved by the connect(2) that `connect` makes at once (it throws when the
 * socket is missing), so the directory fd can be closed when it returns.
 */
export function connectSeqpacket(s: SeqpacketSocket, path: string, cb: () => void): void {
  if (Buffer.byteLength(path) < 100) return s.connect(path, cb)
  const dirFd = openSync(dirname(path), constants.O_RDONLY | constants.O_DIRECTORY)
  try {
    s.connect(`/proc/self/fd/${dirFd}/${basename(path)}`, cb)
  } finally {
    closeSync(dirFd)
  }
}

/** `ctrl-p,ctrl-q` → [16, 17]; Docker's detach key syntax. */
export function parseDetachKeys(s: string): number[] {
  if (s === '') return []
  return s.split(',').map((k) => {
    const m = /^ctrl-([a-z@\[\\\]^_])$/.exec(k)
    if (m) return m[1] === '@' ? 0 : m[1]!.charCodeAt(0) <= 0x7a && m[1]! >= 'a' ? m[1]!.charCodeAt(0) - 96 : '@[\\]^_'.indexOf(m[1]!) + 0x1b - 1
    if (k.length === 1) return k.charCodeAt(0)
    throw invalid('ERR_DETACH_KEYS', `Invalid escape keys (${s}) provided`)
  })
}
