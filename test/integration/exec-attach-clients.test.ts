/**
 * Real clients (docker-py 5 from Debian's python3-docker, dockerode, the docker CLI) against
 * berthd's exec, attach and logs streams, as they behave against dockerd: exec framing follows
 * the start's Tty, detach keys in exec, attach without an upgrade, an upgraded attach whose
 * request body is not the container's input, resize answering 200, and one log frame per line.
 */
import { before, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Duplex } from 'node:stream'
import Docker from 'dockerode'
import type { DaemonHandle } from './harness.js'
import { dockerSuite } from './image-helpers.js'
import { busyboxDaemon, dockerT, sleep } from './container-helpers.js'

const hasDockerPy = spawnSync('python3', ['-c', 'import docker'], { stdio: 'ignore' }).status === 0

/** Run a python3 script with docker-py against the daemon; its last stdout line is JSON. */
function py(h: DaemonHandle, script: string, env: Record<string, string> = {}): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return new Promise((resolve, reject) => {
    const child = spawn('timeout', ['-s', 'KILL', '60', 'python3', '-c', `import docker, json, socket, struct, time, sys\nc = docker.APIClient(base_url='${h.host.replace('unix://', 'unix://')}', version='1.43')\n${script}`], {
      env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.on('error', reject)
    child.on('close', (code) => {
      const text = Buffer.concat(out).toString().trim()
      if (code !== 0) { reject(new Error(`python3 exited ${code}: ${Buffer.concat(err).toString()}\n${text}`)); return }
      resolve(JSON.parse(text.split('\n').pop()!))
    })
  })
}

const READ_HELPERS = `
def read_exactly(s, n):
    data = b''
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data
def raw_sock(s):
    return s._sock if hasattr(s, '_sock') else s
`

dockerSuite('real clients: exec, attach, logs streams', () => {
  let h: DaemonHandle
  let dockerode: Docker
  const ok = async (...args: string[]): Promise<string> => {
    const r = await dockerT(h, 60, ...args)
    assert.equal(r.code, 0, `docker ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
    return r.stdout
  }
  const daemon = busyboxDaemon()
  before(() => {
    h = daemon.h
    dockerode = new Docker({ socketPath: h.socket })
  })

  it('docker-py: exec framing follows the Tty of exec start, not of exec create', { skip: hasDockerPy ? false : 'python3-docker is not installed' }, async () => {
    await ok('run', '-d', '--name', 'fr', 'busybox', 'sleep', '1000')
    const r = await py(h, `${READ_HELPERS}
line = 'yay, interactive exec!'
out = {}
# docker-py's test_exec_start_socket: a tty exec started without tty gets stdcopy frames.
e = c.exec_create('fr', ['printf', line], tty=True)
s = raw_sock(c.exec_start(e['Id'], socket=True))
hdr = read_exactly(s, 8)
stream, size = struct.unpack('>BxxxL', hdr)
out['stream'] = stream
out['size'] = size
out['data'] = read_exactly(s, size).decode()
s.close()
# The same exec started with tty: the raw bytes.
e = c.exec_create('fr', ['printf', line], tty=True)
out['raw'] = c.exec_start(e['Id'], tty=True).decode()
# Without a tty: stdout and stderr apart.
e = c.exec_create('fr', ['sh', '-c', 'echo out; echo err >&2'])
o, er = c.exec_start(e['Id'], demux=True)
out['demux'] = [o.decode(), er.decode()]
print(json.dumps(out))
`)
    assert.equal(r.stream, 1)
    assert.equal(r.size, 'yay, interactive exec!'.length)
    assert.equal(r.data, 'yay, interactive exec!')
    assert.equal(r.raw, 'yay, interactive exec!')
    assert.deepEqual(r.demux, ['out\n', 'err\n'])
  })

  it('exec start without an upgrade: framed by the start\'s Tty (dockerode and plain HTTP)', async () => {
    await ok('run', '-d', '--name', 'fr2', 'busybox', 'sleep', '1000')
    const c = dockerode.getContainer('fr2')
    const ex = await c.exec({ Cmd: ['printf', 'hello'], Tty: true, AttachStdout: true, AttachStderr: true })
    // dockerode's exec.start without hijack: a plain request, the answer's body is the output.
    const stream = (await ex.start({ hijack: false, Tty: false } as Docker.ExecStartOptions)) as unknown as NodeJS.ReadableStream
    const chunks: Buffer[] = []
    for await (const b of stream) chunks.push(Buffer.from(b as Buffer))
    const all = Buffer.concat(chunks)
    assert.equal(all[0], 1, `a stdcopy frame: ${JSON.stringify(all.toString())}`)
    assert.equal(all.readUInt32BE(4), 5)
    assert.equal(all.subarray(8).toString(), 'hello')
  })

  it('docker-py: detach keys in exec (default ctrl-p ctrl-q, and the exec\'s own) let the client go, are not passed on, and the process runs on', { skip: hasDockerPy ? false : 'python3-docker is not installed' }, async () => {
    await ok('run', '-d', '--name', 'dk', 'busybox', 'sleep', '1000')
    const r = await py(h, `${READ_HELPERS}
out = {}
def detach_case(keys, **kw):
    e = c.exec_create('dk', 'cat', stdin=True, tty=True, **kw)
    s = raw_sock(c.exec_start(e['Id'], tty=True, socket=True))
    s.settimeout(5)
    s.sendall(b'hi\\n')
    time.sleep(0.5)
    for k in keys:
        s.sendall(k)
        time.sleep(0.5)
    got = b''
    s.setblocking(False)
    try:
        while True:
            b = s.recv(4096)
            if not b:
                break
            got += b
    except BlockingIOError:
        pass
    s.settimeout(5)
    # As docker-py's assert_cat_socket_detached_with_keys: the connection no longer carries data.
    s.sendall(b'make sure the socket is closed\\n')
    tail = s.recv(128)
    s.close()
    info = c.exec_inspect(e['Id'])
    return {'echo': got.decode('latin-1'), 'tail': tail.decode('latin-1'), 'running': info['Running']}
out['default'] = detach_case([b'\\x10', b'\\x11'])
out['own'] = detach_case([b'\\x18'], detach_keys='ctrl-x')
print(json.dumps(out))
`)
    for (const k of ['default', 'own'] as const) {
      const c = r[k]
      assert.match(c.echo, /hi/, `${k}: cat answered`)
      assert.doesNotMatch(c.echo, /\^P|\^X|\x10|\x18/, `${k}: the detach keys reached the terminal: ${JSON.stringify(c.echo)}`)
      assert.ok(c.tail === '' || c.tail.startsWith('exec attach failed'), `${k}: after detach: ${JSON.stringify(c.tail)}`)
      assert.equal(c.running, true, `${k}: the process runs on`)
    }
  })

  it('docker-py: detachKeys from config.json', { skip: hasDockerPy ? false : 'python3-docker is not installed' }, async () => {
    await ok('run', '-d', '--name', 'dkc', 'busybox', 'sleep', '1000')
    const dir = await mkdtemp(join(tmpdir(), 'berth-dk-'))
    try {
      await writeFile(join(dir, 'config.json'), JSON.stringify({ detachKeys: 'ctrl-y' }))
      const r = await py(h, `${READ_HELPERS}
e = c.exec_create('dkc', 'cat', stdin=True, tty=True)
s = raw_sock(c.exec_start(e['Id'], tty=True, socket=True))
s.settimeout(5)
s.sendall(b'\\x19')
time.sleep(0.5)
s.sendall(b'after\\n')
got = s.recv(128)
print(json.dumps({'keys': c.exec_inspect(e['Id'])['DetachKeys'], 'got': got.decode('latin-1'), 'running': c.exec_inspect(e['Id'])['Running']}))
`, { DOCKER_CONFIG: dir })
      assert.equal(r.keys, 'ctrl-y')
      assert.equal(r.got, '', `detached: nothing more came (${JSON.stringify(r.got)})`)
      assert.equal(r.running, true)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('docker CLI: `exec -it` detaches on the detachKeys of its config.json, which the terminal never sees', async () => {
    await ok('run', '-d', '--name', 'dcli', 'busybox', 'sleep', '1000')
    const dir = await mkdtemp(join(tmpdir(), 'berth-dk-'))
    try {
      await writeFile(join(dir, 'config.json'), JSON.stringify({ detachKeys: 'ctrl-x' }))
      // The CLI needs a terminal: python's pty, keys typed one at a time.
      const r = await py(h, `
import os, pty, select
pid, fd = pty.fork()
if pid == 0:
    os.execvp('docker', ['docker', 'exec', '-it', 'dcli', 'cat'])
out = b''
def pump(t):
    global out
    end = time.time() + t
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                b = os.read(fd, 4096)
            except OSError:
                return
            if not b:
                return
            out += b
pump(2)
os.write(fd, b'hi\\n')
pump(1)
os.write(fd, b'\\x18')
pump(3)
# The terminal closing (EIO) comes just before the CLI exits: give its exit a moment.
end = time.time() + 3
done, status = os.waitpid(pid, os.WNOHANG)
while not done and time.time() < end:
    time.sleep(0.05)
    done, status = os.waitpid(pid, os.WNOHANG)
if not done:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
print(json.dumps({'exited': done == pid, 'code': os.waitstatus_to_exitcode(status) if done else None, 'out': out.decode('latin-1')}))
`, { DOCKER_HOST: h.host, DOCKER_CONFIG: dir })
      assert.equal(r.exited, true, `docker exec -it still attached: ${JSON.stringify(r.out)}`)
      // The CLI catches its own keys and ends as docker's does after a detach: "read escape sequence", status 1.
      assert.ok(r.code === 0 || (r.code === 1 && /read escape sequence/.test(r.out)), `${r.code}: ${JSON.stringify(r.out)}`)
      assert.match(r.out, /hi/)
      assert.doesNotMatch(r.out, /\^X|\x18/, JSON.stringify(r.out))
      // The process runs on.
      const ps = await ok('exec', 'dcli', 'ps')
      assert.match(ps, /\bcat\b/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('dockerode: attach without an upgrade is a plain streamed answer; an upgraded attach does not feed its body to stdin', async () => {
    await ok('run', '-d', '--name', 'tick', 'busybox', 'sh', '-c', 'while :; do echo tick; sleep 0.2; done')
    const t = dockerode.getContainer('tick')
    const plain = (await t.attach({ stream: true, stdout: true, stderr: true, hijack: false })) as unknown as NodeJS.ReadableStream & { destroy(): void }
    const first = await new Promise<Buffer>((resolve, reject) => {
      let acc = Buffer.alloc(0)
      plain.on('data', (b: Buffer) => { acc = Buffer.concat([acc, b]); if (acc.length >= 13) resolve(acc) })
      plain.on('error', reject)
      setTimeout(() => reject(new Error(`no output: ${JSON.stringify(acc.toString())}`)), 5000)
    })
    plain.destroy()
    assert.equal(first[0], 1)
    assert.equal(first.readUInt32BE(4), 5)
    assert.equal(first.subarray(8, 13).toString(), 'tick\n')

    await ok('run', '-d', '-i', '--name', 'cat', 'busybox', 'cat')
    const c = dockerode.getContainer('cat')
    const sock = (await c.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as unknown as Duplex
    let got = Buffer.alloc(0)
    sock.on('data', (b: Buffer) => { got = Buffer.concat([got, b]) })
    sock.write('hello\n')
    for (let i = 0; i < 50 && !got.includes('hello'); i++) await sleep(100)
    sock.destroy()
    // Frames: strip the headers.
    let text = ''
    for (let i = 0; i + 8 <= got.length; ) { const n = got.readUInt32BE(i + 4); text += got.subarray(i + 8, i + 8 + n).toString(); i += 8 + n }
    assert.equal(text, 'hello\n', `the container read only what was written: ${JSON.stringify(got.toString())}`)
  })

  it('dockerode: container resize and exec resize answer 200', async () => {
    await ok('run', '-d', '-t', '--name', 'rs', 'busybox', 'sleep', '1000')
    const c = dockerode.getContainer('rs')
    await c.resize({ h: 30, w: 100 })
    const ex = await c.exec({ Cmd: ['sleep', '5'], Tty: true })
    await ex.start({ Detach: true, Tty: true })
    await ex.resize({ h: 20, w: 60 })
    const res = await fetchStatus(h, `/containers/rs/resize?h=31&w=101`)
    assert.equal(res, 200)
    assert.equal(await fetchStatus(h, `/exec/${ex.id}/resize?h=21&w=61`), 200)
  })

  it('docker-py: a follow stream sends one frame per log line', { skip: hasDockerPy ? false : 'python3-docker is not installed' }, async () => {
    await ok('run', '-d', '--name', 'lines', 'busybox', 'sh', '-c', "sleep 1; printf 'a\\nb\\nc\\nd\\n'; sleep 1000")
    const r = await py(h, `
frames = []
for chunk in c.logs('lines', stream=True, follow=True):
    frames.append(chunk.decode())
    if len(frames) == 4:
        break
print(json.dumps(frames))
`)
    assert.deepEqual(r, ['a\n', 'b\n', 'c\n', 'd\n'])
  })
})

/** POST a path on the daemon's socket; the status code. */
function fetchStatus(h: DaemonHandle, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    import('node:http').then(({ request }) => {
      const req = request({ socketPath: h.socket, path, method: 'POST' }, (res) => { res.resume(); resolve(res.statusCode ?? 0) })
      req.on('error', reject)
      req.end()
    }, reject)
  })
}
