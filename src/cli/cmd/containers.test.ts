import assert from 'node:assert/strict'
import { test } from 'node:test'
import { renderRows } from '../gotemplate/docker-format.js'
import { plainTable } from './containers.js'

const CELLS = ['', 'a', 'busybox', 'Up 3 minutes', '"sleep 1000"', '0.0.0.0:8080->80/tcp, 443/tcp', 'naïve', '日本語の名前', 'x'.repeat(40), 'emoji 🚀', 'é'.normalize('NFD')]

test('ps’s default table without the template engine is byte for byte the tabwriter’s', () => {
  let seed = 7
  const pick = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return CELLS[seed % CELLS.length]! }
  const keys = ['ID', 'Image', 'Command', 'RunningFor', 'Status', 'Ports', 'Names']
  const headers = { ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', RunningFor: 'CREATED', Status: 'STATUS', Ports: 'PORTS', Names: 'NAMES' }
  for (const n of [0, 1, 2, 5, 30]) {
    const rows = Array.from({ length: n }, () => Object.fromEntries(keys.map((k) => [k, pick()])))
    const want = renderRows({ rows, headers, defaultTableFormat: `table ${keys.map((k) => `{{.${k}}}`).join('\t')}` })
    const got = plainTable([keys.map((k) => headers[k as keyof typeof headers]), ...rows.map((r) => keys.map((k) => r[k]!))])
    assert.equal(got, want, `${n} rows`)
  }
  assert.equal(plainTable([['a\tb', 'c']]), undefined, 'a tab in a cell goes the generic way')
})
