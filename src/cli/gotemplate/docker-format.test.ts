import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  isJSONFormat,
  isTableFormat,
  marshalContext,
  parseFormat,
  prepareFormat,
  renderRows,
  resolveFormat,
} from './docker-format.js'
import { TemplateError, goStruct } from './index.js'

const rows = [
  { ID: 'c0ffee000001', Image: 'nginx:latest', Names: 'web', Status: 'Up 2 minutes', Label: (k: string) => (k === 'tier' ? 'front' : '') },
  { ID: 'c0ffee000002', Image: 'postgres:16', Names: 'db-primary', Status: 'Exited (0) 3 hours ago', Label: (_k: string) => '' },
]
const headers = { ID: 'CONTAINER ID', Image: 'IMAGE', Names: 'NAMES', Status: 'STATUS' }
const defaultTableFormat = 'table {{.ID}}\\t{{.Image}}\\t{{.Status}}\\t{{.Names}}'

test('format keys (formatter.Format)', () => {
  assert.equal(isTableFormat('table {{.ID}}'), true)
  assert.equal(isTableFormat('tablefoo'), true)
  assert.equal(isTableFormat(' table'), false)
  assert.equal(isJSONFormat('json'), true)
  assert.equal(isJSONFormat('json '), false)
  assert.deepEqual(prepareFormat('table {{.ID}}\\t{{.Name}}'), { template: '{{.ID}}\t{{.Name}}', table: true, json: false })
  assert.deepEqual(prepareFormat('json'), { template: '{{json .}}', table: false, json: true })
  assert.deepEqual(prepareFormat('  {{.ID}}\\n  '), { template: '{{.ID}}\n', table: false, json: false })
  assert.deepEqual(prepareFormat('{{.A}}\\\\t'), { template: '{{.A}}\\\t', table: false, json: false })
  assert.deepEqual(prepareFormat('\t{{.A}}\t'), { template: '\t{{.A}}\t', table: false, json: false })
})

test('default table: header from the headings, columns aligned by the tabwriter', () => {
  const out = renderRows({ rows, headers, defaultTableFormat })
  assert.equal(
    out,
    'CONTAINER ID   IMAGE          STATUS                   NAMES\n' +
      'c0ffee000001   nginx:latest   Up 2 minutes             web\n' +
      'c0ffee000002   postgres:16    Exited (0) 3 hours ago   db-primary\n',
  )
  assert.equal(renderRows({ format: 'table', rows, headers, defaultTableFormat }), out)
})

test('table with no rows prints the header only', () => {
  assert.equal(renderRows({ rows: [], headers, defaultTableFormat }), 'CONTAINER ID   IMAGE     STATUS    NAMES\n')
})

test('custom table: functions are neutralised in the header, pad is not', () => {
  const out = renderRows({ format: 'table {{.Names | upper}}\\t{{json .Image}}\\t{{pad .ID 1 1}}|', rows, headers })
  assert.equal(
    out,
    'NAMES        IMAGE             CONTAINER ID |\n' +
      'WEB          "nginx:latest"    c0ffee000001 |\n' +
      'DB-PRIMARY   "postgres:16"     c0ffee000002 |\n',
  )
})

test('a field without a heading renders <no value> in the header', () => {
  const out = renderRows({ format: 'table {{.ID}}\\t{{.Size}}', rows: [{ ID: 'x', Size: '1kB' }], headers })
  assert.equal(out, 'CONTAINER ID   <no value>\nx              1kB\n')
})

test('a header that fails keeps what it rendered (errors are ignored, as docker does)', () => {
  // Against the headings map, .Label with an argument is an error ("Label is not a method but
  // has arguments"); ranging over a heading (a string) is another.
  assert.equal(renderRows({ format: 'table {{.ID}}\\t{{.Label "tier"}}', rows, headers }), 'CONTAINER ID   \nc0ffee000001   front\nc0ffee000002   \n')
  const out = renderRows({ format: 'table {{.ID}}\\t{{range .Names}}{{.}}{{end}}', rows: [{ ID: 'x', Names: ['n'] }], headers })
  assert.equal(out, 'CONTAINER ID   \nx              n\n')
})

test('non-table formats print one line per row', () => {
  assert.equal(renderRows({ format: '{{.ID}}: {{.Names}}', rows, headers }), 'c0ffee000001: web\nc0ffee000002: db-primary\n')
  assert.equal(renderRows({ format: '{{.ID}}\\t{{.Names}}', rows, headers }), 'c0ffee000001\tweb\nc0ffee000002\tdb-primary\n')
  assert.equal(renderRows({ format: '{{.ID}}', rows: [], headers }), '')
})

test('--format json prints each row as docker marshals formatter contexts', () => {
  const out = renderRows({ format: 'json', rows, headers, defaultTableFormat })
  assert.equal(
    out,
    '{"ID":"c0ffee000001","Image":"nginx:latest","Names":"web","Status":"Up 2 minutes"}\n' +
      '{"ID":"c0ffee000002","Image":"postgres:16","Names":"db-primary","Status":"Exited (0) 3 hours ago"}\n',
  )
  // {{json .}} in a custom format marshals the row the same way; nested values stay as they are.
  assert.equal(
    renderRows({ format: '{{json .}} {{json .Nested}}', rows: [{ Z: 1, A: 2, Nested: { z: 1, a: 2 } }] }),
    '{"A":2,"Nested":{"z":1,"a":2},"Z":1}' + ' {"z":1,"a":2}\n',
  )
})

test('marshalContext: exported getters and zero-argument methods, sorted', () => {
  class Ctx {
    #c = { id: 'abc', labels: { a: 'b' } }
    get ID(): string {
      return this.#c.id
    }
    Labels(): string {
      return 'a=b'
    }
    Label(name: string): string {
      return name
    }
    FullHeader(): unknown {
      return {}
    }
    lower(): string {
      return 'no'
    }
  }
  assert.equal(marshalContext(new Ctx()), '{"ID":"abc","Labels":"a=b"}')
})

test('quiet and raw', () => {
  assert.equal(renderRows({ rows, headers, defaultTableFormat, quiet: true }), 'c0ffee000001\nc0ffee000002\n')
  assert.equal(renderRows({ format: 'table', rows, headers, defaultTableFormat, quiet: true }), 'c0ffee000001\nc0ffee000002\n')
  // A custom format wins over -q (NewContainerFormat only applies quiet to the table key).
  assert.equal(renderRows({ format: '{{.Names}}', rows, headers, defaultTableFormat, quiet: true }), 'web\ndb-primary\n')
  assert.equal(resolveFormat({ format: 'raw', rawFormat: 'id: {{.ID}}\\n' }), 'id: {{.ID}}\\n')
  assert.equal(renderRows({ format: 'raw', rawFormat: 'id: {{.ID}}\\n', rows: [rows[0]] }), 'id: c0ffee000001\n\n')
})

test('errors read "template parsing error: ..."', () => {
  assert.throws(
    () => renderRows({ format: '{{.ID}', rows, headers }),
    (err: unknown) => {
      assert.ok(err instanceof TemplateError)
      assert.equal(err.message, "template parsing error: template: :1: bad character U+007D '}'")
      return true
    },
  )
  assert.throws(() => renderRows({ format: '{{nope}}', rows, headers }), {
    message: 'template parsing error: template: :1: function "nope" not defined',
  })
  const structRows = rows.map((r) => goStruct({ ...r }, '*formatter.ContainerContext'))
  const want = {
    message:
      'template parsing error: template: :1:10: executing "" at <.Foo>: can\'t evaluate field Foo in type *formatter.ContainerContext',
  }
  assert.throws(() => renderRows({ format: 'table {{.ID}}\\t{{.Foo}}', rows: structRows, headers }), want)
  assert.throws(() => renderRows({ format: 'table {{.ID}}\\t{{.Foo}}', rows, headers, rowType: '*formatter.ContainerContext' }), want)
  // rowType leaves the rows themselves alone, and json still marshals them.
  assert.equal(renderRows({ format: '{{.Names}} {{json .}}', rows: [{ Names: 'a' }], rowType: 'T' }), 'a {"Names":"a"}\n')
})

test('parseFormat renders rows and headers separately', () => {
  const f = parseFormat('table {{.ID}}\\t{{.Names}}')
  assert.equal(f.table, true)
  assert.equal(f.executeRow(rows[0]), 'c0ffee000001\tweb')
  assert.equal(f.executeHeader(headers), 'CONTAINER ID\tNAMES')
})
