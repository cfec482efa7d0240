import { test } from 'node:test'
import assert from 'node:assert/strict'
import { applyChanges } from './changes.js'

test('applies the Dockerfile instructions docker import and commit allow', () => {
  const c = applyChanges({ Env: ['A=1'] }, [
    'CMD ["/bin/sh", "-c", "echo hi"]',
    'ENTRYPOINT /entry.sh',
    'ENV A=2 B="x y"',
    'ENV LEGACY value with spaces',
    'LABEL a=b "c d"=e',
    'EXPOSE 80 53/udp',
    'VOLUME ["/data", "/logs"]',
    'USER 1000:1000',
    'WORKDIR /app',
    'WORKDIR sub',
    'STOPSIGNAL SIGINT',
    'ONBUILD RUN true',
    'HEALTHCHECK --interval=5s --retries=2 CMD curl -f http://localhost/',
  ])
  assert.deepEqual(c.Cmd, ['/bin/sh', '-c', 'echo hi'])
  assert.deepEqual(c.Entrypoint, ['/bin/sh', '-c', '/entry.sh'])
  assert.deepEqual(c.Env, ['A=2', 'B=x y', 'LEGACY=value with spaces'])
  assert.deepEqual(c.Labels, { a: 'b', 'c d': 'e' })
  assert.deepEqual(c.ExposedPorts, { '80/tcp': {}, '53/udp': {} })
  assert.deepEqual(c.Volumes, { '/data': {}, '/logs': {} })
  assert.equal(c.User, '1000:1000')
  assert.equal(c.WorkingDir, '/app/sub')
  assert.equal(c.StopSignal, 'SIGINT')
  assert.deepEqual(c.OnBuild, ['RUN true'])
  assert.deepEqual(c.Healthcheck, { Interval: 5e9, Retries: 2, Test: ['CMD-SHELL', 'curl -f http://localhost/'] })
})

test('rejects instructions docker does not allow, and malformed ones', () => {
  assert.throws(() => applyChanges({}, ['RUN echo']), /^EngineError: run is not a valid change command$|run is not a valid change command/)
  assert.throws(() => applyChanges({}, ['FROM x']), /from is not a valid change command/)
  assert.throws(() => applyChanges({}, ['ENV']), /ENV requires at least one argument/)
  assert.throws(() => applyChanges({}, ['EXPOSE abc']), /invalid containerPort: abc/)
  assert.throws(() => applyChanges({}, ['LABEL "unterminated']), /unexpected end of statement/)
})
