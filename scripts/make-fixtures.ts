/**
 * Makes the Docker image fixtures offline, as deterministic `docker save` archives, cached
 * between runs (see fixtures-lib.ts).
 *
 *   node dist/scripts/make-fixtures.js [--out DIR] [--big] [--print] [--force]
 *
 * Writes busybox.tar (busybox:latest) and hello-world.tar (hello-world:latest), and with --big
 * bench-big.tar (berth-bench/big:latest), into DIR (default <repo>/.cache/fixtures). Each has a
 * `<name>.tar.key` sidecar with the hash of its inputs; a matching key skips the rebuild.
 * --print prints the absolute paths of the archives, one per line, on stdout.
 */
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateFixtures } from './fixtures-lib.js'

const USAGE = `usage: make-fixtures [--out DIR] [--big] [--print] [--force] [--busybox PATH] [--quiet]
  --out DIR       output directory (default: <repo>/.cache/fixtures)
  --big           also build bench-big.tar (berth-bench/big:latest, ~200 MB, 7 layers)
  --print         print the absolute paths of the archives, one per line
  --force         rebuild even when the cache key matches
  --busybox PATH  the static busybox binary to use (default: /bin/busybox)
  --quiet         no progress messages on stderr
`

/** The repository root: the nearest ancestor of this file with a package.json. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir
    const up = dirname(dir)
    if (up === dir) return process.cwd()
    dir = up
  }
}

function main(argv: string[]): number {
  let outDir: string | undefined
  let big = false
  let print = false
  let force = false
  let quiet = false
  let busyboxPath: string | undefined
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? ''
    const value = (): string => {
      const v = argv[++i]
      if (v === undefined) throw new UsageError(`${a} needs a value`)
      return v
    }
    if (a === '--out') outDir = value()
    else if (a.startsWith('--out=')) outDir = a.slice('--out='.length)
    else if (a === '--big') big = true
    else if (a === '--print') print = true
    else if (a === '--force') force = true
    else if (a === '--quiet' || a === '-q') quiet = true
    else if (a === '--busybox') busyboxPath = value()
    else if (a.startsWith('--busybox=')) busyboxPath = a.slice('--busybox='.length)
    else if (a === '--help' || a === '-h') {
      process.stdout.write(USAGE)
      return 0
    } else throw new UsageError(`unknown argument ${JSON.stringify(a)}`)
  }
  const out = resolve(outDir ?? join(repoRoot(), '.cache', 'fixtures'))
  const results = generateFixtures({
    outDir: out,
    big,
    force,
    ...(busyboxPath !== undefined ? { busyboxPath } : {}),
    log: quiet ? () => {} : (msg) => process.stderr.write(`make-fixtures: ${msg}\n`),
  })
  if (print) for (const r of results) process.stdout.write(`${r.path}\n`)
  return 0
}

class UsageError extends Error {}

try {
  process.exitCode = main(process.argv.slice(2))
} catch (err) {
  if (err instanceof UsageError) {
    process.stderr.write(`make-fixtures: ${err.message}\n${USAGE}`)
    process.exitCode = 2
  } else {
    process.stderr.write(`make-fixtures: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    process.exitCode = 1
  }
}
