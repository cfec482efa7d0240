import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { isIgnored, parseDockerignore } from './dockerignore.js'

describe('.dockerignore matching', () => {
  it('matches dot files by their whole name (regression: a leading dot was stripped, so .git and .dockerignore were never excluded)', () => {
    const p = parseDockerignore('.dockerignore\n.git\nDockerfile\n')
    assert.equal(isIgnored(p, '.dockerignore'), true)
    assert.equal(isIgnored(p, '.git/config'), true)
    assert.equal(isIgnored(p, './.git/HEAD'), true)
    assert.equal(isIgnored(p, 'Dockerfile'), true)
    assert.equal(isIgnored(p, 'dockerignore'), false)
    assert.equal(isIgnored(p, 'git/config'), false)
  })
})
