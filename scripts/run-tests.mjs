#!/usr/bin/env node
// Runs every compiled test file with node's own test runner; its summary closes the output.
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'

const roots = process.argv.slice(2).length ? process.argv.slice(2) : ['dist/src', 'dist/scripts', 'dist/test']
const files = []
const walk = (p) => {
  const st = statSync(p, { throwIfNoEntry: false })
  if (!st) return
  if (st.isDirectory()) for (const n of readdirSync(p).sort()) walk(join(p, n))
  else if (p.endsWith('.test.js')) files.push(p)
}
roots.forEach(walk)
if (files.length === 0) {
  console.error('run-tests: no test files found (did the build run?)')
  process.exit(1)
}
const r = spawnSync(process.execPath, ['--test', '--test-force-exit', '--test-concurrency=2', '--test-timeout=300000', ...files], { stdio: 'inherit' })
process.exit(r.status ?? 1)
