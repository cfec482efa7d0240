import type { ServerResponse } from 'node:http'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { EngineError } from '../lib/errors.js'

/**
 * Streamed answers that survive the client going away at any byte: the producer is destroyed
 * (never left writing into a closed socket or waiting for a 'drain' that cannot come), and no
 * stream is left without an 'error' listener, so a disconnect is never an uncaught exception.
 */

const clientGone = () => new EngineError('Canceled', 'ERR_CLIENT_GONE', 'client disconnected')

/** The answer can no longer reach the client. */
export function responseGone(res: ServerResponse): boolean {
  return res.destroyed || res.writableEnded || !!res.socket?.destroyed
}

/**
 * A chunk writer with backpressure for a producer that pushes (save, JSON progress): resolves
 * when the chunk is taken, rejects with ERR_CLIENT_GONE once the client has gone, instead of
 * waiting forever for a 'drain' a closed socket never emits.
 */
export function responseWriter(res: ServerResponse): (chunk: Buffer | string) => Promise<void> {
  res.on('error', () => {})
  return (chunk) => {
    if (responseGone(res)) return Promise.reject(clientGone())
    if (res.write(chunk)) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        res.off('drain', onDrain)
        res.off('close', onClose)
        if (err) reject(err)
        else resolve()
      }
      const onDrain = () => done()
      const onClose = () => done(clientGone())
      res.once('drain', onDrain)
      res.once('close', onClose)
    })
  }
}

/**
 * Pipe a readable producer into the answer. The client going away destroys the producer and
 * resolves quietly; a producer's own error before the first byte is thrown (a proper error
 * answer), after it the connection is cut as Docker does.
 */
export async function pipeToResponse(res: ServerResponse, src: Readable, signal?: AbortSignal): Promise<void> {
  res.on('error', () => {})
  src.on('error', () => {})
  try {
    await pipeline(src, res, signal ? { signal } : {})
  } catch (err) {
    if (signal?.aborted || responseGone(res)) return
    throw err
  } finally {
    if (!src.destroyed) src.destroy()
  }
}
