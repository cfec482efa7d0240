import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  type FuncMap,
  GoComplex,
  TemplateError,
  dockerFuncs,
  goFunc,
  goStruct,
  parseTemplate,
  sprint,
  sprintf,
  sprintln,
} from './index.js'

// Functions like the ones Go's exec_test.go registers.
const testFuncs: FuncMap = {
  ...dockerFuncs,
  add: goFunc([], (...xs: number[]) => xs.reduce((a, b) => a + b, 0), 'int'),
  count: goFunc(['int'], (n: number) => Array.from({ length: n }, (_, i) => 'abcdefghijklmnop'[i])),
  dddArg: goFunc(['int'], (a: number, ...b: string[]) => sprintln(a, b), 'string'),
  die: goFunc([], () => {
    throw new Error('die')
  }),
  echo: goFunc(['any'], (v: unknown) => v),
  makemap: goFunc(
    [],
    (...a: string[]) => {
      const m: Record<string, string> = {}
      for (let i = 0; i < a.length; i += 2) m[a[i]!] = a[i + 1]!
      return m
    },
    'string',
  ),
  mapOfThree: goFunc([], () => ({ three: 3 })),
  oneArg: goFunc(['string'], (a: string) => 'oneArg=' + a),
  returnInt: goFunc([], () => 7),
  twoArgs: goFunc(['string', 'string'], (a: string, b: string) => 'twoArgs=' + a + b),
  valueString: goFunc(['string'], () => 'value is ignored'),
  zeroArgs: goFunc([], () => 'zeroArgs'),
  typeOf: goFunc(['any'], (v: unknown) => sprintf('%T', v)),
}

class U {
  V = 'v'
  TrueFalse(b: boolean): string {
    return b ? 'true' : ''
  }
}

class T {
  True = true
  I = 17
  U16 = 16
  X = 'x'
  S = 'xyz'
  U = new U()
  SI = [3, 4, 5]
  SIEmpty: number[] = []
  SB = [true, false]
  AI = [3, 4, 5]
  MSI: Record<string, number> = { one: 1, two: 2, three: 3 }
  MSIone: Record<string, number> = { one: 1 }
  MSIEmpty: Record<string, number> = {}
  MXI: Record<string, unknown> = {}
  SMSI = [
    { one: 1, two: 2 },
    { eleven: 11, twelve: 12 },
  ]
  Empty0: unknown = undefined
  Empty1: unknown = 3
  Empty2: unknown = 'empty2'
  Empty3: unknown = [7, 8]
  Empty4: unknown = goStruct({ V: 'UinEmpty' }, 'template.U')
  NIL: unknown = null
  FloatZero = 0.0
  ComplexZero = new GoComplex(0, 0)
  Str = { String: () => 'foozle' }
  Err = new Error('erroozle')
  BinaryFunc = (a: string, b: string): string => `[${a}=${b}]`
  VariadicFunc = (...s: string[]): string => `<${s.join('+')}>`
  NilOKFunc = (v: unknown): boolean => v === undefined || v === null
  ErrFunc = (): string => 'bla'
  Method0(): string {
    return 'M0'
  }
  Method1(a: number): number {
    return a
  }
  Method2(a: number, b: string): string {
    return `Method2: ${a} ${b}`
  }
  Method3(v: unknown): string {
    return `Method3: ${sprint(v)}`
  }
  MAdd(a: number, b: number[]): number[] {
    return b.map((x) => x + a)
  }
  MyError(fail: boolean): boolean {
    if (fail) throw new Error('my error')
    return false
  }
  GetU(): U {
    return this.U
  }
}
const tVal = new T()

function run(text: string, data: unknown, opts: Parameters<typeof parseTemplate>[1] = {}): string {
  return parseTemplate(text, { name: 'tmpl', funcs: testFuncs, ...opts }).execute(data)
}

type Case = [name: string, input: string, output: string, data: unknown, ok?: boolean]

const execTests: Case[] = [
  // Trivial cases.
  ['empty', '', '', undefined],
  ['text', 'some text', 'some text', undefined],
  ['nil action', '{{nil}}', '', undefined, false],

  // Ideal constants.
  ['ideal int', '{{typeOf 3}}', 'int', 0],
  ['ideal float', '{{typeOf 1.5}}', 'float64', 0],
  ['ideal complex', '{{typeOf 1i}}', 'complex128', 0],
  ['ideal big int', '{{typeOf 9223372036854775807}}', 'int', 0],
  ['ideal too big', '{{typeOf 9223372036854775808}}', '', 0, false],

  // Fields of structs.
  ['.X', '-{{.X}}-', '-x-', tVal],
  ['.U.V', '-{{.U.V}}-', '-v-', tVal],

  // Fields on maps.
  ['map .one', '{{.MSI.one}}', '1', tVal],
  ['map .two', '{{.MSI.two}}', '2', tVal],
  ['map .NO', '{{.MSI.NO}}', '<no value>', tVal],
  ['map .one interface', '{{.MXI.one}}', '<no value>', tVal],
  ['map .WRONG args', '{{.MSI.one 1}}', '', tVal, false],
  ['map .WRONG type', '{{.MII.one}}', '', tVal, false],

  // Dots of all kinds to test basic evaluation.
  ['dot int', '<{{.}}>', '<13>', 13],
  ['dot float', '<{{.}}>', '<15.1>', 15.1],
  ['dot bool', '<{{.}}>', '<true>', true],
  ['dot complex', '<{{.}}>', '<(16.2-17i)>', new GoComplex(16.2, -17)],
  ['dot string', '<{{.}}>', '<hello>', 'hello'],
  ['dot slice', '<{{.}}>', '<[-1 -2 -3]>', [-1, -2, -3]],
  ['dot map', '<{{.}}>', '<map[two:22]>', { two: 22 }],
  ['dot struct', '<{{.}}>', '<{7 seven}>', goStruct({ a: 7, b: 'seven' }, 'struct { a int; b string }')],

  // Variables.
  ['$ int', '{{$}}', '123', 123],
  ['$.I', '{{$.I}}', '17', tVal],
  ['$.U.V', '{{$.U.V}}', 'v', tVal],
  ['declare in action', '{{$x := $.U.V}}{{$x}}', 'v', tVal],
  ['simple assignment', '{{$x := 2}}{{$x = 3}}{{$x}}', '3', tVal],
  ['nested assignment', '{{$x := 2}}{{if true}}{{$x = 3}}{{end}}{{$x}}', '3', tVal],
  [
    'nested assignment changes the last declaration',
    '{{$x := 1}}{{if true}}{{$x := 2}}{{if true}}{{$x = 3}}{{end}}{{end}}{{$x}}',
    '1',
    tVal,
  ],

  // Type with String method.
  ['String()', '-{{.Str}}-', '-foozle-', tVal],
  ['Error()', '-{{.Err}}-', '-erroozle-', tVal],

  // Pointers.
  ['NIL', '{{.NIL}}', '<nil>', tVal],

  // Empty interfaces holding values.
  ['empty nil', '{{.Empty0}}', '<no value>', tVal],
  ['empty with int', '{{.Empty1}}', '3', tVal],
  ['empty with string', '{{.Empty2}}', 'empty2', tVal],
  ['empty with slice', '{{.Empty3}}', '[7 8]', tVal],
  ['empty with struct', '{{.Empty4}}', '{UinEmpty}', tVal],
  ['empty with struct, field', '{{.Empty4.V}}', 'UinEmpty', tVal],

  // Edge cases with <no value> with an interface value
  ['field on interface', '{{.foo}}', '<no value>', undefined],
  ['field on parenthesized interface', '{{(.).foo}}', '<no value>', undefined],

  // Issue 31810: Parenthesized first element of pipeline with arguments.
  ['unparenthesized non-function', '{{1 2}}', '', undefined, false],
  ['parenthesized non-function', '{{(1) 2}}', '', undefined, false],
  ['parenthesized non-function with no args', '{{(1)}}', '1', undefined],

  // Method calls.
  ['.Method0', '-{{.Method0}}-', '-M0-', tVal],
  ['.Method1(1234)', '-{{.Method1 1234}}-', '-1234-', tVal],
  ['.Method1(.I)', '-{{.Method1 .I}}-', '-17-', tVal],
  ['.Method2(3, .X)', '-{{.Method2 3 .X}}-', '-Method2: 3 x-', tVal],
  ['.Method2(.U16, `str`)', '-{{.Method2 .U16 `str`}}-', '-Method2: 16 str-', tVal],
  ['.Method2(.U16, $x)', '{{if $x := .X}}-{{.Method2 .U16 $x}}{{end}}-', '-Method2: 16 x-', tVal],
  ['.Method3(nil constant)', '-{{.Method3 nil}}-', '-Method3: <nil>-', tVal],
  ['.Method3(nil value)', '-{{.Method3 .MXI.unset}}-', '-Method3: <nil>-', tVal],
  ['method on var', '{{if $x := .}}-{{$x.Method2 .U16 $x.X}}{{end}}-', '-Method2: 16 x-', tVal],
  [
    'method on chained var',
    '{{range .MSIone}}{{if $.U.TrueFalse $.True}}{{$.U.TrueFalse $.True}}{{else}}WRONG{{end}}{{end}}',
    'true',
    tVal,
  ],
  [
    'chained method',
    '{{range .MSIone}}{{if $.GetU.TrueFalse $.True}}{{$.U.TrueFalse $.True}}{{else}}WRONG{{end}}{{end}}',
    'true',
    tVal,
  ],
  ['chained method on variable', '{{with $x := .}}{{with .SI}}{{$.GetU.TrueFalse $.True}}{{end}}{{end}}', 'true', tVal],
  ['method missing args', '{{.Method1}}', '', tVal, false],

  // Function call builtin.
  ['.BinaryFunc', '{{call .BinaryFunc `1` `2`}}', '[1=2]', tVal],
  ['.VariadicFunc0', '{{call .VariadicFunc}}', '<>', tVal],
  ['.VariadicFunc2', '{{call .VariadicFunc `he` `llo`}}', '<he+llo>', tVal],
  ['.NilOKFunc nil', '{{call .NilOKFunc nil}}', 'true', tVal],
  ['.ErrFunc', '{{call .ErrFunc}}', 'bla', tVal],
  ['call nil', '{{call nil}}', '', tVal, false],
  ['empty call', '{{call}}', '', tVal, false],
  ['call with a chained function', '{{call ($).BinaryFunc `a` `b`}}', '[a=b]', tVal],
  ['call with a function variable', '{{$f := .}}{{call $f.VariadicFunc `x`}}', '<x>', tVal],
  ['empty call after pipe invalid', '{{1 | call}}', '', tVal, false],

  // Pipelines.
  ['pipeline', '-{{.Method0 | .Method2 .U16}}-', '-Method2: 16 M0-', tVal],
  ['pipeline func', '-{{call .VariadicFunc `llo` | call .VariadicFunc `he` }}-', '-<he+<llo>>-', tVal],

  // Nil values aren't missing arguments.
  ['nil pipeline', '{{ .Empty0 | call .NilOKFunc }}', 'true', tVal],
  ['nil call arg', '{{ call .NilOKFunc .Empty0 }}', 'true', tVal],

  // Parenthesized expressions
  ['parens in pipeline', '{{printf `%d %d %d` (1) (2 | add 3) (add 4 (add 5 6))}}', '1 5 15', tVal],

  // Parenthesized expressions with field accesses
  ['parens: $ in paren', '{{($).X}}', 'x', tVal],
  ['parens: $.GetU in paren', '{{($.GetU).V}}', 'v', tVal],
  ['parens: $ in paren in pipe', '{{($ | echo).X}}', 'x', tVal],
  ['parens: spaces and args', '{{(makemap "up" "down" "left" "right").left}}', 'right', tVal],

  // If.
  ['if true', '{{if true}}TRUE{{end}}', 'TRUE', tVal],
  ['if false', '{{if false}}TRUE{{else}}FALSE{{end}}', 'FALSE', tVal],
  ['if nil', '{{if nil}}TRUE{{end}}', '', tVal, false],
  ['if 1', '{{if 1}}NON-ZERO{{else}}ZERO{{end}}', 'NON-ZERO', tVal],
  ['if 0', '{{if 0}}NON-ZERO{{else}}ZERO{{end}}', 'ZERO', tVal],
  ['if 1.5', '{{if 1.5}}NON-ZERO{{else}}ZERO{{end}}', 'NON-ZERO', tVal],
  ['if 0.0', '{{if .FloatZero}}NON-ZERO{{else}}ZERO{{end}}', 'ZERO', tVal],
  ['if 1.5i', '{{if 1.5i}}NON-ZERO{{else}}ZERO{{end}}', 'NON-ZERO', tVal],
  ['if 0.0i', '{{if .ComplexZero}}NON-ZERO{{else}}ZERO{{end}}', 'ZERO', tVal],
  ['if nilPointer', '{{if .NIL}}NON-ZERO{{else}}ZERO{{end}}', 'ZERO', tVal],
  ['if emptystring', '{{if ``}}NON-EMPTY{{else}}EMPTY{{end}}', 'EMPTY', tVal],
  ['if string', '{{if `notempty`}}NON-EMPTY{{else}}EMPTY{{end}}', 'NON-EMPTY', tVal],
  ['if emptyslice', '{{if .SIEmpty}}NON-EMPTY{{else}}EMPTY{{end}}', 'EMPTY', tVal],
  ['if slice', '{{if .SI}}NON-EMPTY{{else}}EMPTY{{end}}', 'NON-EMPTY', tVal],
  ['if emptymap', '{{if .MSIEmpty}}NON-EMPTY{{else}}EMPTY{{end}}', 'EMPTY', tVal],
  ['if map', '{{if .MSI}}NON-EMPTY{{else}}EMPTY{{end}}', 'NON-EMPTY', tVal],
  ['if map unset', '{{if .MXI.none}}NON-ZERO{{else}}ZERO{{end}}', 'ZERO', tVal],
  ['if map not unset', '{{if not .MXI.none}}ZERO{{else}}NON-ZERO{{end}}', 'ZERO', tVal],
  ['if $x with $y int', '{{if $x := true}}{{with $y := .I}}{{$x}},{{$y}}{{end}}{{end}}', 'true,17', tVal],
  ['if $x with $x int', '{{if $x := true}}{{with $x := .I}}{{$x}},{{end}}{{$x}}{{end}}', '17,true', tVal],
  ['if else if', '{{if false}}FALSE{{else if true}}TRUE{{end}}', 'TRUE', tVal],
  ['if else chain', '{{if eq 1 3}}1{{else if eq 2 3}}2{{else if eq 3 3}}3{{end}}', '3', tVal],

  // Print etc.
  ['print', '{{print "hello, print"}}', 'hello, print', tVal],
  ['print 123', '{{print 1 2 3}}', '1 2 3', tVal],
  ['print nil', '{{print nil}}', '<nil>', tVal],
  ['println', '{{println 1 2 3}}', '1 2 3\n', tVal],
  ['printf int', '{{printf "%04x" 127}}', '007f', tVal],
  ['printf float', '{{printf "%g" 3.5}}', '3.5', tVal],
  ['printf complex', '{{printf "%g" 1+7i}}', '(1+7i)', tVal],
  ['printf string', '{{printf "%s" "hello"}}', 'hello', tVal],
  ['printf function', '{{printf "%#q" zeroArgs}}', '`zeroArgs`', tVal],
  ['printf field', '{{printf "%s" .U.V}}', 'v', tVal],
  ['printf method', '{{printf "%s" .Method0}}', 'M0', tVal],
  ['printf dot', '{{with .I}}{{printf "%d" .}}{{end}}', '17', tVal],
  ['printf var', '{{with $x := .I}}{{printf "%d" $x}}{{end}}', '17', tVal],
  ['printf lots', '{{printf "%d %s %g %s" 127 "hello" 7-3i .Method0}}', '127 hello (7-3i) M0', tVal],

  // HTML.
  ['html', '{{html "<script>alert(\\"XSS\\");</script>"}}', '&lt;script&gt;alert(&#34;XSS&#34;);&lt;/script&gt;', undefined],
  [
    'html pipeline',
    '{{printf "<script>alert(\\"XSS\\");</script>" | html}}',
    '&lt;script&gt;alert(&#34;XSS&#34;);&lt;/script&gt;',
    undefined,
  ],
  ['html typed nil', '{{html .NIL}}', '&lt;nil&gt;', tVal],
  ['html untyped nil', '{{html .Empty0}}', '&lt;no value&gt;', tVal],

  // JavaScript.
  ['js', '{{js .}}', "It\\'d be nice.", "It'd be nice."],

  // URL query.
  ['urlquery', '{{"http://www.example.org/"|urlquery}}', 'http%3A%2F%2Fwww.example.org%2F', undefined],

  // Booleans
  ['not', '{{not true}} {{not false}}', 'false true', undefined],
  ['and', '{{and false 0}} {{and 1 0}} {{and 0 true}} {{and 1 1}}', 'false 0 0 1', undefined],
  ['or', '{{or 0 0}} {{or 1 0}} {{or 0 true}} {{or 1 1}}', '0 1 true 1', undefined],
  ['or short-circuit', '{{or 0 1 (die)}}', '1', undefined],
  ['and short-circuit', '{{and 1 0 (die)}}', '0', undefined],
  ['or short-circuit2', '{{or 0 0 (die)}}', '', undefined, false],
  ['and short-circuit2', '{{and 1 1 (die)}}', '', undefined, false],
  ['and pipe-true', '{{1 | and 1}}', '1', undefined],
  ['and pipe-false', '{{0 | and 1}}', '0', undefined],
  ['or pipe-true', '{{1 | or 0}}', '1', undefined],
  ['or pipe-false', '{{0 | or 0}}', '0', undefined],
  ['and undef', '{{and 1 .Unknown}}', '<no value>', undefined],
  ['or undef', '{{or 0 .Unknown}}', '<no value>', undefined],
  ['boolean if', '{{if and true 1 `hi`}}TRUE{{else}}FALSE{{end}}', 'TRUE', tVal],
  ['boolean if not', '{{if and true 1 `hi` | not}}TRUE{{else}}FALSE{{end}}', 'FALSE', undefined],
  ['boolean if pipe', '{{if true | not | and 1}}TRUE{{else}}FALSE{{end}}', 'FALSE', undefined],

  // Indexing.
  ['slice[0]', '{{index .SI 0}}', '3', tVal],
  ['slice[1]', '{{index .SI 1}}', '4', tVal],
  ['slice[HUGE]', '{{index .SI 10}}', '', tVal, false],
  ['slice[WRONG]', '{{index .SI `hello`}}', '', tVal, false],
  ['slice[nil]', '{{index .SI nil}}', '', tVal, false],
  ['map[one]', '{{index .MSI `one`}}', '1', tVal],
  ['map[two]', '{{index .MSI `two`}}', '2', tVal],
  ['map[NO]', '{{index .MSI `XXX`}}', '<no value>', tVal],
  ['map[nil]', '{{index .MSI nil}}', '', tVal, false],
  ['map[WRONG]', '{{index .MSI 10}}', '', tVal, false],
  ['double index', '{{index .SMSI 1 `eleven`}}', '11', tVal],
  ['nil[1]', '{{index nil 1}}', '', tVal, false],
  ['index of an interface field', '{{index .Empty3 0}}', '7', tVal],
  ['string index', '{{index "hi" 1}}', '105', undefined],

  // Slicing.
  ['slice[:]', '{{slice .SI}}', '[3 4 5]', tVal],
  ['slice[1:]', '{{slice .SI 1}}', '[4 5]', tVal],
  ['slice[1:2]', '{{slice .SI 1 2}}', '[4]', tVal],
  ['slice[-1:]', '{{slice .SI -1}}', '', tVal, false],
  ['slice[1:-2]', '{{slice .SI 1 -2}}', '', tVal, false],
  ['slice[1:2:-1]', '{{slice .SI 1 2 -1}}', '', tVal, false],
  ['slice[2:1]', '{{slice .SI 2 1}}', '', tVal, false],
  ['slice[2:2:1]', '{{slice .SI 2 2 1}}', '', tVal, false],
  ['out of range', '{{slice .SI 4 5}}', '', tVal, false],
  ['array[1:2]', '{{slice .AI 1 2}}', '[4]', tVal],
  ['string[:]', '{{slice .S}}', 'xyz', tVal],
  ['string[0:1]', '{{slice .S 0 1}}', 'x', tVal],
  ['string[1:]', '{{slice .S 1}}', 'yz', tVal],
  ['string[1:2]', '{{slice .S 1 2}}', 'y', tVal],
  ['string out of range', '{{slice .S 1 5}}', '', tVal, false],
  ['3-index slice of string', '{{slice .S 1 2 2}}', '', tVal, false],
  ['slice of an interface field', '{{slice .Empty3 0 1}}', '[7]', tVal],

  // Len.
  ['len slice', '{{len .SI}}', '3', tVal],
  ['len map', '{{len .MSI }}', '3', tVal],
  ['len of int', '{{len 3}}', '', tVal, false],
  ['len of nothing', '{{len .Empty0}}', '', tVal, false],
  ['len of an interface field', '{{len .Empty3}}', '2', tVal],
  ['len counts bytes', '{{len "héllo"}}', '6', undefined],

  // With.
  ['with true', '{{with true}}{{.}}{{end}}', 'true', tVal],
  ['with false', '{{with false}}{{.}}{{else}}FALSE{{end}}', 'FALSE', tVal],
  ['with 1', '{{with 1}}{{.}}{{else}}ZERO{{end}}', '1', tVal],
  ['with 0', '{{with 0}}{{.}}{{else}}ZERO{{end}}', 'ZERO', tVal],
  ['with 1.5', '{{with 1.5}}{{.}}{{else}}ZERO{{end}}', '1.5', tVal],
  ['with 0.0', '{{with .FloatZero}}{{.}}{{else}}ZERO{{end}}', 'ZERO', tVal],
  ['with 1.5i', '{{with 1.5i}}{{.}}{{else}}ZERO{{end}}', '(0+1.5i)', tVal],
  ['with emptystring', '{{with ``}}{{.}}{{else}}EMPTY{{end}}', 'EMPTY', tVal],
  ['with string', '{{with `notempty`}}{{.}}{{else}}EMPTY{{end}}', 'notempty', tVal],
  ['with emptyslice', '{{with .SIEmpty}}{{.}}{{else}}EMPTY{{end}}', 'EMPTY', tVal],
  ['with slice', '{{with .SI}}{{.}}{{else}}EMPTY{{end}}', '[3 4 5]', tVal],
  ['with emptymap', '{{with .MSIEmpty}}{{.}}{{else}}EMPTY{{end}}', 'EMPTY', tVal],
  ['with map', '{{with .MSIone}}{{.}}{{else}}EMPTY{{end}}', 'map[one:1]', tVal],
  ['with empty interface, struct field', '{{with .Empty4}}{{.V}}{{end}}', 'UinEmpty', tVal],
  ['with $x int', '{{with $x := .I}}{{$x}}{{end}}', '17', tVal],
  ['with $x struct.U.V', '{{with $x := $}}{{$x.U.V}}{{end}}', 'v', tVal],
  ['with variable and action', '{{with $x := $}}{{$y := $.U.V}}{{$y}}{{end}}', 'v', tVal],
  ['with else with', '{{with 0}}{{.}}{{else with true}}{{.}}{{end}}', 'true', tVal],
  ['with else with chain', '{{with 0}}{{.}}{{else with false}}{{.}}{{else with `notempty`}}{{.}}{{end}}', 'notempty', tVal],

  // Range.
  ['range []int', '{{range .SI}}-{{.}}-{{end}}', '-3--4--5-', tVal],
  ['range empty no else', '{{range .SIEmpty}}-{{.}}-{{end}}', '', tVal],
  ['range []int else', '{{range .SI}}-{{.}}-{{else}}EMPTY{{end}}', '-3--4--5-', tVal],
  ['range empty else', '{{range .SIEmpty}}-{{.}}-{{else}}EMPTY{{end}}', 'EMPTY', tVal],
  ['range []int break else', '{{range .SI}}-{{.}}-{{break}}NOTREACHED{{else}}EMPTY{{end}}', '-3-', tVal],
  ['range []int continue else', '{{range .SI}}-{{.}}-{{continue}}NOTREACHED{{else}}EMPTY{{end}}', '-3--4--5-', tVal],
  ['range []bool', '{{range .SB}}-{{.}}-{{end}}', '-true--false-', tVal],
  ['range []int method', '{{range .SI | .MAdd .I}}-{{.}}-{{end}}', '-20--21--22-', tVal],
  ['range map', '{{range .MSI}}-{{.}}-{{end}}', '-1--3--2-', tVal],
  ['range empty map no else', '{{range .MSIEmpty}}-{{.}}-{{end}}', '', tVal],
  ['range map else', '{{range .MSI}}-{{.}}-{{else}}EMPTY{{end}}', '-1--3--2-', tVal],
  ['range empty map else', '{{range .MSIEmpty}}-{{.}}-{{else}}EMPTY{{end}}', 'EMPTY', tVal],
  ['range empty interface', '{{range .Empty3}}-{{.}}-{{else}}EMPTY{{end}}', '-7--8-', tVal],
  ['range empty nil', '{{range .Empty0}}-{{.}}-{{end}}', '', tVal],
  ['range $x SI', '{{range $x := .SI}}<{{$x}}>{{end}}', '<3><4><5>', tVal],
  ['range $x $y SI', '{{range $x, $y := .SI}}<{{$x}}={{$y}}>{{end}}', '<0=3><1=4><2=5>', tVal],
  ['range $x MSIone', '{{range $x := .MSIone}}<{{$x}}>{{end}}', '<1>', tVal],
  ['range $x $y MSIone', '{{range $x, $y := .MSIone}}<{{$x}}={{$y}}>{{end}}', '<one=1>', tVal],
  ['declare in range', '{{range $x := .SI}}<{{$foo:=$x}}{{$x}}>{{end}}', '<3><4><5>', tVal],
  ['range count', '{{range $i, $x := count 5}}[{{$i}}]{{$x}}{{end}}', '[0]a[1]b[2]c[3]d[4]e', tVal],
  ['range nil count', '{{range $i, $x := count 0}}{{else}}empty{{end}}', 'empty', tVal],
  ['range int', '{{range $v := .}}{{printf "%T%d" $v $v}}{{end}}', 'int0int1int2int3int4', 5],
  ['range 5', '{{range $v := 5}}{{printf "%T%d" $v $v}}{{end}}', 'int0int1int2int3int4', undefined],
  ['range int 0', '{{range $v := .}}{{print $v}}{{else}}empty{{end}}', 'empty', 0],
  ['range int two vars', '{{range $i, $v := 3}}{{end}}', '', undefined, false],
  ['range string', '{{range .}}{{end}}', '', 'abc', false],
  ['range $x = ', '{{$i := 0}}{{$x := 0}}{{range $i = .AI}}{{end}}{{$i}}', '5', tVal],
  ['range $k, $v = ', '{{$k := 0}}{{$v := 0}}{{range $k, $v = .AI}}{{$k}}={{$v}} {{end}}', '0=3 1=4 2=5 ', tVal],
  ['range nested break', '{{range .SI}}{{range $.SB}}{{if not .}}{{break}}{{end}}{{.}}{{end}}|{{end}}', 'true|true|true|', tVal],

  // Cute examples.
  ['or as if true', '{{or .SI "slice is empty"}}', '[3 4 5]', tVal],
  ['or as if false', '{{or .SIEmpty "slice is empty"}}', 'slice is empty', tVal],

  // Error handling.
  ['error method, error', '{{.MyError true}}', '', tVal, false],
  ['error method, no error', '{{.MyError false}}', 'false', tVal],

  // Numbers
  ['decimal', '{{print 1234}}', '1234', tVal],
  ['decimal _', '{{print 12_34}}', '1234', tVal],
  ['binary', '{{print 0b101}}', '5', tVal],
  ['binary _', '{{print 0b_1_0_1}}', '5', tVal],
  ['BINARY', '{{print 0B101}}', '5', tVal],
  ['octal0', '{{print 0377}}', '255', tVal],
  ['octal', '{{print 0o377}}', '255', tVal],
  ['octal _', '{{print 0o_3_7_7}}', '255', tVal],
  ['OCTAL', '{{print 0O377}}', '255', tVal],
  ['hex', '{{print 0x123}}', '291', tVal],
  ['hex _', '{{print 0x1_23}}', '291', tVal],
  ['HEX', '{{print 0X123ABC}}', '1194684', tVal],
  ['float', '{{print 123.4}}', '123.4', tVal],
  ['float _', '{{print 0_0_1_2_3.4}}', '123.4', tVal],
  ['hex float', '{{print +0x1.ep+2}}', '7.5', tVal],
  ['hex float _', '{{print +0x_1.e_0p+0_2}}', '7.5', tVal],
  ['HEX float', '{{print +0X1.EP+2}}', '7.5', tVal],
  ['print multi', '{{print 1_2_3_4 7.5_00_00_00}}', '1234 7.5', tVal],
  ['print multi2', '{{print 1234 0x0_1.e_0p+02}}', '1234 7.5', tVal],
  ['char constant', "{{'a'}} {{'\\n'}} {{'\\u00e9'}}", '97 10 233', undefined],

  // Fixed bugs.
  ['bug0', '{{range .MSIone}}{{if $.Method1 .}}X{{end}}{{end}}', 'X', tVal],
  ['bug3', '{{with $}}{{.Method0}}{{end}}', 'M0', tVal],
  ['bug4', '{{if .Empty0}}non-nil{{else}}nil{{end}}', 'nil', tVal],
  ['bug7a', '{{3 2}}', '', tVal, false],
  ['bug7b', '{{$x := 1}}{{$x 2}}', '', tVal, false],
  ['bug7c', '{{$x := 1}}{{3 | $x}}', '', tVal, false],
  ['bug8a', '{{3|oneArg}}', '', tVal, false],
  ['bug8b', '{{4|dddArg 3}}', '', tVal, false],
  ['bug9', '{{.cause}}', 'neglect', { cause: 'neglect' }],
  ['bug10', '{{mapOfThree.three}}-{{(mapOfThree).three}}', '3-3', 0],
  ['bug11', '{{valueString .PS}}', '', goStruct({ PS: null }, 'template.T'), false],
  ['bug12xe', '{{printf `%T` 0xef}}', 'int', undefined],
  ['bug12XE', '{{printf `%T` 0XEE}}', 'int', undefined],
  ['bug14a', '{{(nil).True}}', '', tVal, false],
  ['bug14b', '{{$x := nil}}{{$x.anything}}', '', tVal, false],
  ['bug14c', '{{$x := (1.0)}}{{$y := ("hello")}}{{$x.anything}}{{$y.true}}', '', tVal, false],
  ['bug15', '{{valueString returnInt}}', '', tVal, false],
  ['bug16a', '{{true|printf}}', '', tVal, false],
  ['bug16b', '{{1|printf}}', '', tVal, false],
  ['bug16c', '{{1.1|printf}}', '', tVal, false],
  ["bug16d", "{{'x'|printf}}", '', tVal, false],
  ['bug16e', '{{0i|printf}}', '', tVal, false],
  ['bug16f', '{{true|twoArgs "xxx"}}', '', tVal, false],
  ['bug16g', '{{"aaa" |twoArgs "bbb"}}', 'twoArgs=bbbaaa', tVal],
  ['bug16h', '{{1|oneArg}}', '', tVal, false],
  ['bug16i', '{{"aaa"|oneArg}}', 'oneArg=aaa', tVal],
  ['bug16j', '{{1+2i|printf "%v"}}', '(1+2i)', tVal],
  ['bug16k', '{{"aaa"|printf }}', 'aaa', tVal],
  ['bug18a', "{{eq . '.'}}", 'true', '.'.charCodeAt(0)],
  ['issue56490', '{{$i := 0}}{{$x := 0}}{{range $i = .AI}}{{end}}{{$i}}', '5', tVal],
]

test('text/template execution table (from Go exec_test.go)', () => {
  for (const [name, input, output, data, ok = true] of execTests) {
    let got: string
    try {
      got = run(input, data)
    } catch (err) {
      if (ok) assert.fail(`${name}: unexpected error: ${(err as Error).message}`)
      assert.ok(err instanceof TemplateError, `${name}: not a TemplateError: ${err}`)
      continue
    }
    if (!ok) assert.fail(`${name}: expected error; got output ${JSON.stringify(got)}`)
    assert.equal(got, output, name)
  }
})

test('comparison functions (from Go TestComparison)', () => {
  const data = goStruct(
    { Uthree: 3, Ufour: 4, NegOne: -1, Three: 3, Ptr: goStruct({ x: 1 }, '*int'), NilPtr: null, NonNilMap: {}, Map: undefined },
    'cmpStruct',
  )
  const cases: Array<[string, string, boolean]> = [
    ['eq true true', 'true', true],
    ['eq true false', 'false', true],
    ['eq 1+2i 1+2i', 'true', true],
    ['eq 1+2i 1+3i', 'false', true],
    ['eq 1.5 1.5', 'true', true],
    ['eq 1.5 2.5', 'false', true],
    ['eq 1 1', 'true', true],
    ['eq 1 2', 'false', true],
    ['eq `xy` `xy`', 'true', true],
    ['eq `xy` `xyz`', 'false', true],
    ['eq .Uthree .Uthree', 'true', true],
    ['eq .Uthree .Ufour', 'false', true],
    ['eq 3 4 5 6 3', 'true', true],
    ['eq 3 4 5 6 7', 'false', true],
    ['ne true true', 'false', true],
    ['ne 1.5 2.5', 'true', true],
    ['ne `xy` `xyz`', 'true', true],
    ['lt 1.5 1.5', 'false', true],
    ['lt 1.5 2.5', 'true', true],
    ['lt 1 2', 'true', true],
    ['lt `xy` `xyz`', 'true', true],
    ['le 1.5 1.5', 'true', true],
    ['le 2.5 1.5', 'false', true],
    ['le `xyz` `xy`', 'false', true],
    ['gt 2 1', 'true', true],
    ['gt `xy` `xyz`', 'false', true],
    ['gt .Ufour .Uthree', 'true', true],
    ['ge 1.5 1.5', 'true', true],
    ['ge `xyz` `xy`', 'true', true],
    ['lt .NegOne .Uthree', 'true', true],
    ['eq (index `x` 0) 120', 'true', true],
    ["eq (index `x` 0) 'x'", 'true', true],
    ["eq (index `x` 0) 'y'", 'false', true],
    ['eq .Ptr .Ptr', 'true', true],
    ['eq .Ptr .NilPtr', 'false', true],
    ['eq .NilPtr .NilPtr', 'true', true],
    ['eq .Map .Map', 'true', true],
    ['eq .Map nil', 'true', true],
    ['eq nil .Map', 'true', true],
    // Errors
    ['eq `xy` 1', '', false],
    ['lt true true', '', false],
    ['lt 1+0i 1+0i', '', false],
    ['eq .Ptr 1', '', false],
    ['eq .NonNilMap .NonNilMap', '', false],
    ['eq 1', '', false],
    ['lt .Map 1', '', false],
  ]
  for (const [expr, truth, ok] of cases) {
    const text = `{{if ${expr}}}true{{else}}false{{end}}`
    let got: string
    try {
      got = parseTemplate(text).execute(data)
    } catch (err) {
      if (ok) assert.fail(`${expr} errored incorrectly: ${(err as Error).message}`)
      continue
    }
    if (!ok) assert.fail(`${expr} did not error`)
    assert.equal(got, truth, expr)
  }
})

test('execution error messages are Go’s', () => {
  const cases: Array<[string, unknown, string]> = [
    ['{{.Foo}}', goStruct({}, '*formatter.ContainerContext'), 'template: :1:2: executing "" at <.Foo>: can\'t evaluate field Foo in type *formatter.ContainerContext'],
    ['hello, {{.X.Y}}', 0, 'template: :1:11: executing "" at <.X.Y>: can\'t evaluate field X in type int'],
    ['{{.A.B}}', { A: 'str' }, 'template: :1:4: executing "" at <.A.B>: can\'t evaluate field B in type string'],
    ['{{.A.B.C}}', { A: { B: null } }, 'template: :1:4: executing "" at <.A.B.C>: nil pointer evaluating interface {}.C'],
    ['{{lower .N}}', { N: 5 }, 'template: :1:8: executing "" at <.N>: wrong type for value; expected string; got int'],
    ['{{lower .N}}', {}, 'template: :1:8: executing "" at <.N>: invalid value; expected string'],
    ['{{.N | lower}}', { N: 1.5 }, 'template: :1:7: executing "" at <lower>: wrong type for value; expected string; got float64'],
    ['{{lower 5}}', {}, 'template: :1:8: executing "" at <5>: expected string; found 5'],
    ['{{truncate .S "x"}}', { S: 'a' }, 'template: :1:14: executing "" at <"x">: expected integer; found "x"'],
    ['{{lower "a" "b"}}', {}, 'template: :1:2: executing "" at <lower>: wrong number of args for lower: want 1 got 2'],
    ['{{printf}}', {}, 'template: :1:2: executing "" at <printf>: wrong number of args for printf: want at least 1 got 0'],
    ['{{index .A 5}}', { A: [1] }, 'template: :1:2: executing "" at <index .A 5>: error calling index: index out of range: 5'],
    ['{{index .A 1}}', { A: [1] }, 'template: :1:2: executing "" at <index .A 1>: error calling index: reflect: slice index out of range'],
    ['{{.M 1}}', { M: 'x' }, 'template: :1:2: executing "" at <.M>: M is not a method but has arguments'],
    ['{{.M 1}}', goStruct({ M: 'x' }, 'T'), 'template: :1:2: executing "" at <.M>: M has arguments but cannot be invoked as function'],
    ['{{.Fail}}', { Fail: () => { throw new Error('boom') } }, 'template: :1:2: executing "" at <.Fail>: error calling Fail: boom'],
    ['{{range .}}{{end}}', 'abc', 'template: :1:8: executing "" at <.>: range can\'t iterate over abc'],
    ['{{template "x"}}', {}, 'template: :1:11: executing "" at <{{template "x"}}>: template "x" not defined'],
    ['{{nil}}', {}, 'template: :1:2: executing "" at <nil>: nil is not a command'],
    ['{{1 2}}', {}, 'template: :1:2: executing "" at <1>: can\'t give argument to non-function 1'],
    ['{{$x := 1}}{{$x = 2}}{{$y = 3}}', {}, 'template: :1:28: executing "" at <3>: undefined variable: $y'],
    ['line1\n  {{.A.B}}', { A: 3 }, 'template: :2:6: executing "" at <.A.B>: can\'t evaluate field B in type int'],
    ['é{{.A.B}}', { A: 3 }, 'template: :1:6: executing "" at <.A.B>: can\'t evaluate field B in type int'],
  ]
  for (const [text, data, want] of cases) {
    assert.throws(
      () => parseTemplate(text).execute(data),
      (err: unknown) => {
        assert.ok(err instanceof TemplateError)
        assert.equal(err.kind, 'exec')
        assert.equal(err.message, want)
        return true
      },
      text,
    )
  }
})

test('error from a nested template names it and points into the text (Go TestExecError)', () => {
  const text = `line 1
line 2
line 3
{{template "one" .}}
{{define "one"}}{{template "two" .}}{{end}}
{{define "two"}}{{template "three" .}}{{end}}
{{define "three"}}{{index "hi" $}}{{end}}`
  const tmpl = parseTemplate(text, { name: 'top' })
  assert.throws(() => tmpl.execute(5), {
    message: 'template: top:7:20: executing "three" at <index "hi" $>: error calling index: index out of range: 5',
  })
})

test('the template name appears in errors', () => {
  assert.throws(() => parseTemplate('{{.X.Y}}', { name: 'X' }).execute(0), {
    message: 'template: X:1:4: executing "X" at <.X.Y>: can\'t evaluate field X in type int',
  })
})

test('missingkey option (Go TestMissingMapKey)', () => {
  const data = { x: 99 }
  const tmpl = parseTemplate('{{.x}} {{.y}}', { name: 't1' })
  assert.equal(tmpl.execute(data), '99 <no value>')
  assert.equal(tmpl.withMissingKey('default').execute(data), '99 <no value>')
  assert.equal(tmpl.withMissingKey('zero').execute(data), '99 <no value>') // interface{} zero
  assert.throws(() => tmpl.withMissingKey('error').execute(data), {
    message: 'template: t1:1:9: executing "t1" at <.y>: map has no entry for key "y"',
  })
  assert.throws(() => tmpl.withMissingKey('error').execute(undefined), {
    message: 'template: t1:1:2: executing "t1" at <.x>: nil data; no entry for key "x"',
  })
})

test('partial output is kept on execution errors', () => {
  try {
    parseTemplate('abc{{.X}}{{.X.Y}}def').execute({ X: 1 })
    assert.fail('expected error')
  } catch (err) {
    assert.ok(err instanceof TemplateError)
    assert.equal(err.partialOutput, 'abc1')
  }
})

test('define, template and block (Go TestTree, TestBlock)', () => {
  const treeTemplate = `
	(- define "tree" -)
	[
		(- .Val -)
		(- with .Left -)
			(template "tree" . -)
		(- end -)
		(- with .Right -)
			(- template "tree" . -)
		(- end -)
	]
	(- end -)
`
  const n = (Val: number, Left: unknown = null, Right: unknown = null) => goStruct({ Val, Left, Right }, '*Tree')
  const tree = n(1, n(2, n(3, n(4)), n(5, n(6))), n(7, n(8, n(9)), n(10, n(11))))
  const tmpl = parseTemplate(treeTemplate, { name: 'root', leftDelim: '(', rightDelim: ')' })
  const want = '[1[2[3[4]][5[6]]][7[8[9]][10[11]]]]'
  assert.equal(tmpl.lookup('tree')!.execute(tree), want)
  assert.equal(tmpl.executeTemplate('tree', tree), want)
  assert.throws(() => tmpl.executeTemplate('nope', tree), {
    message: 'template: no template "nope" associated with template "root"',
  })

  const block = parseTemplate('a({{block "inner" .}}bar({{.}})baz{{end}})b', { name: 'outer' })
  assert.equal(block.execute('hello'), 'a(bar(hello)baz)b')
  assert.deepEqual(block.templateNames().sort(), ['inner', 'outer'])
})

test('template invocations do not inherit variables, and set dot', () => {
  assert.equal(parseTemplate('{{define "T"}}{{.}}|{{$}}{{end}}{{$x := 1}}{{template "T" "dot"}}').execute('top'), 'dot|dot')
  assert.throws(() => parseTemplate('{{define "T"}}{{$x}}{{end}}{{$x := 1}}{{template "T"}}'), /undefined variable "\$x"/)
})

test('recursion is bounded', () => {
  const tmpl = parseTemplate('{{define "r"}}{{template "r" .}}{{end}}{{template "r" .}}')
  assert.throws(() => tmpl.execute(null), /exceeded maximum template depth/)
})

test('delimiters (Go TestDelims)', () => {
  const pairs: Array<[string, string]> = [
    ['', ''],
    ['{{', '}}'],
    ['<<', '>>'],
    ['|', '|'],
    ['(日)', '(本)'],
  ]
  for (const [left, right] of pairs) {
    const l = left || '{{'
    const r = right || '}}'
    const text = `${l}.Str${r}${l}/*comment*/${r}${l}"${l}"${r}`
    const tmpl = parseTemplate(text, { leftDelim: left, rightDelim: right })
    assert.equal(tmpl.execute({ Str: 'Hello, world' }), 'Hello, world' + l, `delims ${left}`)
  }
})

test('trim markers and comments', () => {
  assert.equal(parseTemplate('{{23 -}} < {{- 45}}').execute(null), '23<45')
  assert.equal(parseTemplate('{{23 -}}\n\t < {{- 45}}').execute(null), '23<45')
  assert.equal(parseTemplate('{{- 3 }}').execute(null), '3')
  assert.equal(parseTemplate('x \n{{- /* comment */ -}}\n y').execute(null), 'xy')
  assert.equal(parseTemplate('{{-3}}').execute(null), '-3')
  assert.equal(parseTemplate('a\n{{- "b" }}\n  {{- "c" -}}  \n d').execute(null), 'abcd')
  assert.equal(parseTemplate('{{/* a comment */}}x').execute(null), 'x')
  assert.equal(parseTemplate('{{ .A\n | printf "%s!"\n}}').execute({ A: 'multi-line' }), 'multi-line!')
})

test('values print like Go', () => {
  const cases: Array<[unknown, string]> = [
    ['s', 's'],
    [42, '42'],
    [-7, '-7'],
    [1.5, '1.5'],
    [0.000001, '1e-06'],
    [1234567.5, '1.2345675e+06'],
    [1e21, '1e+21'],
    [2n ** 64n, '18446744073709551616'],
    [true, 'true'],
    [undefined, '<no value>'],
    [['a', 'b'], '[a b]'],
    [[], '[]'],
    [[1, [2, 3], null], '[1 [2 3] <nil>]'],
    [{ b: 2, a: 1 }, 'map[a:1 b:2]'],
    [new Map<unknown, unknown>([[10, 'x'], [9, 'y']]), 'map[9:y 10:x]'],
    [{ m: { x: ['y'] } }, 'map[m:map[x:[y]]]'],
    [goStruct({ A: 1, B: 'two' }, 'T'), '{1 two}'],
    [new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 120)), '2024-01-02 03:04:05.12 +0000 UTC'],
    [new Uint8Array([1, 2]), '[1 2]'],
  ]
  for (const [v, want] of cases) assert.equal(parseTemplate('{{.}}').execute(v), want)
  // null as a field value (a nil pointer) prints <nil>; null as the whole data is Go's nil data.
  assert.equal(parseTemplate('{{.X}}').execute({ X: null }), '<nil>')
  assert.equal(parseTemplate('{{.}}').execute(null), '<no value>')
})

test('methods: function properties are called, with arguments and this bound', () => {
  class Ctx {
    #labels = { 'com.x': 'y' }
    get ID(): string {
      return 'abc'
    }
    Label(name: string): string {
      return (this.#labels as Record<string, string>)[name] ?? ''
    }
    Names(): string {
      return 'web'
    }
  }
  const c = new Ctx()
  assert.equal(parseTemplate('{{.ID}} {{.Names}} {{.Label "com.x"}} {{"com.x" | .Label}}').execute(c), 'abc web y y')
  assert.throws(() => parseTemplate('{{.Nope}}').execute(c), {
    message: 'template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *Ctx',
  })
  assert.throws(() => parseTemplate('{{.Label}}').execute(c), /wrong number of args for Label: want 1 got 0/)
  // Object.prototype members are not fields.
  assert.equal(parseTemplate('{{.toString}}').execute({}), '<no value>')
  assert.throws(() => parseTemplate('{{.constructor}}').execute(c), /can't evaluate field constructor/)
})

test('parse once, execute many', () => {
  const tmpl = parseTemplate('{{.ID}}\t{{.Name}}')
  const rows = Array.from({ length: 1000 }, (_, i) => ({ ID: `id${i}`, Name: `n${i}` }))
  const out = rows.map((r) => tmpl.execute(r))
  assert.equal(out[999], 'id999\tn999')
})

test('sprint helpers follow fmt spacing', () => {
  assert.equal(sprint('a', 1, 2, 'b', 'c', 3), 'a1 2bc3')
  assert.equal(sprintln('a', 1), 'a 1\n')
})
