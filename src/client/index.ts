/**
 * Berth's Engine API client for other programs (as dockerode is): `new Docker({ host })` with typed
 * methods per endpoint, the transport underneath, and the wire types.
 */
export { Docker, isNotFound, isConflict, splitRef, type CallOpts, type OnProgress } from './sdk.js'
export { EngineClient, ApiError, ConnectError, CLIENT_API_VERSION, DEFAULT_HOST, demuxer, readLines, readAll, type ClientOptions, type TlsOptions, type RequestOpts, type Response } from './client.js'
export type * from './types.js'
