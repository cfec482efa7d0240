import { EngineError, type ErrorKind } from '../lib/errors.js'

/** The error codes of the OCI distribution spec (plus distribution's pagination code). */
export type RegistryCode =
  | 'BLOB_UNKNOWN' | 'BLOB_UPLOAD_INVALID' | 'BLOB_UPLOAD_UNKNOWN' | 'DIGEST_INVALID'
  | 'MANIFEST_BLOB_UNKNOWN' | 'MANIFEST_INVALID' | 'MANIFEST_UNKNOWN' | 'NAME_INVALID'
  | 'NAME_UNKNOWN' | 'SIZE_INVALID' | 'UNAUTHORIZED' | 'DENIED' | 'UNSUPPORTED'
  | 'TOOMANYREQUESTS' | 'TAG_INVALID' | 'RANGE_INVALID' | 'PAGINATION_NUMBER_INVALID'

const KIND: Record<RegistryCode, ErrorKind> = {
  BLOB_UNKNOWN: 'NotFound', BLOB_UPLOAD_INVALID: 'InvalidArgument', BLOB_UPLOAD_UNKNOWN: 'NotFound',
  DIGEST_INVALID: 'InvalidArgument', MANIFEST_BLOB_UNKNOWN: 'InvalidArgument', MANIFEST_INVALID: 'InvalidArgument',
  MANIFEST_UNKNOWN: 'NotFound', NAME_INVALID: 'InvalidArgument', NAME_UNKNOWN: 'NotFound',
  SIZE_INVALID: 'InvalidArgument', UNAUTHORIZED: 'Unauthorized', DENIED: 'Forbidden', UNSUPPORTED: 'NotImplemented',
  TOOMANYREQUESTS: 'Unavailable', TAG_INVALID: 'InvalidArgument', RANGE_INVALID: 'InvalidArgument',
  PAGINATION_NUMBER_INVALID: 'InvalidArgument',
}

/** The spec's default message for each code (distribution's wording). */
export const MESSAGES: Record<RegistryCode, string> = {
  BLOB_UNKNOWN: 'blob unknown to registry', BLOB_UPLOAD_INVALID: 'blob upload invalid',
  BLOB_UPLOAD_UNKNOWN: 'blob upload unknown to registry', DIGEST_INVALID: 'provided digest did not match uploaded content',
  MANIFEST_BLOB_UNKNOWN: 'manifest blob unknown to registry', MANIFEST_INVALID: 'manifest invalid',
  MANIFEST_UNKNOWN: 'manifest unknown', NAME_INVALID: 'invalid repository name',
  NAME_UNKNOWN: 'repository name not known to registry', SIZE_INVALID: 'provided length did not match content length',
  UNAUTHORIZED: 'authentication required', DENIED: 'requested access to the resource is denied',
  UNSUPPORTED: 'The operation is unsupported.', TOOMANYREQUESTS: 'too many requests', TAG_INVALID: 'manifest tag did not match URI',
  RANGE_INVALID: 'invalid content range', PAGINATION_NUMBER_INVALID: 'invalid number of results requested',
}

/** A registry error: an EngineError whose code is the spec's code, with optional detail. */
export class RegistryError extends EngineError {
  readonly detail: unknown
  /** An HTTP status this error must carry instead of the code's usual one (413, 416). */
  readonly status: number | undefined
  constructor(code: RegistryCode, message?: string, detail?: unknown, status?: number) {
    super(KIND[code], code, message ?? MESSAGES[code])
    this.detail = detail
    this.status = status
  }
}

export const regErr = (code: RegistryCode, message?: string, detail?: unknown, status?: number) =>
  new RegistryError(code, message, detail, status)

/** The HTTP status of each code (as distribution answers). */
export const STATUS: Record<RegistryCode, number> = {
  BLOB_UNKNOWN: 404, BLOB_UPLOAD_INVALID: 400, BLOB_UPLOAD_UNKNOWN: 404, DIGEST_INVALID: 400,
  MANIFEST_BLOB_UNKNOWN: 400, MANIFEST_INVALID: 400, MANIFEST_UNKNOWN: 404, NAME_INVALID: 400,
  NAME_UNKNOWN: 404, SIZE_INVALID: 400, UNAUTHORIZED: 401, DENIED: 403, UNSUPPORTED: 405,
  TOOMANYREQUESTS: 429, TAG_INVALID: 400, RANGE_INVALID: 416, PAGINATION_NUMBER_INVALID: 400,
}
