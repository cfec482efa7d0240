import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { BERTH, startDaemon, berth, docker, fixture, isRoot, runCmd, type DaemonHandle } from './harness.js'

// The berth CLI is checked against the real docker CLI on the same daemon: same output, same
// exit status. A difference is a berth bug (or a deliberate one, listed in `normalise`).
let h: DaemonHandle
let hasDocker = false

before(async () => {
  if (!isRoot) return
  hasDocker = (await runCmd('docker', ['--version']).catch(() => ({ code: 1 }))).code === 0
  h = await startDaemon()
  const load = await berth(h, 'load', '-i', await fixture('busybox'))
  assert.equal(load.code, 0, load.stderr)
  assert.match(load.stdout, /Loaded image: busybox:latest/)
  assert.equal((await berth(h, 'load', '-i', await fixture('hello-world'))).code, 0)
  assert.equal((await berth(h, 'tag', 'busybox', 'example.com/team/app:v1')).code, 0)
})

after(async () => {
  await h?.cleanup()
})

const SAME_AS_DOCKER: string[][] = [
  ['images'],
  ['images', '-q'],
  ['images', '-a'],
  ['images', '--no-trunc'],
  ['images', '--digests'],
  ['images', '--format', '{{.Repository}}:{{.Tag}}\t{{.ID}}\t{{.Size}}'],
  ['images', '--format', 'table {{.Repository}}\t{{.Size}}'],
  ['images', '--filter', 'reference=busy*'],
  ['images', '--filter', 'dangling=true'],
  ['images', 'busybox'],
  ['image', 'ls', '--filter', 'before=busybox'],
  ['history', 'busybox'],
  ['history', '--no-trunc', 'hello-world'],
  ['history', '-q', 'busybox'],
  ['history', '-H=false', '--format', '{{.CreatedBy}}|{{.Size}}', 'busybox'],
  ['image', 'inspect', 'busybox'],
  ['image', 'inspect', '-f', '{{.Id}} {{.Config.Cmd}} {{.Os}}/{{.Architecture}}', 'busybox', 'hello-world'],
  ['inspect', '--format', '{{json .RootFS}}', 'busybox'],
  ['image', 'inspect', 'nope'],
  ['rmi', 'nope'],
  ['rmi', 'busybox'.toUpperCase()],
  ['tag', 'busybox', 'Bad'],
  ['tag', 'nope', 'x'],
  ['images', '--filter', 'nonsense=1'],
  ['system', 'df'],
]

for (const args of SAME_AS_DOCKER) {
  test(`berth ${args.join(' ')} == docker ${args.join(' ')}`, async (t) => {
    if (!isRoot) return t.skip('needs root')
    if (!hasDocker) return t.skip('the docker CLI is not installed')
    const [b, d] = await Promise.all([berth(h, ...args), docker(h, ...args)])
    assert.equal(b.code, d.code, `exit status: berth ${b.code} (${b.stderr}) docker ${d.code} (${d.stderr})`)
    // docker orders the rows of one image's tags by Go map iteration (random): compare row sets.
    if (args[0] === 'images' || (args[0] === 'image' && args[1] === 'ls')) assert.deepEqual(rows(b.stdout), rows(d.stdout))
    else assert.equal(b.stdout, d.stdout)
    assert.equal(normalise(b.stderr), normalise(d.stderr))
  })
}

/** All lines, sorted (headers are equal anyway, and only the order of rows may differ). */
function rows(out: string): string[] {
  return out.split('\n').sort()
}

/** The help hint names the program; everything else must match. */
function normalise(s: string): string {
  return s.replace(/See '(berth|docker) /g, "See 'X ").replace(/\b(berth|docker) (tag|rmi|images)\b/g, 'X $2')
}

test('save, rmi, load round trip keeps image IDs; save refuses a terminal', async (t) => {
  if (!isRoot) return t.skip('needs root')
  const out = join(h.root, 'saved.tar')
  const before = (await berth(h, 'images', '--no-trunc', '-q')).stdout
  assert.equal((await berth(h, 'save', '-o', out, 'busybox', 'hello-world')).code, 0)
  assert.ok((await stat(out)).size > 1_000_000)
  const rmi = await berth(h, 'rmi', '-f', 'busybox', 'example.com/team/app:v1', 'hello-world')
  assert.equal(rmi.code, 0, rmi.stderr)
  assert.match(rmi.stdout, /Deleted: sha256:49b04b9f0ca87fe057e81547511b7257da91eaf2ecfe1e4839c2ff3292282e36/)
  assert.equal((await berth(h, 'images', '-q')).stdout, '')
  const load = await berth(h, 'load', '-i', out)
  assert.equal(load.code, 0, load.stderr)
  assert.deepEqual(new Set((await berth(h, 'images', '--no-trunc', '-q')).stdout.split('\n')), new Set(before.split('\n')))
  await berth(h, 'tag', 'busybox', 'example.com/team/app:v1')
  await rm(out)
})

test('import from a file and from stdin with --change and -m', async (t) => {
  if (!isRoot) return t.skip('needs root')
  const dir = join(h.root, 'rootfs')
  await runCmd('mkdir', ['-p', join(dir, 'etc')])
  await writeFile(join(dir, 'etc', 'greeting'), 'hi\n')
  const tarPath = join(h.root, 'rootfs.tar')
  await runCmd('tar', ['-C', dir, '-cf', tarPath, '.'])
  const r = await berth(h, 'import', '-c', 'CMD ["/bin/sh"]', '--change', 'ENV A=b', '-m', 'from a file', tarPath, 'imported:file')
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /^sha256:[a-f0-9]{64}\n$/)
  const insp = await berth(h, 'inspect', '-f', '{{.Config.Cmd}} {{.Config.Env}} {{.Comment}}', 'imported:file')
  assert.equal(insp.stdout, '[/bin/sh] [A=b] from a file\n')
  const gz = await runCmd('sh', ['-c', `gzip -c ${tarPath} | ${process.execPath} ${BERTH} import - imported:stdin`], { host: h.host })
  assert.equal(gz.code, 0, gz.stderr)
  assert.equal((await berth(h, 'inspect', '-f', '{{.Comment}}', 'imported:stdin')).stdout, 'Imported from -\n')
  const bad = await berth(h, 'import', '-c', 'RUN true', tarPath)
  assert.equal(bad.code, 1)
  assert.equal(bad.stderr, 'Error response from daemon: run is not a valid change command\n')
  await berth(h, 'rmi', 'imported:file', 'imported:stdin')
})

test('prune and events', async (t) => {
  if (!isRoot) return t.skip('needs root')
  const since = String(Date.now() / 1000)
  await berth(h, 'tag', 'hello-world', 'to-untag:1')
  await berth(h, 'rmi', 'to-untag:1')
  const until = String(Date.now() / 1000 + 0.5)
  const ev = await berth(h, 'events', '--since', since, '--until', until, '--filter', 'type=image', '--format', '{{.Action}} {{.Actor.Attributes.name}}')
  assert.equal(ev.code, 0, ev.stderr)
  assert.match(ev.stdout, /^tag to-untag:1\nuntag sha256:[a-f0-9]{64}\n$/)
  const prune = await berth(h, 'image', 'prune', '-f')
  assert.equal(prune.code, 0)
  assert.equal(prune.stdout, 'Total reclaimed space: 0B\n')
})

test('usage errors as docker prints them', async (t) => {
  if (!isRoot) return t.skip('needs root')
  const r = await berth(h, 'images', '--bogus')
  assert.equal(r.code, 125)
  assert.equal(r.stderr, "unknown flag: --bogus\nSee 'berth images --help'.\n")
  const u = await berth(h, 'nonsense')
  assert.equal(u.code, 1)
  assert.match(u.stderr, /berth: 'nonsense' is not a berth command/)
  const down = await runCmd(process.execPath, [BERTH, '-H', `unix://${h.root}/nothing.sock`, 'images'])
  assert.equal(down.code, 1)
  assert.equal(down.stderr, `Cannot connect to the Berth daemon at unix://${h.root}/nothing.sock. Is the berth daemon running?\n`)
})

test('containers: berth run, ps, logs, inspect, stop, rm agree with docker', async (t) => {
  if (!isRoot) return t.skip('needs root')
  if (!hasDocker) return t.skip('the docker CLI is not installed')
  const hello = await berth(h, 'run', '--rm', 'hello-world')
  assert.equal(hello.code, 0, hello.stderr)
  assert.match(hello.stdout, /^\nHello from Berth!\n/)
  const code = await berth(h, 'run', '--name', 'exit-three', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3')
  assert.equal(code.code, 3)
  assert.equal(code.stdout, 'out\n')
  assert.equal(code.stderr, 'err\n')
  const bg = await berth(h, 'run', '-d', '--name', 'ticker', '-l', 'role=test', 'busybox', 'sh', '-c', 'echo started; sleep 30')
  assert.equal(bg.code, 0, bg.stderr)
  assert.match(bg.stdout, /^[a-f0-9]{64}\n$/)
  // Running times tick between the two calls: tables are compared without the time columns.
  const table = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.Ports}}\t{{.Names}}\t{{.State}}'
  for (const args of [['ps', '--format', table], ['ps', '-a', '--format', table], ['ps', '-a', '--no-trunc', '--format', table], ['ps', '-q'], ['ps', '--filter', 'label=role=test', '--format', '{{.Names}} {{.Label "role"}}'], ['ps', '-a', '--filter', 'status=exited', '-q'], ['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}} {{.Name}}', 'ticker', 'exit-three']]) {
    const [b, d] = await Promise.all([berth(h, ...args), docker(h, ...args)])
    assert.equal(b.code, d.code, args.join(' '))
    assert.equal(b.stdout, d.stdout, args.join(' '))
  }
  await new Promise((r) => setTimeout(r, 300))
  const logs = await berth(h, 'logs', 'ticker')
  assert.equal(logs.stdout, 'started\n')
  const stop = await berth(h, 'stop', '-t', '1', 'ticker')
  assert.equal(stop.stdout, 'ticker\n')
  assert.equal((await berth(h, 'inspect', '-f', '{{.State.ExitCode}}', 'ticker')).stdout, '137\n')
  const rmRunning = await berth(h, 'run', '-d', '--name', 'busy', 'busybox', 'sleep', '30')
  assert.equal(rmRunning.code, 0)
  const [bRm, dRm] = await Promise.all([berth(h, 'rm', 'busy'), docker(h, 'rm', 'busy')])
  assert.equal(bRm.code, 1)
  assert.equal(bRm.stderr, dRm.stderr)
  assert.equal((await berth(h, 'rm', '-f', 'busy', 'ticker', 'exit-three')).code, 0)
  const missing = await berth(h, 'run', '--rm', 'busybox', 'no-such-binary')
  assert.equal(missing.code, 127)
  assert.match(missing.stderr, /executable file not found in \$PATH/)
  assert.equal((await berth(h, 'ps', '-aq')).stdout, '')
})

test('rmi -f of an image a container uses keeps the layers the container needs', async (t) => {
  if (!isRoot) return t.skip('needs root')
  assert.equal((await berth(h, 'tag', 'busybox', 'victim:1')).code, 0)
  const created = await berth(h, 'create', '--name', 'keeps-layers', 'victim:1', 'echo', 'still here')
  assert.equal(created.code, 0, created.stderr)
  // busybox keeps the image itself alive: remove every name of it, forcing.
  const rmi = await berth(h, 'rmi', '-f', 'victim:1', 'busybox', 'example.com/team/app:v1')
  assert.equal(rmi.code, 0, rmi.stderr)
  const run = await berth(h, 'start', '-a', 'keeps-layers')
  assert.equal(run.code, 0, run.stderr)
  assert.equal(run.stdout, 'still here\n')
  assert.equal((await berth(h, 'rm', 'keeps-layers')).code, 0)
  // Put the images back for other tests.
  assert.equal((await berth(h, 'load', '-i', await fixture('busybox'))).code, 0)
  assert.equal((await berth(h, 'tag', 'busybox', 'example.com/team/app:v1')).code, 0)
})

test('top: berth and docker print the same processes; a stopped container is a 409', async (t) => {
  if (!isRoot) return t.skip('needs root')
  if (!hasDocker) return t.skip('the docker CLI is not installed')
  assert.equal((await berth(h, 'run', '-d', '--name', 'topped', 'busybox', 'sleep', '30')).code, 0)
  for (const args of [['top', 'topped'], ['top', 'topped', '-o', 'pid,comm']]) {
    const [b, d] = await Promise.all([berth(h, ...args), docker(h, ...args)])
    assert.equal(b.code, 0, b.stderr)
    // ps's C column (CPU time over elapsed time) moves between two calls a moment apart: the
    // default format is compared with it blanked, every other column and the layout exactly.
    const steady = (out: string) => args.length === 2 ? out.replace(/^((?:\S+\s+){3})\d+\s+/gm, (m: string, pre: string) => `${pre}${' '.repeat(m.length - pre.length)}`) : out
    assert.equal(steady(b.stdout), steady(d.stdout), args.join(' '))
  }
  assert.match((await berth(h, 'top', 'topped', '-o', 'pid,comm')).stdout, /^PID\s+COMMAND\n\d+\s+sleep\n$/)
  await berth(h, 'stop', '-t', '0', 'topped')
  const stopped = await berth(h, 'top', 'topped')
  assert.equal(stopped.code, 1)
  assert.match(stopped.stderr, /^Error response from daemon: container [a-f0-9]{64} is not running\n$/)
  assert.equal((await berth(h, 'rm', 'topped')).code, 0)
})
