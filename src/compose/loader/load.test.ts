import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadProject, discoverFiles, normalizeProjectName } from './load.js'
import { interpolateString, parseDotenv } from './interpolate.js'
import { normalizePort, normalizeMount, parseDuration, shellSplit } from './normalize.js'

let dir: string
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-compose-unit-'))
  process.env.XDG_CACHE_HOME = join(dir, 'cache')
})
after(async () => { await rm(dir, { recursive: true, force: true }) })

async function project(files: Record<string, string>, o: Parameters<typeof loadProject>[0] = {}) {
  const d = await mkdtemp(join(dir, 'p-'))
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(d, name, '..'), { recursive: true })
    await writeFile(join(d, name), text)
  }
  return { d, p: await loadProject({ cwd: d, env: {}, ...o }) }
}

describe('interpolation', () => {
  const env: Record<string, string> = { A: 'a', EMPTY: '' }
  const look = (k: string) => env[k]
  it('substitutes every form compose knows', () => {
    assert.equal(interpolateString('${A}-$A-${B:-x}-${EMPTY:-y}-${EMPTY-z}-${A:+set}-${B+no}-$$A', look, 'w'), 'a-a-x-y--set--$A')
    assert.equal(interpolateString('${B:-${A}}', look, 'w'), 'a')
    assert.throws(() => interpolateString('${B:?needs B}', look, 'services.x.image'), /required variable B is missing a value: needs B \(at services\.x\.image\)/)
    assert.throws(() => interpolateString('${EMPTY?e}', look, 'w') + interpolateString('${EMPTY:?e}', look, 'w'), /required variable EMPTY/)
    assert.throws(() => interpolateString('${A', look, 'w'), /Invalid template/)
  })
  it('reads .env files with quotes, comments and export', () => {
    const r = parseDotenv('# c\nexport A=1\nB="two\\nlines"\nC=\'${A}\'\nD=${A}x # comment\nE\n', '.env', (k) => (k === 'E' ? 'fromenv' : undefined))
    assert.deepEqual(r, { A: '1', B: 'two\nlines', C: '${A}', D: '1x', E: 'fromenv' })
  })
})

describe('short syntax', () => {
  it('ports', () => {
    assert.deepEqual(normalizePort('127.0.0.1:8000-8001:80-81/udp', 'p'), [
      { mode: 'ingress', target: 80, published: '8000', protocol: 'udp', host_ip: '127.0.0.1' },
      { mode: 'ingress', target: 81, published: '8001', protocol: 'udp', host_ip: '127.0.0.1' },
    ])
    assert.deepEqual(normalizePort('3000', 'p'), [{ mode: 'ingress', target: 3000, protocol: 'tcp' }])
    assert.throws(() => normalizePort('1-3:5-6', 'services.web.ports[0]'), /services\.web\.ports\[0\]: invalid ranges/)
  })
  it('volumes', () => {
    assert.deepEqual(normalizeMount('./src:/src:ro', 'v', '/base'), { type: 'bind', source: '/base/src', target: '/src', read_only: true, bind: { create_host_path: true } })
    assert.deepEqual(normalizeMount('data:/data:nocopy', 'v', '/base'), { type: 'volume', source: 'data', target: '/data', volume: { nocopy: true } })
    assert.deepEqual(normalizeMount('/anon', 'v', '/base'), { type: 'volume', target: '/anon' })
  })
  it('durations and commands', () => {
    assert.equal(parseDuration('1m30s', 'd'), 90e9)
    assert.equal(parseDuration('500ms', 'd'), 5e8)
    assert.throws(() => parseDuration('5 parsecs', 'services.a.healthcheck.interval'), /services\.a\.healthcheck\.interval: invalid duration/)
    assert.deepEqual(shellSplit(`sh -c "echo 'a b'; exit 1" x\\ y`), ['sh', '-c', "echo 'a b'; exit 1", 'x y'])
  })
})

describe('loadProject', () => {
  it('finds the file upwards, reads .env, names the project after the directory', async () => {
    const { d } = await project({ 'compose.yaml': 'services:\n  web:\n    image: busybox:${TAG}\n', '.env': 'TAG=1.36\n', 'sub/deeper/x': '' })
    assert.deepEqual(discoverFiles(join(d, 'sub', 'deeper')), [join(d, 'compose.yaml')])
    const { model } = await loadProject({ cwd: join(d, 'sub', 'deeper'), env: {} })
    assert.equal(model.services.web!.image, 'busybox:1.36')
    assert.equal(model.name, normalizeProjectName(d.split('/').pop()!))
    assert.deepEqual(model.services.web!.networks, { default: null })
    assert.equal(model.networks.default!.name, `${model.name}_default`)
  })

  it('the process environment wins over .env; -p, COMPOSE_PROJECT_NAME and name: pick the name in that order', async () => {
    const files = { 'compose.yaml': 'name: fromfile\nservices:\n  web:\n    image: busybox:${TAG}\n', '.env': 'TAG=env-file\n' }
    assert.equal((await project(files, { env: { TAG: 'os' } })).p.model.services.web!.image, 'busybox:os')
    assert.equal((await project(files)).p.model.name, 'fromfile')
    assert.equal((await project(files, { env: { COMPOSE_PROJECT_NAME: 'fromenv' } })).p.model.name, 'fromenv')
    assert.equal((await project(files, { projectName: 'flag', env: { COMPOSE_PROJECT_NAME: 'fromenv' } })).p.model.name, 'flag')
    await assert.rejects(project(files, { projectName: 'Bad Name' }), /invalid project name "Bad Name"/)
  })

  it('merges override files by the spec rules (!reset, !override, unique keys, replaced commands)', async () => {
    const { p } = await project({
      'compose.yaml': 'services:\n  app:\n    image: a\n    command: [echo, one]\n    environment: [A=1, B=2]\n    ports: ["8080:80", "9090:90"]\n    volumes: [x:/work]\n    dns: [1.1.1.1]\n    labels: {keep: "1"}\nvolumes: {x: {}, y: {}}\n',
      'compose.override.yaml': 'services:\n  app:\n    command: [echo, two]\n    environment: {B: "3", C: "4"}\n    ports: !override ["7070:70"]\n    volumes: [y:/work]\n    dns: [8.8.8.8]\n    labels: !reset {}\n',
    })
    const s = p.model.services.app!
    assert.deepEqual(s.command, ['echo', 'two'])
    assert.deepEqual(s.environment, { A: '1', B: '3', C: '4' })
    assert.deepEqual(s.ports.map((x) => x.published), ['7070'])
    assert.deepEqual(s.volumes, [{ type: 'volume', source: 'y', target: '/work' }])
    assert.deepEqual(s.dns, ['1.1.1.1', '8.8.8.8'])
    assert.deepEqual(s.labels, {})
  })

  it('-f order, COMPOSE_FILE, stdin', async () => {
    const d = await mkdtemp(join(dir, 'f-'))
    await writeFile(join(d, 'a.yml'), 'services:\n  s:\n    image: one\n')
    await writeFile(join(d, 'b.yml'), 'services:\n  s:\n    image: two\n')
    assert.equal((await loadProject({ cwd: d, env: {}, files: ['a.yml', 'b.yml'] })).model.services.s!.image, 'two')
    assert.equal((await loadProject({ cwd: d, env: { COMPOSE_FILE: 'b.yml:a.yml' } })).model.services.s!.image, 'one')
    assert.equal((await loadProject({ cwd: d, env: {}, files: ['-'], projectName: 'x', readStdin: () => 'services:\n  s:\n    image: stdin\n' })).model.services.s!.image, 'stdin')
  })

  it('anchors, merge keys and x- extensions', async () => {
    const { p } = await project({ 'compose.yaml': 'x-base: &base\n  image: busybox\n  restart: always\nservices:\n  a:\n    <<: *base\n    restart: "no"\n  b: *base\n' })
    assert.equal(p.model.services.a!.restart, 'no')
    assert.equal(p.model.services.b!.restart, 'always')
    assert.deepEqual(Object.keys(p.model.extensions), ['x-base'])
  })

  it('extends (same file and another file) and include', async () => {
    const { p, d } = await project({
      'common.yml': 'services:\n  base:\n    image: busybox\n    environment: {FROM: common}\n    build: ./ctx\n',
      'lib/compose.yaml': 'services:\n  libsvc:\n    image: lib\n    volumes: [./data:/data]\n',
      'compose.yaml': 'include: [lib/compose.yaml]\nservices:\n  a:\n    extends: {file: common.yml, service: base}\n    environment: {OWN: "1"}\n  b:\n    extends: a\n',
    })
    assert.deepEqual(p.model.services.a!.environment, { FROM: 'common', OWN: '1' })
    assert.equal(p.model.services.a!.build!.context, join(d, 'ctx'))
    assert.equal(p.model.services.b!.image, 'busybox')
    assert.equal(p.model.services.libsvc!.volumes[0]!.source, join(d, 'lib', 'data'))
  })

  it('profiles: COMPOSE_PROFILES, --profile, a named service enables itself', async () => {
    const files = { 'compose.yaml': 'services:\n  app:\n    image: a\n  debug:\n    image: d\n    profiles: [dev]\n' }
    assert.deepEqual(Object.keys((await project(files)).p.model.services), ['app'])
    assert.deepEqual(Object.keys((await project(files, { env: { COMPOSE_PROFILES: 'dev' } })).p.model.services), ['app', 'debug'])
    assert.deepEqual(Object.keys((await project(files, { profiles: ['dev'] })).p.model.services), ['app', 'debug'])
    assert.deepEqual(Object.keys((await project(files, { selected: ['debug'] })).p.model.services), ['app', 'debug'])
  })

  it('errors name the file, line, column and model path', async () => {
    await assert.rejects(project({ 'compose.yaml': 'services:\n  web:\n    image: a\n    ports:\n      - 80\n      - {target: 80, extra: 1}\n' }), /compose\.yaml:6:22: services\.web\.ports\[1\]\.extra additional property extra is not allowed/)
    await assert.rejects(project({ 'compose.yaml': 'services:\n  web:\n    image: [a]\n' }), /compose\.yaml:3:5: services\.web\.image must be a string/)
    await assert.rejects(project({ 'compose.yaml': 'services:\n  web:\n  image: a\n bad' }), /compose\.yaml:\d+:\d+: yaml:/)
    await assert.rejects(project({ 'compose.yaml': 'services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    depends_on: [a]\n' }), /dependency cycle detected: a -> b -> a|dependency cycle detected: b -> a -> b/)
    await assert.rejects(project({ 'compose.yaml': 'services:\n  a:\n    image: x\n    depends_on: [nope]\n' }), /service "a" depends on undefined service "nope"/)
    await assert.rejects(project({ 'compose.yaml': 'services:\n  a:\n    image: x\n    isolation: hyperv\n' }), /services\.a\.isolation: not supported by berth compose yet/)
    await assert.rejects(project({ 'compose.yaml': 'services:\n  a:\n    build:\n      context: .\n      ssh: [default]\n' }), /services\.a\.build\.ssh: not supported/)
  })
})
