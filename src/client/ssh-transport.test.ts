import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac, randomBytes } from 'node:crypto'
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkKnownHost, knownHostName, parseSshUrl, readSshConfig } from './ssh-transport.js'

test('ssh URLs as docker parses them', () => {
  assert.deepEqual(parseSshUrl('ssh://root@h2'), { user: 'root', host: 'h2' })
  assert.deepEqual(parseSshUrl('ssh://me@10.0.0.1:2222/var/run/berth.sock'), { user: 'me', host: '10.0.0.1', port: 2222, socketPath: '/var/run/berth.sock' })
  assert.deepEqual(parseSshUrl('ssh://[fd00::1]:22'), { host: 'fd00::1', port: 22 })
  assert.throws(() => parseSshUrl('ssh://u:pw@h'), /plain-text password is not supported/)
  assert.throws(() => parseSshUrl('ssh://h?x=1'), /extra query/)
  assert.throws(() => parseSshUrl('tcp://h'), /expected scheme ssh/)
})

test('known_hosts: plain, hashed, [host]:port, mismatch and unknown', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kh-'))
  try {
    const blob = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), randomBytes(36)])
    const other = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), randomBytes(36)])
    const salt = randomBytes(20)
    const hashed = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update('[h3]:2222').digest('base64')}`
    const f = join(dir, 'known_hosts')
    writeFileSync(f, `# comment\nh1,10.0.0.1 ssh-ed25519 ${blob.toString('base64')}\n${hashed} ssh-ed25519 ${blob.toString('base64')}\nh2 ssh-ed25519 ${other.toString('base64')}\n`)
    assert.equal(checkKnownHost([f], ['h1'], 'ssh-ed25519', blob), 'match')
    assert.equal(checkKnownHost([f], ['10.0.0.1'], 'ssh-ed25519', blob), 'match')
    assert.equal(checkKnownHost([f], [knownHostName('h3', 2222)], 'ssh-ed25519', blob), 'match')
    assert.equal(checkKnownHost([f], [knownHostName('h3', 22)], 'ssh-ed25519', blob), 'unknown')
    assert.equal(checkKnownHost([f], ['h2'], 'ssh-ed25519', blob), 'mismatch')
    assert.equal(checkKnownHost([join(dir, 'absent')], ['h1'], 'ssh-ed25519', blob), 'unknown')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('~/.ssh/config: first value wins, patterns and negation', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sshcfg-'))
  try {
    const f = join(dir, 'config')
    writeFileSync(f, 'Host h2 !h3\n  HostName 10.1.2.3\n  User admin\n  Port 2200\n  IdentityFile ~/.ssh/lab\nHost *\n  User nobody\n  StrictHostKeyChecking accept-new\n')
    const c = readSshConfig('h2', dir, f)
    assert.equal(c.hostName, '10.1.2.3')
    assert.equal(c.user, 'admin')
    assert.equal(c.port, 2200)
    assert.deepEqual(c.identityFiles, [join(dir, '.ssh/lab')])
    assert.equal(c.strictHostKeyChecking, 'accept-new')
    const d = readSshConfig('h3', dir, f)
    assert.equal(d.hostName, undefined)
    assert.equal(d.user, 'nobody')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
