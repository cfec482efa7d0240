import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { it } from 'node:test'
import { BERTH_VERSION } from './version.js'

it('the version is package.json\'s', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
  assert.equal(BERTH_VERSION, pkg.version)
})
