import { spawnSync } from 'node:child_process'
import { readFile, readdir, writeFile } from 'node:fs/promises'
import { internal, isNotFoundErrno } from '../lib/errors.js'
import { run } from './exec.js'

/**
 * The OS side of container networking: `ip` (in batches), `iptables-restore`, named network
 * namespaces and sysctls. Every function spawns at most one process.
 */

const NETNS_DIR = '/run/netns'

/** Run `ip -batch -` (optionally `-n <netns>`), one command a line; `-force` goes on past errors. */
export async function ipBatch(lines: string[], opts: { netns?: string; force?: boolean } = {}): Promise<void> {
  if (lines.length === 0) return
  const args = [...(opts.netns ? ['-n', opts.netns] : []), ...(opts.force ? ['-force'] : []), '-batch', '-']
  const r = await run('ip', args, { input: lines.join('\n') + '\n' })
  if (r.code !== 0 && !opts.force) throw internal('ERR_IP', `ip: ${r.stderr.trim() || `exit status ${r.code}`}`)
}

/** One `ip` command; the exit code and stderr are returned, not thrown. */
export async function ip(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run('ip', args)
}

/** Feed rules to `iptables-restore --noflush`: only the chains declared in the input are flushed. */
export async function iptablesRestore(input: string): Promise<void> {
  const r = await run('iptables-restore', ['-w', '--noflush'], { input })
  if (r.code !== 0) throw internal('ERR_IPTABLES', `iptables-restore: ${r.stderr.trim() || `exit status ${r.code}`}\n${input}`)
}

/**
 * Inside a named netns: set sysctls (`key=value`, under /proc/sys/net of that namespace) and
 * load a whole iptables table set with `iptables-restore` (its own tables only). One `ip netns exec`.
 */
export async function netnsFirewall(netns: string, sysctls: string[], input: string): Promise<void> {
  const script = [...sysctls.map((kv) => { const [k = '', v = ''] = kv.split('='); return `echo ${v} > /proc/sys/${k.replace(/\./g, '/')}` }), 'exec iptables-restore -w'].join(' && ')
  const r = await run('ip', ['netns', 'exec', netns, 'sh', '-c', script], { input })
  if (r.code !== 0) throw internal('ERR_IPTABLES', `iptables-restore in ${netns}: ${r.stderr.trim() || `exit status ${r.code}`}`)
}

/** One iptables command; returns its exit code (for -C checks). */
export async function iptables(args: string[]): Promise<{ code: number; stderr: string }> {
  const r = await run('iptables', ['-w', ...args])
  return { code: r.code, stderr: r.stderr }
}

/** The lines of `iptables -S` for a table (chain definitions and rules). */
export async function iptablesSave(table: string): Promise<string[]> {
  const r = await run('iptables', ['-w', '-t', table, '-S'])
  if (r.code !== 0) throw internal('ERR_IPTABLES', `iptables -S: ${r.stderr.trim()}`)
  return r.stdout.split('\n').filter(Boolean)
}

/** Names of the named network namespaces (`ip netns`), read from /run/netns. */
export async function listNetns(): Promise<string[]> {
  try {
    return await readdir(NETNS_DIR)
  } catch (err) {
    if (isNotFoundErrno(err)) return []
    throw err
  }
}

export const netnsPath = (name: string): string => `${NETNS_DIR}/${name}`

/** Write a sysctl under /proc/sys (path with slashes, e.g. net/ipv4/ip_forward). */
export async function setSysctl(path: string, value: string): Promise<void> {
  const file = `/proc/sys/${path}`
  try {
    if ((await readFile(file, 'utf8')).trim() === value) return
  } catch (err) {
    if (!isNotFoundErrno(err)) throw err
  }
  await writeFile(file, value)
}

/** IPv4 destinations of the host's routes (main table), as CIDR strings. */
export async function hostRoutes(): Promise<string[]> {
  const r = await run('ip', ['-4', '-j', 'route', 'show', 'table', 'all'])
  if (r.code !== 0) return []
  const list = JSON.parse(r.stdout || '[]') as Array<{ dst?: string; type?: string }>
  return list.filter((x) => x.dst && x.dst !== 'default' && (!x.type || x.type === 'unicast')).map((x) => (x.dst!.includes('/') ? x.dst! : `${x.dst}/32`))
}

/** The IPv4 addresses (with prefix) of every link of the host, down ones included (`ip -j addr`). */
export async function hostAddresses(): Promise<string[]> {
  const r = await run('ip', ['-4', '-j', 'addr', 'show'])
  if (r.code !== 0) return []
  const list = JSON.parse(r.stdout || '[]') as Array<{ addr_info?: Array<{ local?: string; prefixlen?: number; family?: string }> }>
  return list.flatMap((l) => (l.addr_info ?? []).filter((a) => a.local && a.family !== 'inet6').map((a) => `${a.local}/${a.prefixlen ?? 32}`))
}

/** The host's /etc/resolv.conf text ('' when absent). */
export async function hostResolvConf(): Promise<string> {
  try {
    return await readFile('/etc/resolv.conf', 'utf8')
  } catch (err) {
    if (isNotFoundErrno(err)) return ''
    throw err
  }
}

/** Names of the links of a kind (`bridge`, `veth`) in the host namespace. */
export async function listLinks(kind: string): Promise<string[]> {
  const r = await run('ip', ['-j', 'link', 'show', 'type', kind])
  if (r.code !== 0) return []
  return (JSON.parse(r.stdout || '[]') as Array<{ ifname: string }>).map((l) => l.ifname)
}

/** The host's /etc/hosts text (a localhost line when absent or unreadable). */
export async function hostEtcHosts(): Promise<string> {
  return readFile('/etc/hosts', 'utf8').catch(() => '127.0.0.1\tlocalhost\n')
}

/** One `ip` command run synchronously, output ignored (clean-up at process exit, where nothing async runs). */
export function ipSync(args: string[]): number | null {
  return spawnSync('ip', args, { stdio: 'ignore' }).status
}

/** `iptables -S` of a table run synchronously (clean-up at process exit); [] when it fails. */
export function iptablesSaveSync(table: string): string[] {
  const r = spawnSync('iptables', ['-w', '-t', table, '-S'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  return r.status === 0 ? r.stdout.split('\n').filter(Boolean) : []
}

/** `iptables-restore --noflush` run synchronously (clean-up at process exit). */
export function iptablesRestoreSync(input: string): number | null {
  return spawnSync('iptables-restore', ['-w', '--noflush'], { input, stdio: ['pipe', 'ignore', 'ignore'] }).status
}

/** The network namespace of a process (a `container:` mode target without a named one). */
export const processNetnsPath = (pid: number): string => `/proc/${pid}/ns/net`
