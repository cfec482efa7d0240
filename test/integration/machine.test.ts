import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, writeFile, readFile, readdir, stat, lstat, chmod, copyFile, rename } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { BERTH, fixture, runCmd, type RunResult } from './harness.js'
import { HostLab, labPrerequisite, type LabHost } from './machine-hosts.js'
import { muxSocketPath } from '../../src/client/ssh-mux.js'

// `berth machine` against SSH hosts made on this machine (network + mount namespaces running
// Debian's sshd), then the real docker CLI against what it provisioned: over TLS with
// `eval $(berth machine env h1)`, and over SSH with a docker context.

const missing = labPrerequisite() ?? (() => {
  try {
    execFileSync('docker', ['--version'], { stdio: 'ignore' })
    return undefined
  } catch {
    return 'needs the docker CLI'
  }
})()

const lab = new HostLab()
let h1: LabHost
let h2: LabHost
let home: string
let env: Record<string, string>

before(async () => {
  if (missing) return
  await lab.init()
  h1 = await lab.addHost('h1')
  h2 = await lab.addHost('h2')
  home = join(lab.root, 'home')
  const ssh = await lab.writeSshConfig(join(home, '.ssh'))
  // The default key too, for hosts named by address (not in ~/.ssh/config).
  await copyFile(lab.clientKey, join(home, '.ssh', 'id_ed25519'))
  await chmod(join(home, '.ssh', 'id_ed25519'), 0o600)
  // docker runs the system ssh: a wrapper first in PATH gives it this lab's config.
  const bin = join(lab.root, 'bin')
  await mkdir(bin, { recursive: true })
  await writeFile(join(bin, 'ssh'), `#!/bin/sh\nexec /usr/bin/ssh -F ${ssh.config} "$@"\n`)
  await chmod(join(bin, 'ssh'), 0o755)
  env = {
    HOME: home,
    PATH: `${bin}:${process.env.PATH}`,
    DOCKER_CONFIG: join(home, '.docker'),
    DOCKER_HOST: '', BERTH_HOST: '', DOCKER_CONTEXT: '', DOCKER_TLS_VERIFY: '', DOCKER_CERT_PATH: '', DOCKER_MACHINE_NAME: '',
    SSH_AUTH_SOCK: '',
  }
})

after(async () => {
  if (missing) return
  if (home) await stopMuxes(home)
  await lab.down()
})

const berth = (args: string[], extra: Record<string, string> = {}, input?: string) => runCmd(process.execPath, [BERTH, ...args], { env: { ...env, ...extra }, timeoutMs: 300_000, ...(input !== undefined ? { input } : {}) })
const docker = (args: string[], extra: Record<string, string> = {}) => runCmd('docker', args, { env: { ...env, ...extra }, timeoutMs: 120_000 })
const ok = (r: RunResult, what: string) => assert.equal(r.code, 0, `${what}: ${r.stderr}${r.stdout}`)

function parseEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const m of text.matchAll(/^export (\w+)="(.*)"$/gm)) out[m[1]!] = m[2]!
  return out
}

/** Present in the host's private tree (an overlay whiteout, a removed lower file, is absent). */
async function present(path: string): Promise<boolean> {
  try {
    const st = await lstat(path)
    return !(st.isCharacterDevice() && st.rdev === 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw err
  }
}

/** End the ssh muxes the CLI started for this test's HOME (by PID), so hosts can be removed cleanly. */
async function stopMuxes(home: string): Promise<void> {
  const pids: number[] = []
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue
    try {
      const cmd = await readFile(`/proc/${e}/cmdline`, 'utf8')
      if (!cmd.includes('\0ssh-mux\0')) continue
      const environ = await readFile(`/proc/${e}/environ`, 'utf8')
      if (environ.split('\0').includes(`HOME=${home}`)) pids.push(Number(e))
    } catch { /* exited */ }
  }
  for (const pid of pids) process.kill(pid, 'SIGTERM')
  for (let i = 0; i < 50 && pids.some((p) => existsSync(`/proc/${p}`)); i++) await new Promise((r) => setTimeout(r, 100))
}

async function assertClean(h: LabHost): Promise<void> {
  for (const p of ['/usr/local/lib/berth', '/usr/local/bin/berth', '/usr/local/bin/berthd', '/usr/local/bin/docker', '/etc/berth', '/run/berth', '/run/berth-machine', '/var/log/berthd.log', '/run/docker.sock']) {
    assert.equal(await present(h.upper(p)), false, `${h.name}: ${p} is left on the host`)
  }
  assert.deepEqual(await readdir(h.upper('/var/lib/berth')), [], `${h.name}: the data root is not empty`)
  const procs = (await lab.hostPids(h)).filter((p) => p !== h.sshd.pid)
  const cmds = await Promise.all(procs.map((p) => readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => '')))
  assert.equal(cmds.filter((c) => /berthd|conmon|supervise/.test(c)).length, 0, `${h.name}: engine processes left: ${cmds.join(' | ')}`)
}

test('machine create provisions two hosts; docker reaches them over TLS and over SSH; rm leaves them clean', { skip: missing ?? false, timeout: 1_200_000 }, async () => {
  const create = (h: LabHost, extra: string[] = []) => berth(['machine', 'create', '--driver', 'generic', '--generic-ip-address', h.ip, '--generic-ssh-user', 'root', '--generic-ssh-key', lab.clientKey, '--engine-label', `lab=${h.name}`, ...extra, h.name])
  const [c1, c2] = await Promise.all([create(h1), create(h2)])
  ok(c1, 'create h1')
  ok(c2, 'create h2')
  assert.match(c1.stdout, /Provisioning with Debian GNU\/Linux/)
  assert.match(c1.stdout, /Berth is up and running!/)
  const mdir = join(home, '.berth', 'machine', 'machines', 'h1')
  for (const f of ['key.pem', 'server-key.pem', 'config.json']) assert.equal(((await stat(join(mdir, f))).mode & 0o777).toString(8), '600', f)
  const dup = await create(h1)
  assert.deepEqual([dup.code, dup.stderr], [1, 'Host already exists: "h1"\n'])

  // What landed on the host: in its own /usr/local, /etc and /run; the engine serves /var/run/docker.sock.
  assert.ok(existsSync(h1.upper('/usr/local/lib/berth/dist/src/daemon/main.js')))
  assert.ok(existsSync(h1.upper('/etc/berth/machine/server-key.pem')))
  assert.ok(existsSync(h1.upper('/run/docker.sock')))
  const { certificateInfo } = await import('../../src/lib/pki.js')
  const sans = certificateInfo(await readFile(join(mdir, 'server.pem'), 'utf8'))
  assert.ok(sans.ipAddresses.includes(h1.ip), `server cert SANs: ${sans.ipAddresses}`)
  assert.ok(sans.dnsNames.includes('h1'))

  // ls, ip, url, status, config, inspect.
  const ls = await berth(['machine', 'ls'])
  ok(ls, 'ls')
  const lines = ls.stdout.trim().split('\n')
  assert.match(lines[0]!, /^NAME\s+ACTIVE\s+DRIVER\s+STATE\s+URL\s+ENGINE\s+ERRORS$/)
  assert.match(lines[1]!, new RegExp(`^h1\\s+-\\s+generic\\s+Running\\s+tcp://${h1.ip.replace(/\./g, '\\.')}:2376\\s+v\\d`))
  assert.match(lines[2]!, /^h2\s+-\s+generic\s+Running\s+tcp:/)
  assert.equal((await berth(['machine', 'ls', '-q', '--filter', 'name=h2'])).stdout, 'h2\n')
  assert.equal((await berth(['machine', 'ls', '--filter', 'label=lab=h1', '--format', '{{.Name}} {{.State}}'])).stdout, 'h1 Running\n')
  assert.equal((await berth(['machine', 'ls', '--filter', 'state=Stopped', '-q'])).stdout, '')
  assert.equal((await berth(['machine', 'ip', 'h1', 'h2'])).stdout, `${h1.ip}\n${h2.ip}\n`)
  assert.equal((await berth(['machine', 'url', 'h1'])).stdout, `tcp://${h1.ip}:2376\n`)
  assert.equal((await berth(['machine', 'status', 'h1'])).stdout, 'Running\n')
  assert.equal((await berth(['machine', 'inspect', '--format', '{{.Driver.IPAddress}} {{.DriverName}}', 'h1'])).stdout, `${h1.ip} generic\n`)
  assert.match((await berth(['machine', 'config', 'h1'])).stdout, new RegExp(`--tlsverify\\n--tlscacert="${mdir}/ca.pem"\\n--tlscert="${mdir}/cert.pem"\\n--tlskey="${mdir}/key.pem"\\n-H=tcp://${h1.ip}:2376\\n`))
  const missingHost = await berth(['machine', 'ip', 'nope'])
  assert.deepEqual([missingHost.code, missingHost.stderr], [1, 'Host does not exist: "nope"\n'])

  // env: docker-machine's output, each shell.
  const e = await berth(['machine', 'env', '--shell', 'bash', 'h1'])
  ok(e, 'env')
  assert.equal(e.stdout, `export DOCKER_TLS_VERIFY="1"\nexport DOCKER_HOST="tcp://${h1.ip}:2376"\nexport DOCKER_CERT_PATH="${mdir}"\nexport DOCKER_MACHINE_NAME="h1"\n# Run this command to configure your shell: \n# eval $(berth machine env --shell bash h1)\n`)
  assert.match((await berth(['machine', 'env', '--shell', 'fish', 'h1'])).stdout, /^set -gx DOCKER_TLS_VERIFY "1";\n/)
  assert.match((await berth(['machine', 'env', '--shell', 'powershell', 'h1'])).stdout, /^\$Env:DOCKER_TLS_VERIFY = "1"\n/)
  assert.match((await berth(['machine', 'env', '--shell', 'cmd', 'h1'])).stdout, /^SET DOCKER_TLS_VERIFY=1\n/)
  assert.equal((await berth(['machine', 'env', '--shell', 'bash', '-u'])).stdout, 'unset DOCKER_TLS_VERIFY\nunset DOCKER_HOST\nunset DOCKER_CERT_PATH\nunset DOCKER_MACHINE_NAME\n# Run this command to configure your shell: \n# eval $(berth machine env --shell bash -u)\n')
  assert.match((await berth(['machine', 'env', '--shell', 'bash', '--no-proxy', 'h1'], { NO_PROXY: 'example.com' })).stdout, new RegExp(`export NO_PROXY="example.com,${h1.ip.replace(/\./g, '\\.')}"\\n`))

  // The real docker CLI over TLS, with eval $(berth machine env h1).
  const tlsEnv = parseEnv(e.stdout)
  const v = await docker(['version', '--format', '{{.Server.Version}} {{.Server.Os}}'], tlsEnv)
  ok(v, 'docker version over TLS')
  assert.match(v.stdout, /^\d+\.\d+\.\d+ linux\n$/)
  ok(await docker(['load', '-i', await fixture('busybox')], tlsEnv), 'docker load')
  const run = await docker(['run', '--name', 'tls-ctr', 'busybox', 'cat', '/etc/hostname'], tlsEnv)
  ok(run, 'docker run over TLS')
  const ps = await docker(['ps', '-a', '--format', '{{.Names}} {{.Status}}'], tlsEnv)
  ok(ps, 'docker ps over TLS')
  assert.match(ps.stdout, /^tls-ctr Exited \(0\)/m)
  assert.equal((await berth(['machine', 'ls', '--format', '{{.Name}} {{.Active}}', '--filter', 'name=h1'], { DOCKER_HOST: tlsEnv.DOCKER_HOST! })).stdout, 'h1 *\n')

  // A client certificate from another CA is refused.
  const { createCA, createClientCert } = await import('../../src/lib/pki.js')
  const otherCa = await createCA({ commonName: 'intruder' })
  const intruder = await createClientCert(otherCa, { commonName: 'intruder' })
  const wrong = join(lab.root, 'wrong-certs')
  await mkdir(wrong)
  await copyFile(join(mdir, 'ca.pem'), join(wrong, 'ca.pem'))
  await writeFile(join(wrong, 'cert.pem'), intruder.certPem)
  await writeFile(join(wrong, 'key.pem'), intruder.keyPem, { mode: 0o600 })
  const refused = await docker(['ps'], { ...tlsEnv, DOCKER_CERT_PATH: wrong })
  assert.notEqual(refused.code, 0, 'a client certificate from another CA was accepted')
  assert.match(refused.stderr, /certificate|tls|remote error/i)
  const noCert = await runCmd('curl', ['-sk', '--max-time', '10', `https://${h1.ip}:2376/_ping`], { env })
  assert.notEqual(noCert.stdout, 'OK', 'the engine answered a client without a certificate')

  // The docker CLI's own ssh context: it runs `docker system dial-stdio` on h2, which reaches
  // berthd on /var/run/docker.sock there.
  ok(await docker(['context', 'create', 'h2', '--docker', 'host=ssh://root@h2']), 'docker context create h2')
  const sshPs = await docker(['--context', 'h2', 'ps', '-a', '--format', '{{.Names}}'])
  ok(sshPs, 'docker --context h2 ps')
  // berth over the same context (its ssh2 transport, `berth system dial-stdio` there) and over TLS.
  const m = tlsEnv.DOCKER_CERT_PATH!
  ok(await berth(['context', 'create', 'h1', '--docker', `host=${tlsEnv.DOCKER_HOST},ca=${m}/ca.pem,cert=${m}/cert.pem,key=${m}/key.pem`]), 'berth context create h1')
  const cls = await berth(['context', 'ls', '--format', '{{.Name}} {{.DockerEndpoint}}'])
  assert.equal(cls.stdout, `default unix:///run/berth/berth.sock\nh1 tcp://${h1.ip}:2376\nh2 ssh://root@h2\n`)
  const overSsh = await berth(['--context', 'h2', 'version', '--format', '{{.Server.Version}}'])
  ok(overSsh, 'berth --context h2 version')
  const runSsh = await berth(['-H', `ssh://root@${h2.ip}`, 'info', '--format', '{{.Name}}'])
  ok(runSsh, 'berth -H ssh://root@IP info')
  assert.equal(runSsh.stdout, 'h2\n')
  // Commands to one ssh:// host share one SSH connection: the first started a mux holding it,
  // so a later one needs no key at all (the mux authenticated), and one with sharing off does.
  const muxSock = muxSocketPath('ssh://root@h2', home)
  for (let i = 0; i < 100 && !existsSync(muxSock); i++) await new Promise((r) => setTimeout(r, 100))
  assert.ok(existsSync(muxSock), `no ssh mux socket at ${muxSock}`)
  await rename(join(home, '.ssh'), join(home, '.ssh.off'))
  try {
    const viaMux = await berth(['--context', 'h2', 'ps', '-a', '--format', '{{.Names}}'])
    ok(viaMux, 'berth --context h2 ps through the shared connection, without keys')
    assert.equal(viaMux.stdout, sshPs.stdout)
    const unshared = await berth(['--context', 'h2', 'ps'], { BERTH_SSH_MUX: '0' })
    assert.equal(unshared.code, 1, 'without keys and without sharing the command connected anyway')
  } finally {
    await rename(join(home, '.ssh.off'), join(home, '.ssh'))
  }
  await stopMuxes(home)
  const overTls = await berth(['--context', 'h1', 'ps', '-a', '--format', '{{.Names}}'])
  ok(overTls, 'berth --context h1 ps')
  assert.equal(overTls.stdout, 'tls-ctr\n')
  const unknownHost = await berth(['-H', `ssh://root@${h1.ip}:22`, 'ps'], { HOME: join(lab.root, 'emptyhome') })
  assert.equal(unknownHost.code, 1)
  assert.match(unknownHost.stderr, /Host key verification failed|no SSH agent and no key/)

  // ssh and scp.
  const sshCmd = await berth(['machine', 'ssh', 'h1', 'cat', '/etc/hostname'])
  assert.deepEqual([sshCmd.code, sshCmd.stdout], [0, 'h1\n'])
  assert.equal((await berth(['machine', 'ssh', 'h1', 'exit 3'])).code, 3)
  await writeFile(join(lab.root, 'up.txt'), 'scp payload\n')
  ok(await berth(['machine', 'scp', join(lab.root, 'up.txt'), 'h1:/tmp/up.txt']), 'scp upload')
  assert.equal(await readFile(join(h1.root, 'tmp', 'up.txt'), 'utf8'), 'scp payload\n')
  ok(await berth(['machine', 'scp', 'h1:/etc/hostname', join(lab.root, 'down.txt')]), 'scp download')
  assert.equal(await readFile(join(lab.root, 'down.txt'), 'utf8'), 'h1\n')

  // stop, start, restart the engine.
  const stop = await berth(['machine', 'stop', 'h1'])
  ok(stop, 'stop')
  assert.equal(stop.stdout, 'Stopping "h1"...\nMachine "h1" was stopped.\n')
  assert.equal((await berth(['machine', 'status', 'h1'])).stdout, 'Stopped\n')
  assert.notEqual((await docker(['ps'], tlsEnv)).code, 0)
  ok(await berth(['machine', 'start', 'h1']), 'start')
  assert.equal((await berth(['machine', 'status', 'h1'])).stdout, 'Running\n')
  ok(await berth(['machine', 'restart', 'h1']), 'restart')
  ok(await docker(['ps', '-a'], tlsEnv), 'docker ps after restart')

  // regenerate-certs: a new server certificate, the same client one still works.
  const before = await readFile(join(mdir, 'server.pem'), 'utf8')
  ok(await berth(['machine', 'regenerate-certs', '-f', 'h1']), 'regenerate-certs')
  assert.notEqual(await readFile(join(mdir, 'server.pem'), 'utf8'), before)
  ok(await docker(['ps', '-a'], tlsEnv), 'docker ps after regenerate-certs')

  // rm: prompts, then removes containers, engine and files from the host.
  const no = await berth(['machine', 'rm', 'h1'], {}, 'n\n')
  assert.equal(no.code, 0)
  assert.ok(existsSync(mdir), 'rm without confirmation removed the machine')
  const rm = await berth(['machine', 'rm', '-y', 'h1', 'h2'])
  ok(rm, 'rm')
  assert.match(rm.stdout, /Successfully removed h1\nSuccessfully removed h2\n$/)
  assert.equal(existsSync(mdir), false)
  await assertClean(h1)
  await assertClean(h2)
  assert.equal((await berth(['machine', 'ls', '-q'])).stdout, '')

  // A create that fails names its step and leaves nothing behind; a second one works.
  const bad = await create(h2, ['--engine-opt', 'no-such-berthd-flag=1'])
  assert.equal(bad.code, 1)
  assert.match(bad.stderr, /^Error creating machine: Error running provisioning: waiting for the engine: /)
  assert.equal(existsSync(join(home, '.berth', 'machine', 'machines', 'h2')), false)
  await assertClean(h2)
})
