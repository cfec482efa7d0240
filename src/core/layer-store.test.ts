import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LayerStore } from './layer-store.js'
import { layerStorageSuite } from './layer-store.testsuite.js'

layerStorageSuite('LayerStore (tar into directories)', async () => {
  const data = await mkdtemp(join(tmpdir(), 'berth-layers-'))
  const store = new LayerStore(data)
  return { store, reopen: () => new LayerStore(data), root: store.root, cleanup: () => rm(data, { recursive: true, force: true }) }
}, { root: process.getuid?.() === 0 })
