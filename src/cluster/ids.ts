import { randomBytes } from 'node:crypto'

/**
 * A swarm object ID as swarmkit makes them (node, service, task, secret, config, network):
 * 128 random bits written in base 36, left-padded with zeros to 25 characters.
 */
export function newId(): string {
  return toBase36(randomBytes(16), 25)
}

/** Big-endian bytes as a base-36 number, zero-padded on the left to `width` digits. */
export function toBase36(bytes: Uint8Array, width: number): string {
  let n = 0n
  for (const b of bytes) n = (n << 8n) | BigInt(b)
  return n.toString(36).padStart(width, '0')
}

export function isId(s: string): boolean {
  return /^[0-9a-z]{25}$/.test(s)
}
