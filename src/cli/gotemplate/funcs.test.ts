import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  formatTemplate,
  goSplit,
  goTitle,
  headerFuncs,
  htmlEscape,
  jsEscape,
  marshalJSON,
  parseTemplate,
  urlQueryEscape,
} from './index.js'

test('docker json function (docker/cli templates_test.go)', () => {
  assert.equal(formatTemplate('{{json .Ports}}', { Ports: '0.0.0.0:2->8/udp' }), '"0.0.0.0:2->8/udp"')
  assert.equal(formatTemplate('{{json .}}', { a: '<&>', b: [1, 2.5, null, undefined], c: true, d: { e: 'f' } }), '{"a":"<&>","b":[1,2.5,null,null],"c":true,"d":{"e":"f"}}')
  assert.equal(formatTemplate('{{json .}}', 'line\n\ttab\u2028\u0001'), '"line\\n\\ttab\\u2028\\u0001"')
  assert.equal(formatTemplate('{{json .Missing}}', {}), 'null')
  assert.equal(formatTemplate('{{json .}}', []), '[]')
  assert.equal(formatTemplate('{{json .}}', {}), '{}')
  assert.equal(formatTemplate('{{json .}}', 1e21), '1e+21')
  assert.equal(formatTemplate('{{json .}}', 0.1), '0.1')
  assert.equal(formatTemplate('{{json .}}', 1e-7), '1e-7')
  assert.equal(formatTemplate('{{json .}}', 2n ** 64n), '18446744073709551616')
  assert.equal(formatTemplate('{{json .}}', new Map([['b', 1], ['a', 2]])), '{"a":2,"b":1}')
  assert.equal(formatTemplate('{{json .}}', new Date(Date.UTC(2024, 0, 2, 3, 4, 5))), '"2024-01-02T03:04:05Z"')
  assert.equal(formatTemplate('{{json .}}', { toJSON: () => ({ x: 1 }) }), '{"x":1}')
  assert.equal(formatTemplate('{{json .}}', { a: 1, m() { return 2 } }), '{"a":1}')
  assert.equal(formatTemplate('{{json .}}', new Uint8Array([104, 105])), '"aGk="')
  assert.equal(formatTemplate('{{json .}}', NaN), '') // encoding error: docker prints nothing
  assert.equal(formatTemplate('{{json .}}', '\ud800x'), '"\\ufffdx"')
  assert.equal(marshalJSON({ 'k"ey': 'v\\' }), '{"k\\"ey":"v\\\\"}')
})

test('docker string functions (docker/cli templates_test.go)', () => {
  assert.equal(formatTemplate('{{join (split . ":") "/"}}', 'text:with:colon'), 'text/with/colon')
  assert.equal(formatTemplate('this is a {{ . }}', 'string'), 'this is a string')
  const source = 'tupx5xzf6hvsrhnruz5cr8gwp'
  assert.equal(formatTemplate('{{truncate . 5}}', source), 'tupx5')
  assert.equal(formatTemplate('{{truncate . 25}}', source), source)
  assert.equal(formatTemplate('{{truncate . 30}}', source), source)
  assert.equal(formatTemplate('{{pad . 3 3}}', source), '   tupx5xzf6hvsrhnruz5cr8gwp   ')
  for (const t of ['{{truncate . 5}}', '{{truncate . 25}}', '{{pad . 3 3}}']) {
    assert.equal(formatTemplate(t, ''), '')
    assert.throws(() => formatTemplate(t, null), /invalid value; expected string/)
  }
  assert.equal(formatTemplate('{{upper .}}|{{lower .}}|{{title .}}', 'hello wORLD-foo_bar'), 'HELLO WORLD-FOO_BAR|hello world-foo_bar|Hello WORLD-Foo_bar')
  assert.equal(formatTemplate('{{split . ","}}', 'a,b,,c'), '[a b  c]')
  assert.equal(formatTemplate('{{len (split . "")}}', 'héllo'), '5')
  assert.equal(formatTemplate('{{range split . ","}}<{{.}}>{{end}}', 'x,y'), '<x><y>')
  assert.equal(formatTemplate('{{join .Names ", "}}', { Names: ['a', 'b'] }), 'a, b')
  assert.equal(formatTemplate('{{join .Names ", "}}', { Names: [] }), '')
  assert.throws(() => formatTemplate('{{join .Names ", "}}', { Names: [1, 2] }), /wrong type for value; expected \[\]string; got \[\]interface \{\}/)
  assert.throws(() => formatTemplate('{{pad . -1 0}}', 'x'), /error calling pad: strings: negative Repeat count/)
  assert.equal(formatTemplate('{{truncate . 2}}', 'héllo'), 'h\ufffd') // byte-wise, as Go
  assert.equal(formatTemplate('{{.Name | truncate 3 | upper}}'.replace('truncate 3', 'printf "%.3s"'), { Name: 'abcdef' }), 'ABC')
})

test('header functions leave headings alone (docker/cli TestHeaderFunctions)', () => {
  for (const t of ['{{ json .}}', '{{ split . ","}}', '{{ join . ","}}', '{{ title .}}', '{{ lower .}}', '{{ upper .}}', '{{ truncate . 2}}']) {
    const tmpl = parseTemplate(t, { funcs: headerFuncs })
    assert.equal(tmpl.execute('hello world'), 'hello world', t)
  }
})

test('strings.Title and Split', () => {
  assert.equal(goTitle('her royal highness'), 'Her Royal Highness')
  assert.equal(goTitle('loud noises'), 'Loud Noises')
  assert.equal(goTitle('хлеб'), 'Хлеб')
  assert.equal(goTitle('a-b c.d'), 'A-B C.D')
  assert.deepEqual(goSplit('a,b,c', ','), ['a', 'b', 'c'])
  assert.deepEqual(goSplit('', ','), [''])
  assert.deepEqual(goSplit('a😀', ''), ['a', '😀'])
})

test('escapers (from Go exec_test.go)', () => {
  assert.equal(htmlEscape('<script>alert("XSS");</script>\'&\0'), '&lt;script&gt;alert(&#34;XSS&#34;);&lt;/script&gt;&#39;&amp;\uFFFD')
  const js: Array<[string, string]> = [
    ['a', 'a'],
    ["'foo", "\\'foo"],
    ['Go "jump" \\', 'Go \\"jump\\" \\\\'],
    ['Yukihiro says "今日は世界"', 'Yukihiro says \\"今日は世界\\"'],
    ['unprintable \uFFFE', 'unprintable \\uFFFE'],
    ['<html>', '\\u003Chtml\\u003E'],
    ['no = in attributes', 'no \\u003D in attributes'],
    ['&#x27; does not become HTML entity', '\\u0026#x27; does not become HTML entity'],
    ['\n\x01', '\\u000A\\u0001'],
  ]
  for (const [input, want] of js) assert.equal(jsEscape(input), want, input)
  assert.equal(urlQueryEscape('http://www.example.org/'), 'http%3A%2F%2Fwww.example.org%2F')
  assert.equal(urlQueryEscape('a b~c-d_e.f*g'), 'a+b~c-d_e.f%2Ag')
  assert.equal(urlQueryEscape('é'), '%C3%A9')
  assert.equal(formatTemplate('{{urlquery "a" 1}}', null), 'a1')
  assert.equal(formatTemplate('{{js .X}}', { X: null }), '\\u003Cnil\\u003E')
})

test('plain text/template has no docker functions', () => {
  assert.throws(() => parseTemplate('{{json .}}', { funcs: {} }), /function "json" not defined/)
  assert.equal(parseTemplate('{{printf "%v" .}}', { funcs: {} }).execute(1), '1')
})

test('user functions: plain functions take any arguments; goFunc ones are checked', () => {
  const t = parseTemplate('{{greet "a" 1}}|{{.X | greet}}', { funcs: { greet: (...a: unknown[]) => a.join('+') } })
  assert.equal(t.execute({ X: 'x' }), 'a+1|x')
})
