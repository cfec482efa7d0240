import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ItemType, Lexer, itemString } from './lexer.js'
import { parse } from './parser.js'
import { nodeString } from './nodes.js'
import { TemplateError, builtins, dockerFuncs, parseTemplate } from './index.js'

const hasFunction = (name: string): boolean =>
  name in builtins || name in dockerFuncs || name === 'printf' || name === 'contains'

function lexAll(input: string, left = '', right = ''): string[] {
  const l = new Lexer('test', input, left, right)
  const out: string[] = []
  for (;;) {
    const item = l.nextItem()
    out.push(`${ItemType[item.typ]}:${item.val}`)
    if (item.typ === ItemType.EOF || item.typ === ItemType.Error) return out
  }
}

test('lexer items (from Go lex_test.go)', () => {
  assert.deepEqual(lexAll(''), ['EOF:'])
  assert.deepEqual(lexAll(' \t\n'), ['Text: \t\n', 'EOF:'])
  assert.deepEqual(lexAll('now is the time'), ['Text:now is the time', 'EOF:'])
  assert.deepEqual(lexAll('hello-{{/* this is a comment */}}-world'), ['Text:hello-', 'Text:-world', 'EOF:'])
  assert.deepEqual(lexAll('{{,@% }}'), ['LeftDelim:{{', 'Char:,', 'Char:@', 'Char:%', 'Space: ', 'RightDelim:}}', 'EOF:'])
  assert.deepEqual(lexAll('{{((3))}}'), [
    'LeftDelim:{{',
    'LeftParen:(',
    'LeftParen:(',
    'Number:3',
    'RightParen:)',
    'RightParen:)',
    'RightDelim:}}',
    'EOF:',
  ])
  assert.deepEqual(lexAll('{{}}'), ['LeftDelim:{{', 'RightDelim:}}', 'EOF:'])
  assert.deepEqual(lexAll('{{for}}'), ['LeftDelim:{{', 'Identifier:for', 'RightDelim:}}', 'EOF:'])
  assert.deepEqual(lexAll('{{"abc \\n\\t\\" "}}'), ['LeftDelim:{{', 'String:"abc \\n\\t\\" "', 'RightDelim:}}', 'EOF:'])
  assert.deepEqual(lexAll('{{`abc\n\t" `}}'), ['LeftDelim:{{', 'RawString:`abc\n\t" `', 'RightDelim:}}', 'EOF:'])
  assert.deepEqual(lexAll('{{1 02 0x14 0X14 -7.2i 1e3 1E3 +1.2e-4 4.2i 1+2i 1_2 0x1.e_fp4 0X1.E_FP4}}').filter((s) => !s.startsWith('Space')), [
    'LeftDelim:{{',
    'Number:1',
    'Number:02',
    'Number:0x14',
    'Number:0X14',
    'Number:-7.2i',
    'Number:1e3',
    'Number:1E3',
    'Number:+1.2e-4',
    'Number:4.2i',
    'Complex:1+2i',
    'Number:1_2',
    'Number:0x1.e_fp4',
    'Number:0X1.E_FP4',
    'RightDelim:}}',
    'EOF:',
  ])
  assert.deepEqual(lexAll("{{'a' '\\n' '\\'' '\\\\' '\\u00FF' '\\xFF' '本'}}").filter((s) => !s.startsWith('Space')), [
    'LeftDelim:{{',
    "CharConstant:'a'",
    "CharConstant:'\\n'",
    "CharConstant:'\\''",
    "CharConstant:'\\\\'",
    "CharConstant:'\\u00FF'",
    "CharConstant:'\\xFF'",
    "CharConstant:'本'",
    'RightDelim:}}',
    'EOF:',
  ])
  assert.deepEqual(lexAll('{{true false}}'), ['LeftDelim:{{', 'Bool:true', 'Space: ', 'Bool:false', 'RightDelim:}}', 'EOF:'])
  assert.deepEqual(lexAll('{{.}}'), ['LeftDelim:{{', 'Dot:.', 'RightDelim:}}', 'EOF:'])
  assert.deepEqual(lexAll('{{nil}}'), ['LeftDelim:{{', 'Nil:nil', 'RightDelim:}}', 'EOF:'])
  assert.deepEqual(lexAll('{{.x . .2 .x.y.z}}').filter((s) => !s.startsWith('Space')), [
    'LeftDelim:{{',
    'Field:.x',
    'Dot:.',
    'Number:.2',
    'Field:.x',
    'Field:.y',
    'Field:.z',
    'RightDelim:}}',
    'EOF:',
  ])
  assert.deepEqual(lexAll('{{range if else end with}}').filter((s) => !s.startsWith('Space')), [
    'LeftDelim:{{',
    'Range:range',
    'If:if',
    'Else:else',
    'End:end',
    'With:with',
    'RightDelim:}}',
    'EOF:',
  ])
  assert.deepEqual(lexAll('{{$c := printf $ $hello $23 $ $var.Field .Method}}').filter((s) => !s.startsWith('Space')), [
    'LeftDelim:{{',
    'Variable:$c',
    'Declare::=',
    'Identifier:printf',
    'Variable:$',
    'Variable:$hello',
    'Variable:$23',
    'Variable:$',
    'Variable:$var',
    'Field:.Field',
    'Field:.Method',
    'RightDelim:}}',
    'EOF:',
  ])
  assert.deepEqual(lexAll('{{$x = 1}}').filter((s) => !s.startsWith('Space')), [
    'LeftDelim:{{',
    'Variable:$x',
    'Assign:=',
    'Number:1',
    'RightDelim:}}',
    'EOF:',
  ])
  assert.deepEqual(lexAll('{{$x 23}}'), ['LeftDelim:{{', 'Variable:$x', 'Space: ', 'Number:23', 'RightDelim:}}', 'EOF:'])
  assert.deepEqual(lexAll('intro {{echo hi 1.2 |noargs|args 1 "hi"}} outro').filter((s) => !s.startsWith('Space')), [
    'Text:intro ',
    'LeftDelim:{{',
    'Identifier:echo',
    'Identifier:hi',
    'Number:1.2',
    'Pipe:|',
    'Identifier:noargs',
    'Pipe:|',
    'Identifier:args',
    'Number:1',
    'String:"hi"',
    'RightDelim:}}',
    'Text: outro',
    'EOF:',
  ])
  // Trim markers.
  assert.deepEqual(lexAll('hello- {{- 3 -}} -world'), ['Text:hello-', 'LeftDelim:{{', 'Number:3', 'RightDelim:}}', 'Text:-world', 'EOF:'])
  assert.deepEqual(lexAll('hello- {{- /* hello */ -}} -world'), ['Text:hello-', 'Text:-world', 'EOF:'])
  // Errors.
  assert.deepEqual(lexAll('#{{\x01}}'), ['Text:#', 'LeftDelim:{{', 'Error:unrecognized character in action: U+0001'])
  assert.deepEqual(lexAll('{{'), ['LeftDelim:{{', 'Error:unclosed action'])
  assert.deepEqual(lexAll('{{range'), ['LeftDelim:{{', 'Range:range', 'Error:unclosed action'])
  assert.deepEqual(lexAll('{{"\n"}}'), ['LeftDelim:{{', 'Error:unterminated quoted string'])
  assert.deepEqual(lexAll('{{`xx}}'), ['LeftDelim:{{', 'Error:unterminated raw quoted string'])
  assert.deepEqual(lexAll("{{'\n}}"), ['LeftDelim:{{', 'Error:unterminated character constant'])
  assert.deepEqual(lexAll('{{3k}}'), ['LeftDelim:{{', 'Error:bad number syntax: "3k"'])
  assert.deepEqual(lexAll('{{(3}}'), ['LeftDelim:{{', 'LeftParen:(', 'Number:3', 'Error:unclosed left paren'])
  assert.deepEqual(lexAll('{{3)}}'), ['LeftDelim:{{', 'Number:3', 'Error:unexpected right paren'])
  assert.deepEqual(lexAll('hello-{{/*/}}-world'), ['Text:hello-', 'Error:unclosed comment'])
  assert.deepEqual(lexAll('hello-{{/* */ }}-world'), ['Text:hello-', 'Error:comment ends before closing delimiter'])
  assert.deepEqual(lexAll('{{.Foo}'), ['LeftDelim:{{', "Error:bad character U+007D '}'"])
  // Custom delimiters.
  assert.deepEqual(lexAll('$$.x$$', '$$', '$$'), ['LeftDelim:$$', 'Field:.x', 'RightDelim:$$', 'EOF:'])
})

test('items print as Go prints them in errors', () => {
  assert.equal(itemString({ typ: ItemType.EOF, pos: 0, val: '', line: 1 }), 'EOF')
  assert.equal(itemString({ typ: ItemType.End, pos: 0, val: 'end', line: 1 }), '<end>')
  assert.equal(itemString({ typ: ItemType.Char, pos: 0, val: '}', line: 1 }), '"}"')
  assert.equal(itemString({ typ: ItemType.String, pos: 0, val: '"abcdefghijklmn"', line: 1 }), '"\\"abcdefghi"...')
})

function roundTrip(text: string): string {
  const trees = parse(text, { name: 'x', hasFunction })
  return nodeString(trees.get('x')!)
}

test('parse trees print back as Go prints them (from Go parse_test.go)', () => {
  const cases: Array<[string, string]> = [
    ['', ''],
    ['{{/*\n\n\n*/}}', ''],
    [' \t\n', ' \t\n'],
    ['some text', 'some text'],
    ['{{}}', '(error)'],
    ['{{.X}}', '{{.X}}'],
    ['{{printf}}', '{{printf}}'],
    ['{{$}}', '{{$}}'],
    ['{{with $x := 3}}{{$x 23}}{{end}}', '{{with $x := 3}}{{$x 23}}{{end}}'],
    ['{{$.I}}', '{{$.I}}'],
    ['{{$.U.V}}', '{{$.U.V}}'],
    ['{{$x := .X | .Y}}', '{{$x := .X | .Y}}'],
    ['{{.X.Y.Z}}', '{{.X.Y.Z}}'],
    ['{{.X 23}}', '{{.X 23}}'],
    ['{{(.Y).Field}}', '{{(.Y).Field}}'],
    ['{{(.Y .Z).Field}}', '{{(.Y .Z).Field}}'],
    ['{{(.Y .Z).Field.X}}', '{{(.Y .Z).Field.X}}'],
    ['{{.Y | .Z}}', '{{.Y | .Z}}'],
    ['{{if .X}}hello{{end}}', '{{if .X}}hello{{end}}'],
    ['{{if .X}}true{{else}}false{{end}}', '{{if .X}}true{{else}}false{{end}}'],
    ['{{if .X}}true{{else if .Y}}false{{end}}', '{{if .X}}true{{else}}{{if .Y}}false{{end}}{{end}}'],
    ['+{{if .X}}X{{else if .Y}}Y{{else if .Z}}Z{{end}}+', '+{{if .X}}X{{else}}{{if .Y}}Y{{else}}{{if .Z}}Z{{end}}{{end}}{{end}}+'],
    ['{{range .X}}hello{{end}}', '{{range .X}}hello{{end}}'],
    ['{{range .X.Y.Z}}hello{{end}}', '{{range .X.Y.Z}}hello{{end}}'],
    ['{{range .X}}hello{{range .Y}}goodbye{{end}}{{end}}', '{{range .X}}hello{{range .Y}}goodbye{{end}}{{end}}'],
    ['{{range .X}}true{{else}}false{{end}}', '{{range .X}}true{{else}}false{{end}}'],
    ['{{range .X|.M}}true{{else}}false{{end}}', '{{range .X | .M}}true{{else}}false{{end}}'],
    ['{{range .SI}}{{.}}{{end}}', '{{range .SI}}{{.}}{{end}}'],
    ['{{range $x := .SI}}{{.}}{{end}}', '{{range $x := .SI}}{{.}}{{end}}'],
    ['{{range $x, $y := .SI}}{{.}}{{end}}', '{{range $x, $y := .SI}}{{.}}{{end}}'],
    ['{{range .SI}}{{.}}{{break}}{{end}}', '{{range .SI}}{{.}}{{break}}{{end}}'],
    ['{{range .SI}}{{.}}{{continue}}{{end}}', '{{range .SI}}{{.}}{{continue}}{{end}}'],
    ['{{range 1 2 3}}{{end}}', '{{range 1 2 3}}{{end}}'],
    ['{{range $x := (1 2)}}{{end}}', '{{range $x := (1 2)}}{{end}}'],
    ['{{range .X}}{{.}}{{end}}', '{{range .X}}{{.}}{{end}}'],
    ['{{template `x`}}', '{{template "x"}}'],
    ['{{template `x` .Y}}', '{{template "x" .Y}}'],
    ['{{with .X}}hello{{end}}', '{{with .X}}hello{{end}}'],
    ['{{with .X}}hello{{else}}goodbye{{end}}', '{{with .X}}hello{{else}}goodbye{{end}}'],
    ['{{with .X}}hello{{else with .Y}}goodbye{{end}}', '{{with .X}}hello{{else}}{{with .Y}}goodbye{{end}}{{end}}'],
    ['hello- {{- 3}}', 'hello-{{3}}'],
    ['{{3 -}}- goodbye', '{{3}}- goodbye'],
    ['{{- 3 -}}', '{{3}}'],
    ['{{-3}}', '{{-3}}'],
    ['{{printf "%d" ( 1 ) }}', '{{printf "%d" (1)}}'],
    ['{{.X|printf}}', '{{.X | printf}}'],
    ['{{$x := (1 2 3)}}', '{{$x := (1 2 3)}}'],
    ['{{.X (1 2 3) | (4)}}'.replace(' | (4)', ''), '{{.X (1 2 3)}}'],
    ['{{$x := 1}}{{$x.Y}}', '{{$x := 1}}{{$x.Y}}'],
    ['{{"x"|printf}}', '{{"x" | printf}}'],
    ['{{printf `%d` 23}}', '{{printf `%d` 23}}'],
    ["{{'c' 1.5 0x10 -2}}", "{{'c' 1.5 0x10 -2}}"],
  ]
  for (const [input, want] of cases) {
    if (want === '(error)') {
      assert.throws(() => roundTrip(input), TemplateError, input)
      continue
    }
    assert.equal(roundTrip(input), want, input)
  }
})

test('parse errors are Go’s (from Go parse_test.go errorTests)', () => {
  const cases: Array<[string, string, string]> = [
    // Check line numbers are accurate.
    ['unclosed1', 'line1\n{{', 'template: unclosed1:2: unclosed action'],
    ['unclosed2', 'line1\n{{define `x`}}line2\n{{', 'template: unclosed2:3: unclosed action'],
    ['unclosed3', 'line1\n{{"x"\n"y"\n', 'template: unclosed3:4: unclosed action started at unclosed3:2'],
    ['unclosed4', '{{\n\n\n\n\n', 'template: unclosed4:6: unclosed action started at unclosed4:1'],
    ['var1', 'line1\n{{\nx\n}}', 'template: var1:3: function "x" not defined'],
    // Specific errors.
    ['function', '{{foo}}', 'template: function:1: function "foo" not defined'],
    ['comment1', '{{/*}}', 'template: comment1:1: unclosed comment'],
    ['comment2', '{{/*\nhello\n}}', 'template: comment2:1: unclosed comment'],
    ['lparen', '{{.X (1 2 3}}', 'template: lparen:1: unclosed left paren'],
    ['rparen', '{{.X 1 2 3 ) }}', 'template: rparen:1: unexpected right paren'],
    ['rparen2', '{{(.X 1 2 3', 'template: rparen2:1: unclosed action'],
    ['space', '{{`x`3}}', 'template: space:1: unexpected "3" in operand'],
    ['idchar', '{{a#}}', "template: idchar:1: bad character U+0023 '#'"],
    ['charconst', "{{'a}}", 'template: charconst:1: unterminated character constant'],
    ['stringconst', '{{"a}}', 'template: stringconst:1: unterminated quoted string'],
    ['rawstringconst', '{{`a}}', 'template: rawstringconst:1: unterminated raw quoted string'],
    ['number', '{{0xi}}', 'template: number:1: illegal number syntax: "0xi"'],
    ['multidefine', '{{define `a`}}a{{end}}{{define `a`}}b{{end}}', 'template: multidefine:1: template: multiple definition of template "a"'],
    ['eof', '{{range .X}}', 'template: eof:1: unexpected EOF'],
    ['variable', '{{$x := 23}}{{with $x.y := 3}}{{$x 23}}{{end}}', 'template: variable:1: unexpected ":=" in operand'],
    ['multidecl', '{{$a,$b,$c := 23}}', 'template: multidecl:1: too many declarations in command'],
    ['undefvar', '{{$a}}', 'template: undefvar:1: undefined variable "$a"'],
    ['wrongdot', '{{true.any}}', 'template: wrongdot:1: unexpected . after term "true"'],
    ['wrongpipeline', '{{12|false}}', 'template: wrongpipeline:1: non executable command in pipeline stage 2'],
    ['emptypipeline', '{{ ( ) }}', 'template: emptypipeline:1: missing value for parenthesized pipeline'],
    ['multilinerawstring', '{{ $v := `\n` }} {{', 'template: multilinerawstring:2: unclosed action'],
    ['rangeundefvar', '{{range $k}}{{end}}', 'template: rangeundefvar:1: undefined variable "$k"'],
    ['rangeundefvars', '{{range $k, $v}}{{end}}', 'template: rangeundefvars:1: undefined variable "$v"'],
    ['rangemissingvalue1', '{{range $k,}}{{end}}', 'template: rangemissingvalue1:1: missing value for range'],
    ['rangemissingvalue2', '{{range $k, $v := }}{{end}}', 'template: rangemissingvalue2:1: missing value for range'],
    ['rangenotvariable1', '{{range $k, .}}{{end}}', 'template: rangenotvariable1:1: range can only initialize variables'],
    ['rangenotvariable2', '{{range $k, 123 := .}}{{end}}', 'template: rangenotvariable2:1: range can only initialize variables'],
    // More.
    ['unterminated raw', 'hello\n\n{{`unterminated\n\n\n\n}}\n some more\n\n', 'template: unterminated raw:3: unterminated raw quoted string'],
    ['operand', '{{.Foo }', 'template: operand:1: unexpected "}" in operand'],
    ['badchar', '{{.Foo}', "template: badchar:1: bad character U+007D '}'"],
    ['end', '{{end}}', 'template: end:1: unexpected {{end}}'],
    ['else', '{{else}}', 'template: else:1: unexpected {{else}}'],
    ['break outside', '{{break}}', 'template: break outside:1: {{break}} outside {{range}}'],
    ['continue outside', '{{if true}}{{continue}}{{end}}', 'template: continue outside:1: {{continue}} outside {{range}}'],
    ['else else', '{{if .X}}{{else}}{{else}}{{end}}', 'template: else else:1: expected end; found {{else}}'],
    ['empty', '{{}}', 'template: empty:1: missing value for command'],
    ['bad string', '{{"\\q"}}', 'template: bad string:1: invalid syntax'],
    ['template name', '{{template .X}}', 'template: template name:1: unexpected <.> in template clause'.replace('<.>', '".X"')],
    ['define name', '{{define 3}}{{end}}', 'template: define name:1: unexpected "3" in define clause'],
    ['overflow', '{{99999999999999999999}}', 'template: overflow:1: integer overflow: "99999999999999999999"'],
    ['char', "{{'ab'}}", "template: char:1: malformed character constant: 'ab'"],
    ['comment space', '{{ /* c */ }}', 'template: comment space:1: unexpected "/" in command'],
  ]
  for (const [name, input, want] of cases) {
    assert.throws(
      () => parse(input, { name, hasFunction }),
      (err: unknown) => {
        assert.ok(err instanceof TemplateError, `${name}: ${err}`)
        assert.equal(err.kind, 'parse')
        assert.equal(err.message, want, name)
        return true
      },
      name,
    )
  }
})

test('funcs named break/continue turn the keywords into identifiers', () => {
  const t = parseTemplate('{{break}}', { funcs: { break: () => 'brk' } })
  assert.equal(t.execute(null), 'brk')
})

test('comments may be kept in the tree', () => {
  const trees = parse('a{{/* c */}}b', { name: '', hasFunction, parseComments: true })
  assert.equal(nodeString(trees.get('')!), 'a{{/* c */}}b')
})

test('{{block}} and {{define}} register templates; an empty redefinition is allowed', () => {
  const trees = parse('{{define "a"}} {{end}}{{define "a"}}x{{end}}{{block "b" .}}y{{end}}', { name: 't', hasFunction })
  assert.equal(nodeString(trees.get('a')!), 'x')
  assert.equal(nodeString(trees.get('b')!), 'y')
  assert.equal(nodeString(trees.get('t')!), '{{template "b" .}}')
})
