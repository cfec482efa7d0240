import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ContentStore } from './content-store.js'
import { blobStoreSuite } from './content-store.testsuite.js'

blobStoreSuite('ContentStore (files)', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-content-'))
  return { store: new ContentStore(root), reopen: () => new ContentStore(root), cleanup: () => rm(root, { recursive: true, force: true }) }
})
