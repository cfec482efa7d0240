import { internal } from '../lib/errors.js'
import { run } from './exec.js'

/**
 * The `bridge` tool of iproute2 (forwarding database entries of VXLAN devices), in batches:
 * `bridge [-n <netns>] [-force] -batch -`, one command a line.
 */
export async function bridgeBatch(lines: string[], opts: { netns?: string; force?: boolean } = {}): Promise<void> {
  if (lines.length === 0) return
  const args = [...(opts.netns ? ['-n', opts.netns] : []), ...(opts.force ? ['-force'] : []), '-batch', '-']
  const r = await run('bridge', args, { input: lines.join('\n') + '\n' })
  if (r.code !== 0 && !opts.force) throw internal('ERR_IP', `bridge: ${r.stderr.trim() || `exit status ${r.code}`}`)
}
