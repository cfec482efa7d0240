/** An engine event, as Docker's /events reports them (domain form; api/ maps to the wire). */
export interface EngineEvent {
  type: 'container' | 'image' | 'volume' | 'network' | 'daemon' | 'plugin' | 'builder'
  action: string
  actor: { id: string; attributes: Record<string, string> }
  scope: 'local' | 'swarm'
  /** Nanoseconds since the epoch. */
  timeNano: bigint
}

