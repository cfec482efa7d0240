import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseNormalizedNamed, familiarString, referenceString, parseAnyReference, tagNameOnly } from './reference.js'

test('normalises Docker Hub names', () => {
  const cases: Array<[string, string, string]> = [
    ['busybox', 'docker.io/library/busybox', 'busybox'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
    ['library/busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
    ['user/app', 'docker.io/user/app', 'user/app'],
    ['index.docker.io/user/app:v1', 'docker.io/user/app:v1', 'user/app:v1'],
    ['localhost:5000/ns/repo:t', 'localhost:5000/ns/repo:t', 'localhost:5000/ns/repo:t'],
    ['localhost/repo', 'localhost/repo', 'localhost/repo'],
    ['example.com/a/b/c', 'example.com/a/b/c', 'example.com/a/b/c'],
    [`host:5000/r@sha256:${'a'.repeat(64)}`, `host:5000/r@sha256:${'a'.repeat(64)}`, `host:5000/r@sha256:${'a'.repeat(64)}`],
  ]
  for (const [input, full, familiar] of cases) {
    const ref = parseNormalizedNamed(input)
    assert.equal(referenceString(ref), full, input)
    assert.equal(familiarString(ref), familiar, input)
  }
})

test('rejects invalid references with Docker words', () => {
  assert.throws(() => parseNormalizedNamed('Busybox'), /invalid reference format: repository name \(library\/Busybox\) must be lowercase/)
  assert.throws(() => parseNormalizedNamed('a b'), /^EngineError: invalid reference format$|invalid reference format/)
  assert.throws(() => parseNormalizedNamed(''), /invalid reference format/)
  assert.throws(() => parseNormalizedNamed('x:'), /invalid reference format/)
  assert.throws(() => parseNormalizedNamed('a'.repeat(64)), /cannot specify 64-byte hexadecimal strings/)
  assert.throws(() => parseNormalizedNamed('x@sha256:abc'), /invalid/)
})

test('parseAnyReference tells IDs from names', () => {
  assert.deepEqual(parseAnyReference('a'.repeat(64)), { kind: 'id', id: `sha256:${'a'.repeat(64)}` })
  assert.equal(parseAnyReference('abc').kind, 'named')
  const ref = parseAnyReference('busybox')
  assert.ok(ref.kind === 'named')
  assert.equal(familiarString(tagNameOnly(ref.ref)), 'busybox:latest')
})
