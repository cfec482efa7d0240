import type { LifecycleListener } from './service.js'
import type { ContainerRecord, HostConfig } from './types.js'

export type LogConfig = HostConfig['logConfig']

/** The daemon's defaults (`log-driver`, `log-opts` of daemon.json). */
export interface LogDefaults {
  type: string
  config: Record<string, string>
}

/** Validate a container's log driver and options and fill in the daemon's defaults. (Scaffold: to be completed.) */
export function resolveLogConfig(cfg: LogConfig, _defaults?: LogDefaults): LogConfig {
  return cfg
}

/** What conmon is told about the log: its hard size cap. (Scaffold: to be completed.) */
export function monitorLogOptions(_cfg: LogConfig): { logSizeMax?: number } {
  return {}
}

/** Rotates running containers' logs. (Scaffold: to be completed.) */
export class LogRotator implements LifecycleListener {
  constructor(readonly log: (msg: string) => void) {}
  running(_rec: ContainerRecord): void {}
  stopped(_rec: ContainerRecord): void {}
}
