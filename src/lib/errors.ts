/**
 * The one error type of the engine. A kind says what class of failure it is (the API maps it
 * to an HTTP status, the CLI to an exit code); a code is stable and machine-readable; the
 * message uses Docker's words where clients parse it.
 */
export type ErrorKind =
  | 'NotFound'
  | 'Conflict'
  | 'InvalidArgument'
  | 'Unauthorized'
  | 'Forbidden'
  | 'Unavailable'
  | 'NotImplemented'
  | 'NotModified'
  | 'Internal'
  | 'Canceled'

export class EngineError extends Error {
  readonly kind: ErrorKind
  readonly code: string

  constructor(kind: ErrorKind, code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'EngineError'
    this.kind = kind
    this.code = code
  }
}

/** True when err, or any error in its `cause` chain, is an EngineError of this kind. */
export function isKind(err: unknown, kind: ErrorKind): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 16; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof EngineError && e.kind === kind) return true
  }
  return false
}

/** The first EngineError in the cause chain, if any. */
export function findEngineError(err: unknown): EngineError | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 16; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof EngineError) return e
  }
  return undefined
}

/** Node's system error code (ENOENT, EEXIST...) when err is one. */
export function errno(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

export function isNotFoundErrno(err: unknown): boolean {
  return errno(err) === 'ENOENT'
}

export const notFound = (code: string, message: string) => new EngineError('NotFound', code, message)
export const conflict = (code: string, message: string) => new EngineError('Conflict', code, message)
export const invalid = (code: string, message: string) => new EngineError('InvalidArgument', code, message)
export const notImplemented = (code: string, message: string) => new EngineError('NotImplemented', code, message)
export const internal = (code: string, message: string, cause?: unknown) =>
  new EngineError('Internal', code, message, { cause })
