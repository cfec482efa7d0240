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

/**
 * Inside a named netns: `iptables-restore --noflush` of `input` (only the chains it declares are
 * flushed), then each `jumps` rule (`-t <table> <chain> <rule...>`) inserted first in its chain
 * unless it is there. One `ip netns exec`.
 */
export async function netnsRestoreWithJumps(netns: string, input: string, jumps: { table: string; rule: string }[]): Promise<void> {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`
  const script = ['iptables-restore -w --noflush', ...jumps.map((j) => {
    const [chain = '', ...rest] = j.rule.split(' ')
    const args = rest.map(q).join(' ')
    return `(iptables -w -t ${q(j.table)} -C ${q(chain)} ${args} 2>/dev/null || iptables -w -t ${q(j.table)} -I ${q(chain)} 1 ${args})`
  })].join(' && ')
  const r = await run('ip', ['netns', 'exec', netns, 'sh', '-c', script], { input })
  if (r.code !== 0) throw internal('ERR_IPTABLES', `iptables in ${netns}: ${r.stderr.trim() || `exit status ${r.code}`}`)
}

/** The same in the current namespace (the host's): restore, then the jumps inserted once. */
export async function restoreWithJumps(input: string, jumps: { table: string; rule: string }[]): Promise<void> {
  const restore = await run('iptables-restore', ['-w', '--noflush'], { input })
  if (restore.code !== 0) throw internal('ERR_IPTABLES', `iptables-restore: ${restore.stderr.trim() || `exit status ${restore.code}`}`)
  for (const j of jumps) {
    const [chain = '', ...rest] = j.rule.split(' ')
    const check = await run('iptables', ['-w', '-t', j.table, '-C', chain, ...rest])
    if (check.code === 0) continue
    const ins = await run('iptables', ['-w', '-t', j.table, '-I', chain, '1', ...rest])
    if (ins.code !== 0) throw internal('ERR_IPTABLES', `iptables -I ${chain}: ${ins.stderr.trim()}`)
  }
}

/** Remove jump rules (every copy) and then the chains they lead to, in the current namespace; errors ignored. */
export async function removeJumpsAndChains(jumps: { table: string; rule: string }[], chains: { table: string; chain: string }[]): Promise<void> {
  for (const j of jumps) {
    const [chain = '', ...rest] = j.rule.split(' ')
    for (let i = 0; i < 8; i++) if ((await run('iptables', ['-w', '-t', j.table, '-D', chain, ...rest])).code !== 0) break
  }
  for (const c of chains) {
    await run('iptables', ['-w', '-t', c.table, '-F', c.chain])
    await run('iptables', ['-w', '-t', c.table, '-X', c.chain])
  }
}
