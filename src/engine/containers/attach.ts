import { SeqpacketSocket } from 'node-unix-socket'
import type { Duplex } from 'node:stream'
import { constants } from 'node:fs'
import { open } from 'node:fs/promises'
import { conflict, EngineError, errno, invalid } from '../../lib/errors.js'
import { connectSeqpacket } from '../../platform/seqpacket.js'
import type { ContainerService } from './service.js'
import type { ExecService } from '../exec/service.js'
import { frame, readLogFrames } from './logs.js'

/** conmon reads its attach socket into a 32 KiB buffer: the longest stdin packet it takes whole. */
const STDIN_PACKET = 32 * 1024
/** stdin held before the monitor's socket is connected, before reading from the client pauses. */
const PENDING_STDIN_MAX = 1 << 20

export interface JoinOptions {
  /** The hijacked client connection. */
  client: Duplex
  /** Bytes of the client's stream already read (after the request). */
  head?: Buffer
  tty: boolean
  /** Output framing when it differs from `tty`: true for the raw bytes, false for stdcopy frames (an exec start's own Tty). */
  raw?: boolean
  stdin: boolean
  stdout: boolean
  stderr: boolean
  /** Detach key sequence (parsed), honoured on a TTY. */
  detachKeys: number[]
  /** Close the process's stdin when the client's input ends. */
  closeStdinOnEnd: boolean
  /** Leave the client connection open when the monitor closes its socket: the caller ends it. */
  callerEnds?: boolean
}

export interface Joined {
  /** Connect to a monitor's attach socket; stdin waits until this completes. */
  connect(path: string): Promise<void>
  /** End both sides. */
  finish(): void
  readonly finished: Promise<void>
  /** The monitor closed its socket: all output has been passed on. */
  readonly remoteEnded: Promise<void>
  /** The client sent its detach keys (the process runs on). */
  readonly detached: Promise<void>
}

/**
 * Join a hijacked client connection to a conmon attach socket (SOCK_SEQPACKET): each message
 * from conmon carries one byte of stream (2 stdout, 3 stderr) before the data; without a TTY the
 * client gets Docker's stdcopy framing. stdin is written in packets conmon takes whole. Used by
 * container attach and exec start.
 */
export function joinAttach(o: JoinOptions): Joined {
  const { client, tty } = o
  const raw = o.raw ?? tty
  let seq: SeqpacketSocket | undefined
  /** Set once the socket accepts writes: until then stdin waits in `pending`. */
  let connected = false
  let onConnected: () => void = () => {}
  let finished = false
  let resolveFinished: () => void = () => {}
  const finishedP = new Promise<void>((r) => { resolveFinished = r })
  let resolveRemote: () => void = () => {}
  const remoteEnded = new Promise<void>((r) => { resolveRemote = r })
  let resolveDetached: () => void = () => {}
  const detached = new Promise<void>((r) => { resolveDetached = r })
  const finish = () => {
    if (finished) return
    finished = true
    seq?.destroy()
    client.end()
    resolveFinished()
  }
  // The client's detach keys: the client is let go (its side half-closed, as dockerd's
  // CloseWrite) and the process runs on.
  const detach = () => { resolveDetached(); finish(); client.resume() }
  const connect = (path: string) => new Promise<void>((resolve, reject) => {
    const s = new SeqpacketSocket()
    seq = s
    s.on('data', (buf: Buffer) => {
      if (buf.length < 1) return
      const kind = buf[0]
      const payload = buf.subarray(1)
      if (kind === 2 && o.stdout) client.write(raw ? payload : frame(1, payload))
      else if (kind === 3 && o.stderr) client.write(raw ? payload : frame(2, payload))
    })
    const remoteEnd = () => { resolveRemote(); if (!o.callerEnds) finish() }
    s.on('end', remoteEnd)
    s.on('close', remoteEnd)
    s.on('error', (err: Error) => { if (!finished) reject(err); remoteEnd() })
    keepReadingAfterReset(s, () => connected, () => setTimeout(remoteEnd, 2000).unref())
    try {
      connectSeqpacket(s, path, () => { connected = true; onConnected(); resolve() })
    } catch (err) {
      reject(err)
    }
  })
  if (o.stdin) {
    // Input that arrives before the monitor's socket is connected waits, and must not be
    // written before its 'connect': conmon reads stdin only once the process runs, so early
    // packets would fill the socket, it would never turn writable, the connect would never
    // complete and a start waiting on it would hang (`docker run -i` with big input).
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
      // stdin closed by the client: close the process's stdin unless it stays open for others.
      if (!o.closeStdinOnEnd) return
      if (connected) { try { seq!.end() } catch { /* closed */ } } else inputEnded = true
    }
    onConnected = () => {
      for (const b of pending.splice(0)) send(b)
      pendingBytes = 0
      if (inFlight === 0 && !finished) client.resume()
      if (inputEnded) endInput()
    }
    client.on('data', (b: Buffer) => {
      if (finished) return // detached: what the client still sends goes nowhere
      if (tty && o.detachKeys.length) {
        // As dockerd's escape proxy: a key of the sequence counts when it comes alone (a key
        // press, not pasted text); the keys matched so far are held back, and passed on
        // before the next input when the sequence does not complete.
        if (b.length === 1 && b[0] === o.detachKeys[matched]) {
          matched++
          if (matched === o.detachKeys.length) { detach(); return }
          return
        }
        if (matched > 0) {
          b = Buffer.concat([Buffer.from(o.detachKeys.slice(0, matched)), b])
          matched = 0
        }
      }
      forward(b)
    })
    client.on('end', endInput)
    if (o.head?.length) forward(o.head)
  }
  client.on('close', finish)
  return { connect, finish, finished: finishedP, remoteEnded, detached }
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

/**
 * Resize a terminal through conmon's control FIFO ("1 <height> <width>\n"). Opened non-blocking:
 * a blocking open of a FIFO nobody reads (conmon gone) would hold a thread-pool thread forever
 * and starve every other file operation of the daemon. A monitor that is gone: nothing to resize.
 */
export async function resizeTerminal(ctlPath: string, h: number, w: number): Promise<void> {
  let fh
  try {
    fh = await open(ctlPath, constants.O_WRONLY | constants.O_NONBLOCK)
  } catch (err) {
    const code = errno(err)
    if (code === 'ENXIO' || code === 'ENOENT') return
    throw err
  }
  try {
    await fh.write(`1 ${h} ${w}\n`)
  } finally {
    await fh.close()
  }
}

/** `docker resize` of a container: it must be running. */
export async function resizeContainer(svc: Pick<ContainerService, 'resolve' | 'controlPath'>, ref: string, h: number, w: number): Promise<void> {
  const rec = svc.resolve(ref)
  if (rec.state.status !== 'running') throw conflict('ERR_NOT_RUNNING', `Container ${rec.id} is not running`)
  await resizeTerminal(svc.controlPath(rec.id), h, w)
}

export interface AttachRequest {
  stdin: boolean
  stdout: boolean
  stderr: boolean
  logs: boolean
  stream: boolean
  detachKeys: string
}

type AttachServices = Pick<ContainerService, 'resolve' | 'emit' | 'addAttachHook' | 'attachSocketPath' | 'wait'>

/**
 * `docker attach`: the container and the detach keys are checked at once (so the caller can
 * answer an error before upgrading); `run` replays the log when asked, then joins the client to
 * the monitor's attach socket, now or, before start, when the monitor creates it.
 */
export function attachContainer(svc: AttachServices, ref: string, q: AttachRequest): { tty: boolean; run(client: Duplex, head: Buffer): Promise<void> } {
  const rec = svc.resolve(ref)
  const tty = rec.config.tty
  const detachKeys = parseDetachKeys(q.detachKeys)
  return {
    tty,
    run: async (client, head) => {
      if (q.logs && rec.hostConfig.logConfig.type !== 'none') {
        for await (const b of readLogFrames(rec.logPath, { stdout: q.stdout, stderr: q.stderr, follow: false }, { raw: tty, timestamps: false })) {
          // A client gone mid-replay never drains: stop (the log files are closed) rather than wait forever.
          if (client.destroyed) break
          if (!client.write(b)) await new Promise<void>((resolve) => { client.once('drain', resolve); client.once('close', resolve) })
        }
        if (client.destroyed) return
      }
      if (!q.stream) { client.end(); return }
      svc.emit(rec, 'attach')
      const joined = joinAttach({ client, head, tty, stdin: q.stdin, stdout: q.stdout, stderr: q.stderr, detachKeys, closeStdinOnEnd: rec.config.stdinOnce })
      // A request body read before the upgrade left the connection paused: it flows again now
      // that stdin has its reader (and without stdin, so that the client's going away is seen).
      if (typeof client.resume === 'function') client.resume()
      // Before start, the monitor's socket does not exist yet: connect when it does.
      const unhook = svc.addAttachHook(rec.id, { connect: joined.connect })
      void joined.finished.then(unhook)
      if (rec.state.status === 'running' || rec.state.status === 'paused') {
        unhook()
        try {
          await joined.connect(svc.attachSocketPath(rec.id))
        } catch {
          joined.finish()
          return
        }
      }
      // When the container stops, the stream ends once the monitor closes its socket.
      void svc.wait(rec.id, 'next-exit').then(() => setTimeout(joined.finish, 50))
    },
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref())

/**
 * An exec session's stream: the client joined to the session's monitor (stdin only when
 * `stdin`, a hijacked connection). An error once the stream has begun is written into it, as
 * Docker does. Resolves when the process ended and its output was passed on.
 */
export function execStream(exec: Pick<ExecService, 'get' | 'start'>, id: string, opts: { consoleSize?: { height: number; width: number } }): { tty: boolean; run(client: Duplex, o: { head?: Buffer; stdin: boolean; multiplexed: boolean }): Promise<void> } {
  const c = exec.get(id).config
  return {
    tty: c.tty,
    run: async (client, o) => {
      const joined = joinAttach({
        client,
        ...(o.head ? { head: o.head } : {}),
        tty: c.tty,
        raw: !o.multiplexed,
        stdin: o.stdin && c.attachStdin,
        stdout: c.attachStdout,
        stderr: c.attachStderr,
        detachKeys: parseDetachKeys(c.detachKeys || 'ctrl-p,ctrl-q'),
        closeStdinOnEnd: true,
        callerEnds: true,
      })
      // A hijacked body was read with the socket paused: input flows again now that it has a reader.
      if (o.stdin) client.resume()
      try {
        const { ended } = await exec.start(id, { attach: { connect: joined.connect }, ...(opts.consoleSize ? { consoleSize: opts.consoleSize } : {}) })
        // The monitor closes its socket once the process ended and its output was passed on;
        // a client that detached leaves the process running.
        const gone = await Promise.race([ended.then(() => false), joined.detached.then(() => true)])
        if (!gone) await Promise.race([joined.remoteEnded, joined.finished, sleep(1000)])
        joined.finish()
      } catch (err) {
        const msg = err instanceof EngineError ? err.message : String(err)
        client.write(!o.multiplexed ? Buffer.from(`${msg}\r\n`) : frame(1, Buffer.from(`${msg}\r\n`)))
        joined.finish()
      }
    },
  }
}
