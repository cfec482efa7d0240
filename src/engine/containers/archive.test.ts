import { it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { absContainerPath, entryPath, followInScope, goFileMode, resolvePath } from './archive.js'

it('goFileMode sets Go os.FileMode type bits', () => {
  assert.equal(goFileMode(0o040755), 2 ** 31 + 0o755)
  assert.equal(goFileMode(0o120777), 2 ** 27 + 0o777)
  assert.equal(goFileMode(0o100644), 0o644)
  assert.equal(goFileMode(0o041777), 2 ** 31 + 2 ** 20 + 0o777)
  assert.equal(goFileMode(0o020600), 2 ** 26 + 2 ** 21 + 0o600)
})

it('absContainerPath keeps a trailing / or /.', () => {
  assert.equal(absContainerPath('etc'), '/etc')
  assert.equal(absContainerPath('/etc/'), '/etc/')
  assert.equal(absContainerPath('/etc/.'), '/etc/.')
  assert.equal(absContainerPath('../../etc'), '/etc')
})

it('followInScope resolves symlinks as if the root were /', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-scope-'))
  try {
    await mkdir(join(root, 'real/sub'), { recursive: true })
    await writeFile(join(root, 'real/sub/f'), 'x')
    await symlink('/', join(root, 'escape'))
    await symlink('../../../../..', join(root, 'up'))
    await symlink('/real', join(root, 'abs'))
    await symlink('real/sub', join(root, 'rel'))
    await symlink('/etc', join(root, 'hostetc'))
    await symlink('loop2', join(root, 'loop1'))
    await symlink('loop1', join(root, 'loop2'))
    assert.equal(await followInScope(root, '/escape/real/sub'), '/real/sub')
    assert.equal(await followInScope(root, '/up/real'), '/real')
    assert.equal(await followInScope(root, '/abs/sub/f'), '/real/sub/f')
    assert.equal(await followInScope(root, '/rel/f'), '/real/sub/f')
    assert.equal(await followInScope(root, '/hostetc/passwd'), '/etc/passwd')
    assert.equal(await followInScope(root, '/../../x'), '/x')
    await assert.rejects(followInScope(root, '/loop1'), /too many links/)
    // ResolvePath keeps the last element unless the path ends in / or /.
    assert.equal((await resolvePath(root, '/escape/abs')).resolved, '/abs')
    assert.equal((await resolvePath(root, '/abs/')).resolved, '/real')
    assert.equal((await resolvePath(root, '/abs/.')).resolved, '/real')
  } finally {
    await rm(root, { recursive: true, force: true })
  }
})

it('entryPath refuses names that leave the destination', () => {
  assert.equal(entryPath('a/b', '/d'), 'a/b')
  assert.equal(entryPath('./a/', '/d'), 'a')
  assert.equal(entryPath('./', '/d'), undefined)
  assert.equal(entryPath('a/../b', '/d'), 'b')
  assert.throws(() => entryPath('../x', '/d'), /outside of/)
  assert.throws(() => entryPath('a/../../x', '/d'), /outside of/)
  assert.throws(() => entryPath('/etc/passwd', '/d'), /absolute/)
})
