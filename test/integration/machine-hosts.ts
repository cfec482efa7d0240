/**
 * SSH hosts made on this machine for machine tests: each host is a network namespace joined
 * to a bridge the lab creates (a private /24 that no route uses), running Debian's sshd with
 * its own host key and authorized key, in a private mount namespace where /etc and /usr/local
 * are overlays and /var/lib/berth, /var/log, /run, /tmp and /root fresh directories, so that what a
 * provisioner installs lands in that host's own tree. `down()` kills every process of the
 * host (by PID), deletes the namespaces, links and bridge, and the temp directory.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, mkdir, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { existsSync } from 'node:fs'

export interface LabHost {
  name: string
  ip: string
  netns: string
  root: string
  sshd: ChildProcess
  hostKeyLine: string
  /** The host's view of a path in its private tree (upper dirs / fresh dirs). */
  upper(path: string): string
}

function sh(cmd: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = execFile(cmd, args, { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout, stderr })
    })
    if (input !== undefined) c.stdin!.end(input)
    else c.stdin!.end()
  })
}

async function must(cmd: string, args: string[]): Promise<string> {
  const r = await sh(cmd, args)
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.stdout}`)
  return r.stdout
}

export function labPrerequisite(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network and mount namespaces)'
  if (!existsSync('/usr/sbin/sshd')) return "needs Debian's openssh-server (/usr/sbin/sshd)"
  for (const b of ['/usr/bin/ssh-keygen', '/usr/sbin/ip', '/usr/bin/unshare', '/usr/bin/nsenter']) if (!existsSync(b)) return `needs ${b}`
  return undefined
}

export class HostLab {
  readonly id = `${process.pid.toString(16).slice(-4)}${Math.floor(Math.random() * 0xff).toString(16).padStart(2, '0')}`
  readonly bridge = `bmbr${this.id}`
  root = ''
  subnet = ''
  clientKey = ''
  clientPub = ''
  readonly hosts: LabHost[] = []
  private links: string[] = []
  private netnses: string[] = []
  private bridgeMade = false

  async init(): Promise<void> {
    // Not under /tmp: each host gets a fresh /tmp, and sshd reads its files from here.
    this.root = await mkdtemp(join('/var/tmp', 'berth-lab-'))
    const routes = await must('ip', ['-4', 'route', 'show', 'table', 'all'])
    const addrs = await must('ip', ['-4', 'addr'])
    for (let tries = 0; tries < 200; tries++) {
      const x = 1 + Math.floor(Math.random() * 250)
      const prefix = `10.213.${x}.`
      if (!routes.includes(prefix) && !addrs.includes(prefix) && !routes.includes('10.213.0.0/16') && !/(^|\s)10\.0\.0\.0\/8/.test(routes)) {
        this.subnet = prefix
        break
      }
    }
    if (!this.subnet) throw new Error('no free 10.213.x.0/24 subnet')
    await must('ip', ['link', 'add', this.bridge, 'type', 'bridge'])
    this.bridgeMade = true
    await must('ip', ['addr', 'add', `${this.subnet}1/24`, 'dev', this.bridge])
    await must('ip', ['link', 'set', this.bridge, 'up'])
    this.clientKey = join(this.root, 'id_ed25519')
    await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'berth-lab-client', '-f', this.clientKey])
    this.clientPub = await readFile(`${this.clientKey}.pub`, 'utf8')
  }

  async addHost(name: string): Promise<LabHost> {
    const n = this.hosts.length + 10
    const ip = `${this.subnet}${n}`
    const netns = `bm${this.id}${name}`
    const r = join(this.root, name)
    for (const d of ['etc-up', 'etc-work', 'ul-up', 'ul-work', 'varlib', 'log', 'run', 'tmp', 'cg', 'roothome']) await mkdir(join(r, d), { recursive: true })
    await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `host-${name}`, '-f', join(r, 'hostkey')])
    await writeFile(join(r, 'authorized_keys'), this.clientPub, { mode: 0o600 })
    await writeFile(join(r, 'sshd_config'), [
      `ListenAddress ${ip}`, 'Port 22', `HostKey ${join(r, 'hostkey')}`, 'PermitRootLogin prohibit-password',
      `AuthorizedKeysFile ${join(r, 'authorized_keys')}`, 'PasswordAuthentication no', 'KbdInteractiveAuthentication no',
      'UsePAM no', 'StrictModes no', 'PidFile none', 'Subsystem sftp /usr/lib/openssh/sftp-server', 'MaxStartups 100:30:200', 'MaxSessions 100', '',
    ].join('\n'))
    await must('ip', ['netns', 'add', netns])
    this.netnses.push(netns)
    const vh = `bmv${this.id}${name}`.slice(0, 15)
    const vp = `bmp${this.id}${name}`.slice(0, 15)
    await must('ip', ['link', 'add', vh, 'type', 'veth', 'peer', 'name', vp])
    this.links.push(vh)
    await must('ip', ['link', 'set', vp, 'netns', netns])
    await must('ip', ['link', 'set', vh, 'master', this.bridge, 'up'])
    const inNs = (...a: string[]) => must('ip', ['-n', netns, ...a])
    await inNs('link', 'set', vp, 'name', 'eth0')
    await inNs('addr', 'add', `${ip}/24`, 'dev', 'eth0')
    await inNs('link', 'set', 'eth0', 'up')
    await inNs('link', 'set', 'lo', 'up')
    await inNs('route', 'add', 'default', 'via', `${this.subnet}1`)
    await writeFile(join(r, 'hostname'), `${name}\n`)
    // The host's private tree, then sshd in the foreground (its PID is the spawned one).
    const script = `set -e
mount --rbind /sys/fs/cgroup ${r}/cg
mount -t sysfs sysfs /sys
mount --rbind ${r}/cg /sys/fs/cgroup
mount -t overlay overlay -o lowerdir=/etc,upperdir=${r}/etc-up,workdir=${r}/etc-work /etc
mount -t overlay overlay -o lowerdir=/usr/local,upperdir=${r}/ul-up,workdir=${r}/ul-work /usr/local
mkdir -p /var/lib/berth
mount --bind ${r}/varlib /var/lib/berth
mount --bind ${r}/log /var/log
mount --bind ${r}/run /run
mount --bind ${r}/tmp /tmp
mount --bind ${r}/roothome /root
mount --bind ${r}/hostname /etc/hostname
mkdir -p /run/sshd /run/netns
chmod 755 /run/sshd
exec /usr/sbin/sshd -D -e -f ${r}/sshd_config`
    const sshd = spawn('nsenter', [`--net=/run/netns/${netns}`, '--', 'unshare', '-m', '--uts', '--propagation', 'private', 'sh', '-c', `hostname ${name}; ${script}`], { stdio: ['ignore', 'ignore', 'pipe'] })
    let log = ''
    sshd.stderr!.on('data', (d) => { log += d })
    const pub = (await readFile(join(r, 'hostkey.pub'), 'utf8')).trim().split(/\s+/)
    const host: LabHost = {
      name, ip, netns, root: r, sshd, hostKeyLine: `${pub[0]} ${pub[1]}`,
      upper: (p: string) => {
        if (p.startsWith('/etc/')) return join(r, 'etc-up', p.slice(5))
        if (p.startsWith('/usr/local/')) return join(r, 'ul-up', p.slice(11))
        if (p.startsWith('/var/lib/berth')) return join(r, 'varlib', p.slice(14))
        if (p.startsWith('/var/log/')) return join(r, 'log', p.slice(9))
        if (p.startsWith('/run/')) return join(r, 'run', p.slice(5))
        throw new Error(`not a private path: ${p}`)
      },
    }
    this.hosts.push(host)
    // Wait for sshd to listen.
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline) {
      if (sshd.exitCode !== null) throw new Error(`sshd for ${name} exited: ${log}`)
      const ok = await new Promise<boolean>((resolve) => {
        const s = require_net().connect({ host: ip, port: 22 }, () => { s.destroy(); resolve(true) })
        s.on('error', () => resolve(false))
      })
      if (ok) return host
      await new Promise((res) => setTimeout(res, 100))
    }
    throw new Error(`sshd for ${name} did not listen: ${log}`)
  }

  /** ssh_config and known_hosts for these hosts (for the system ssh and berth's transport). */
  async writeSshConfig(dir: string): Promise<{ config: string; knownHosts: string }> {
    await mkdir(dir, { recursive: true, mode: 0o700 })
    const knownHosts = join(dir, 'known_hosts')
    const config = join(dir, 'config')
    await writeFile(knownHosts, this.hosts.map((h) => `${h.name},${h.ip} ${h.hostKeyLine}\n`).join(''), { mode: 0o600 })
    await writeFile(config, this.hosts.map((h) => `Host ${h.name}\n  HostName ${h.ip}\n  User root\n  IdentityFile ${this.clientKey}\n  IdentitiesOnly yes\n  UserKnownHostsFile ${knownHosts}\n  StrictHostKeyChecking yes\n  BatchMode yes\n`).join(''), { mode: 0o600 })
    return { config, knownHosts }
  }

  /** Every process of a host: those in its network or mount namespace, and their descendants. */
  async hostPids(h: LabHost): Promise<number[]> {
    const pid = h.sshd.pid
    if (!pid) return []
    let mntNs: string | undefined
    let netNs: string | undefined
    try {
      mntNs = await readlink(`/proc/${pid}/ns/mnt`)
      netNs = await readlink(`/proc/${pid}/ns/net`)
    } catch {
      // sshd already gone: find the rest through the network namespace.
    }
    const nsPids = new Set((await sh('ip', ['netns', 'pids', h.netns])).stdout.split('\n').filter(Boolean).map(Number))
    const all: Array<{ pid: number; ppid: number }> = []
    for (const e of await readdir('/proc')) {
      if (!/^\d+$/.test(e)) continue
      const p = Number(e)
      try {
        const stat = await readFile(`/proc/${p}/stat`, 'utf8')
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
        all.push({ pid: p, ppid })
        const [m, nn] = await Promise.all([readlink(`/proc/${p}/ns/mnt`).catch(() => ''), readlink(`/proc/${p}/ns/net`).catch(() => '')])
        if ((mntNs && m === mntNs) || (netNs && nn === netNs)) nsPids.add(p)
      } catch {
        continue
      }
    }
    let grew = true
    while (grew) {
      grew = false
      for (const { pid: p, ppid } of all) if (!nsPids.has(p) && nsPids.has(ppid)) { nsPids.add(p); grew = true }
    }
    nsPids.delete(process.pid)
    return [...nsPids]
  }

  async down(): Promise<void> {
    for (const h of this.hosts) {
      for (let round = 0; round < 3; round++) {
        const pids = await this.hostPids(h)
        if (!pids.length) break
        for (const p of pids) {
          try { process.kill(p, 'SIGKILL') } catch { /* already gone */ }
        }
        await new Promise((r) => setTimeout(r, 200))
      }
    }
    for (const ns of this.netnses) await sh('ip', ['netns', 'del', ns])
    for (const l of this.links) await sh('ip', ['link', 'del', l])
    if (this.bridgeMade) await sh('ip', ['link', 'del', this.bridge])
    if (this.root) await rm(this.root, { recursive: true, force: true })
  }
}

import { createRequire } from 'node:module'
const require_net = () => createRequire(import.meta.url)('node:net') as typeof import('node:net')
