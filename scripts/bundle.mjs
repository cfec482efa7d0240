#!/usr/bin/env node
// Bundles the berth CLI into a few files (entry plus lazily loaded command chunks) so that a
// command loads one or two files instead of dozens: start-up time is a feature of a CLI.
import { build } from 'esbuild'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
await build({
  entryPoints: [join(root, 'src/cli/main.ts')],
  outdir: join(root, 'dist/cli-bundle'),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'bundle',
  minifySyntax: true,
  sourcemap: false,
  logLevel: 'warning',
  banner: { js: "import { createRequire as __berthRequire } from 'node:module'; const require = __berthRequire(import.meta.url);" },
})
