#!/usr/bin/env node
// Bundles the berth CLI into one CommonJS file. A CLI pays its start-up on every command: one
// file means one read and no module resolution, and CommonJS skips the ESM loader's set-up
// (measured: several ms of the ~15 ms budget above a bare `node -e 0`).
import { build } from 'esbuild'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
import { rmSync } from 'node:fs'
rmSync(join(root, 'dist/berth.cjs.cache'), { force: true })
await build({
  entryPoints: [join(root, 'src/cli/main.ts')],
  outfile: join(root, 'dist/berth.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minifySyntax: true,
  // import() of node: modules becomes a lazy require: the bundle runs in vm.Script (for the code
  // cache), where Node 20 allows no dynamic import.
  supported: { 'dynamic-import': false },
  logLevel: 'warning',
})
