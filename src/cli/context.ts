import { homedir } from 'node:os'
import { join } from 'node:path'
import { EngineClient, DEFAULT_HOST, type TlsOptions } from '../client/client.js'
import type { FlagValues } from './flags.js'

/** What a command runner gets: its parsed flags and args, the client, and the streams. */
export interface CliContext {
  /** `berth images`, `berth image ls`: as typed, for messages. */
  commandPath: string
  flags: FlagValues
  args: string[]
  global: FlagValues
  client(): EngineClient
  configDir: string
  out: NodeJS.WriteStream
  err: NodeJS.WriteStream
}

/** A command failed with a message and an exit status (printed as is). */
export class CliExit extends Error {
  constructor(readonly status: number, message = '') {
    super(message)
  }
}

export function configDirOf(global: FlagValues): string {
  return (global.config as string | undefined) || process.env.DOCKER_CONFIG || join(homedir(), '.docker')
}

export function resolveHost(global: FlagValues): string {
  const hosts = global.host as string[] | undefined
  if (hosts && hosts.length > 1) throw new CliExit(1, 'Specify only one -H')
  return hosts?.[0] || process.env.BERTH_HOST || process.env.DOCKER_HOST || DEFAULT_HOST
}

export function makeClient(global: FlagValues): EngineClient {
  const host = resolveHost(global)
  const certPath = process.env.DOCKER_CERT_PATH || configDirOf(global)
  const verify = !!global.tlsverify || (!!process.env.DOCKER_TLS_VERIFY && process.env.DOCKER_TLS_VERIFY !== '0')
  const useTls = verify || !!global.tls || !!process.env.DOCKER_TLS
  let tls: TlsOptions | undefined
  if (useTls) {
    const ca = (global.tlscacert as string) || join(certPath, 'ca.pem')
    const cert = (global.tlscert as string) || join(certPath, 'cert.pem')
    const key = (global.tlskey as string) || join(certPath, 'key.pem')
    tls = { verify, ...(verify ? { ca } : {}), ...existing({ cert, key }) }
  }
  return new EngineClient({ host, ...(tls ? { tls } : {}), ...(process.env.DOCKER_API_VERSION ? { version: process.env.DOCKER_API_VERSION } : {}) })
}

function existing(files: { cert: string; key: string }): { cert?: string; key?: string } {
  // Client certificates are optional with --tls; required files are reported by the TLS layer.
  return files
}
