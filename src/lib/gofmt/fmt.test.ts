import { test } from 'node:test'
import assert from 'node:assert/strict'
import { canBackquote, formatFloat, quote, quoteRune, sprint, sprintf, sprintln, unquote } from './fmt.js'
import { GoComplex, goStruct } from './values.js'

test('Sprintf verbs (from Go fmt_test.go)', () => {
  const cases: Array<[string, unknown, string]> = [
    ['%d', 12345, '12345'],
    ['%v', 12345, '12345'],
    ['%t', true, 'true'],
    // basic string
    ['%s', 'abc', 'abc'],
    ['%q', 'abc', '"abc"'],
    ['%x', 'abc', '616263'],
    ['%x', '\xff\xf0\x0f\xff', 'c3bfc3b00fc3bf'],
    ['%X', 'xyz', '78797A'],
    ['% x', 'xyz', '78 79 7a'],
    ['%#x', 'xyz', '0x78797a'],
    ['%# x', 'xyz', '0x78 0x79 0x7a'],
    ['%x', '', ''],
    ['%5s', 'abc', '  abc'],
    ['%-5s', 'abc', 'abc  '],
    ['%05s', 'abc', '00abc'],
    ['%5s', 'abcdefghijklmnopqrstuvwxyz', 'abcdefghijklmnopqrstuvwxyz'],
    ['%.5s', 'abcdefghijklmnopqrstuvwxyz', 'abcde'],
    ['%.0s', '日本語日本語', ''],
    ['%.5s', '日本語日本語', '日本語日本'],
    ['%5.2s', 'abc', '   ab'],
    // quoted strings
    ['%q', '', '""'],
    ['%#q', '', '``'],
    ['%q', '"', '"\\""'],
    ['%#q', '"', '`"`'],
    ['%q', '`', '"`"'],
    ['%#q', '`', '"`"'],
    ['%q', '\n', '"\\n"'],
    ['%#q', '\n', '"\\n"'],
    ['%q', '\\n', '"\\\\n"'],
    ['%#q', '\\n', '`\\n`'],
    ['%q', 'abc', '"abc"'],
    ['%q', '\u263a', '"☺"'],
    ['%+q', '\u263a', '"\\u263a"'],
    ['%#+q', '\u263a', '`☺`'],
    ['%q', '\x07', '"\\a"'],
    ['%q', '\x01', '"\\x01"'],
    ['%q', '\u200b', '"\\u200b"'],
    ['%q', '\u{10ffff}', '"\\U0010ffff"'],
    ['%10q', '⌘', '       "⌘"'],
    ['%-10q', '⌘', '"⌘"       '],
    // characters
    ['%c', 'x'.charCodeAt(0), 'x'],
    ['%c', 0xe4, 'ä'],
    ['%c', 0x672c, '本'],
    ['%c', -1, '\ufffd'],
    ['%q', 'x'.charCodeAt(0), "'x'"],
    ['%q', 0x22, `'"'`],
    ['%q', 0x27, "'\\''"],
    ['%q', '\n'.charCodeAt(0), "'\\n'"],
    ['%q', 0x263a, "'☺'"],
    ['%+q', 0x263a, "'\\u263a'"],
    ['%.0c', 0x2318, '⌘'],
    ['%3c', 0x2318, '  ⌘'],
    ['%-3c', 0x2318, '⌘  '],
    // Unicode
    ['%U', 0, 'U+0000'],
    ['%U', -1, 'U+FFFFFFFFFFFFFFFF'],
    ['%U', 0x263a, 'U+263A'],
    ['%#U', 0x263a, "U+263A '☺'"],
    ['%#U', 0x0a, 'U+000A'],
    ['%#.2U', 0x263a, "U+263A '☺'"],
    ['%#14.6U', 0x2318, "  U+002318 '⌘'"],
    ['%#-14.6U', 0x2318, "U+002318 '⌘'  "],
    // integers
    ['%d', -12345, '-12345'],
    ['%x', -12345, '-3039'],
    ['%X', 12345, '3039'],
    ['%o', 8, '10'],
    ['%#o', 8, '010'],
    ['%O', 8, '0o10'],
    ['%b', 7, '111'],
    ['%#b', 7, '0b111'],
    ['%#x', 255, '0xff'],
    ['%#X', 255, '0XFF'],
    ['% d', 12345, ' 12345'],
    ['%+d', 12345, '+12345'],
    ['%+d', -12345, '-12345'],
    ['%08d', 12345, '00012345'],
    ['%08d', -12345, '-0012345'],
    ['%-08d', 12345, '12345   '],
    ['%.2d', 0, '00'],
    ['%.0d', 0, ''],
    ['%5.0d', 0, '     '],
    ['%8.3d', 7, '     007'],
    ['%+08d', 7, '+0000007'],
    ['%x', 2n ** 70n, '400000000000000000'],
    ['%d', 9007199254740993n, '9007199254740993'],
    // floats
    ['%+.3e', 0.0, '+0.000e+00'],
    ['%+.3e', 1.0, '+1.000e+00'],
    ['%+.3f', -1.0, '-1.000'],
    ['%+07.2f', 1.0, '+001.00'],
    ['%+07.2f', -1.0, '-001.00'],
    ['%-07.2f', 1.0, '1.00   '],
    ['%+-07.2f', -1.0, '-1.00  '],
    ['%e', 1.0, '1.000000e+00'],
    ['%e', 1234.5678e3, '1.234568e+06'],
    ['%e', 1234.5678e-8, '1.234568e-05'],
    ['%e', -7.0, '-7.000000e+00'],
    ['%e', -1e-9, '-1.000000e-09'],
    ['%f', 1234.5678e3, '1234567.800000'],
    ['%f', 1234.5678e-8, '0.000012'],
    ['%f', -7.0, '-7.000000'],
    ['%f', -1e-9, '-0.000000'],
    ['%g', 1234.5678e3, '1.2345678e+06'],
    ['%g', 1234.5678e-8, '1.2345678e-05'],
    ['%g', -7.5, '-7.5'],
    ['%g', -1e-9, '-1e-09'],
    ['%E', 1.0, '1.000000E+00'],
    ['%G', 1234.5678e3, '1.2345678E+06'],
    ['%G', -1e-9, '-1E-09'],
    ['%.4g', 1.0, '1'],
    ['%.4g', 1.2345678, '1.235'],
    ['%.3g', 1e6 + 0.5, '1e+06'],
    ['%#g', 1.0, '1.00000'],
    ['%#g', 123456.0, '123456.'],
    ['%#g', 123456.5, '123456.5'],
    ['%#.0f', 1.0, '1.'],
    ['%#.4g', 1.0, '1.000'],
    ['%.2f', 1.005, '1.00'],
    ['%.2f', 0.125, '0.12'],
    ['%.2f', 0.375, '0.38'],
    ['%.0f', 0.5, '0'],
    ['%.0f', 1.5, '2'],
    ['%.0f', 2.5, '2'],
    ['%.1f', 0.05, '0.1'],
    ['%.3f', 1e-7, '0.000'],
    ['%5.2f', 3.14159, ' 3.14'],
    ['%-8.3f', 3.14159, '3.142   '],
    ['%08.3f', -3.14159, '-003.142'],
    ['%v', 1e6 + 0.5, '1.0000005e+06'],
    ['%v', 100000.5, '100000.5'],
    ['%v', 0.0001, '0.0001'],
    ['%v', 0.00001, '1e-05'],
    ['%x', 1.5, '0x1.8p+00'],
    ['%X', -1.5, '-0X1.8P+00'],
    ['%x', 0.1, '0x1.999999999999ap-04'],
    ['%f', Infinity, '+Inf'],
    ['%v', -Infinity, '-Inf'],
    ['%v', NaN, 'NaN'],
    ['%+f', NaN, '+NaN'],
    ['%8.2f', Infinity, '    +Inf'],
    ['%08.2f', -Infinity, '    -Inf'],
    ['% .3E', -1.0, '-1.000E+00'],
    ['% .3E', 1.0, ' 1.000E+00'],
    // floats given to int verbs and ints to float verbs
    ['%d', 1.5, '%!d(float64=1.5)'],
    ['%f', 5, '5.000000'],
    ['%.1f', 2, '2.0'],
    // complex
    ['%v', new GoComplex(1, 2), '(1+2i)'],
    ['%.2f', new GoComplex(1, -2), '(1.00-2.00i)'],
    ['%e', new GoComplex(0, 1), '(0.000000e+00+1.000000e+00i)'],
    // booleans and others
    ['%v', false, 'false'],
    ['%5t', true, ' true'],
    ['%d', true, '%!d(bool=true)'],
    ['%s', 5, '%!s(int=5)'],
    ['%z', 'x', '%!z(string=x)'],
    ['%s', null, '%!s(<nil>)'],
    ['%v', null, '<nil>'],
    ['%T', null, '<nil>'],
    ['%T', 'x', 'string'],
    ['%T', 1, 'int'],
    ['%T', 1.5, 'float64'],
    ['%T', [1], '[]interface {}'],
    ['%T', ['a'], '[]string'],
    ['%T', { a: 1 }, 'map[string]interface {}'],
    ['%10T', true, '      bool'],
    // composites
    ['%v', [1, 2, 3], '[1 2 3]'],
    ['%d', [1, 2, 3], '[1 2 3]'],
    ['%q', ['a', 'b'], '["a" "b"]'],
    ['%x', [10, 11], '[a b]'],
    ['%v', { b: [1], a: 'x' }, 'map[a:x b:[1]]'],
    ['%q', { a: 'x' }, 'map["a":"x"]'],
    ['%v', goStruct({ A: 1, B: 'x' }, 'main.T'), '{1 x}'],
    ['%+v', goStruct({ A: 1, B: 'x' }, 'main.T'), '{A:1 B:x}'],
    ['%#v', goStruct({ A: 1, B: 'x' }, 'main.T'), 'main.T{A:1, B:"x"}'],
    ['%v', goStruct({ A: 1 }, '*main.T'), '&{1}'],
    ['%#v', ['a', 'b'], '[]string{"a", "b"}'],
    ['%#v', { a: 1 }, 'map[string]interface {}{"a":1}'],
    ['%#v', 'x', '"x"'],
    ['%v', new Uint8Array([1, 2]), '[1 2]'],
    ['%s', new Uint8Array([104, 105]), 'hi'],
    ['%x', new Uint8Array([1, 0xab]), '01ab'],
    ['%v', { String: () => 'stringer' }, 'stringer'],
    ['%d', { String: () => 'stringer' }, 'map[%!d(string=String):%!d(func()=0x0)]'],
    ['%v', new Error('oops'), 'oops'],
    ['%q', new Error('oops'), '"oops"'],
    ['%v', { String: () => { throw new Error('bad') } }, '%!v(PANIC=String method: bad)'],
  ]
  for (const [format, arg, want] of cases) {
    assert.equal(sprintf(format, arg), want, `${format} of ${String(arg)}`)
  }
})

test('Sprintf argument handling (from Go fmt_test.go)', () => {
  assert.equal(sprintf('%d', 1, 2), '1%!(EXTRA int=2)')
  assert.equal(sprintf('%d %d', 1), '1 %!d(MISSING)')
  assert.equal(sprintf('%', 1), '%!(NOVERB)%!(EXTRA int=1)')
  assert.equal(sprintf('%!', 1), '%!!(int=1)')
  assert.equal(sprintf('%-', 1), '%!(NOVERB)%!(EXTRA int=1)')
  assert.equal(sprintf('%d', 'a', null), '%!d(string=a)%!(EXTRA <nil>)')
  assert.equal(sprintf('%s %s', 'a', null, 'c', 2.5), 'a %!s(<nil>)%!(EXTRA string=c, float64=2.5)')
  assert.equal(sprintf('%%'), '%')
  assert.equal(sprintf('%5%'), '%')
  assert.equal(sprintf('%[2]d %[1]d', 11, 22), '22 11')
  assert.equal(sprintf('%[3]*.[2]*[1]f', 12.0, 2, 6), ' 12.00')
  assert.equal(sprintf('%[1]d %[1]x %[1]o', 10), '10 a 12')
  assert.equal(sprintf('%[5]d', 1, 2), '%!d(BADINDEX)')
  assert.equal(sprintf('%[-2]d', 1), '%!d(BADINDEX)')
  assert.equal(sprintf('%[2]d %d', 1, 2), '2 %!d(MISSING)')
  assert.equal(sprintf('%*d', 4, 42), '  42')
  assert.equal(sprintf('%-*d', 4, 42), '42  ')
  assert.equal(sprintf('%*d', -4, 42), '42  ')
  assert.equal(sprintf('%.*d', 4, 42), '0042')
  assert.equal(sprintf('%*d', 'x', 42), '%!(BADWIDTH)42')
  assert.equal(sprintf('%.*d', 'x', 42), '%!(BADPREC)42')
  assert.equal(sprintf('%d %s', 1), '1 %!s(MISSING)')
  assert.equal(sprintf('no verbs', 1), 'no verbs%!(EXTRA int=1)')
  assert.equal(sprintf('%5z', 1), '%!z(int=    1)')
})

test('Sprint and Sprintln spacing', () => {
  assert.equal(sprint('a', 'b'), 'ab')
  assert.equal(sprint(1, 2), '1 2')
  assert.equal(sprint('a', 1, 'b'), 'a1b')
  assert.equal(sprint(1, 'a', 2), '1a2')
  assert.equal(sprint(null, null), '<nil> <nil>')
  assert.equal(sprintln('a', 'b', 1), 'a b 1\n')
  assert.equal(sprintln(), '\n')
})

test('strconv.FormatFloat', () => {
  const cases: Array<[number, string, number, string]> = [
    [1, 'e', 5, '1.00000e+00'],
    [1, 'f', 5, '1.00000'],
    [1, 'g', 5, '1'],
    [1, 'g', -1, '1'],
    [20, 'g', -1, '20'],
    [1234567.8, 'g', -1, '1.2345678e+06'],
    [200000, 'g', -1, '200000'],
    [2000000, 'g', -1, '2e+06'],
    [400, 'g', 2, '4e+02'],
    [40, 'g', 2, '40'],
    [4, 'g', 2, '4'],
    [0, 'e', 5, '0.00000e+00'],
    [0, 'f', 5, '0.00000'],
    [0, 'g', 5, '0'],
    [0, 'g', -1, '0'],
    [-1, 'e', 5, '-1.00000e+00'],
    [-0, 'g', -1, '-0'],
    [12, 'e', 5, '1.20000e+01'],
    [123456789, 'e', 5, '1.23457e+08'],
    [123456789, 'f', 5, '123456789.00000'],
    [123456789, 'g', 5, '1.2346e+08'],
    [1000000, 'g', 5, '1e+06'],
    [1e23, 'e', 17, '9.99999999999999916e+22'],
    [1e23, 'f', 17, '99999999999999991611392.00000000000000000'],
    [1e23, 'g', 17, '9.9999999999999992e+22'],
    [1e23, 'e', -1, '1e+23'],
    [1e23, 'f', -1, '100000000000000000000000'],
    [1e23, 'g', -1, '1e+23'],
    [100, 'x', -1, '0x1.9p+06'],
    [0.5, 'f', 0, '0'],
    [1.5, 'f', 0, '2'],
    [1.0625, 'g', 4, '1.062'],
    [1.0635, 'g', 4, '1.063'], // 1.0635 is really 1.06349999...
    [2.5e-8, 'g', -1, '2.5e-08'],
    [5e-324, 'g', -1, '5e-324'],
    [1.7976931348623157e308, 'g', -1, '1.7976931348623157e+308'],
    [1.7976931348623157e308, 'e', 3, '1.798e+308'],
    [Infinity, 'g', -1, '+Inf'],
    [-Infinity, 'g', -1, '-Inf'],
    [NaN, 'g', -1, 'NaN'],
    [0.1, 'f', 20, '0.10000000000000000555'],
  ]
  for (const [x, fmt, prec, want] of cases) assert.equal(formatFloat(x, fmt, prec), want, `${x} ${fmt} ${prec}`)
})

test('strconv quoting', () => {
  assert.equal(quote('hello\tworld\n'), '"hello\\tworld\\n"')
  assert.equal(quote('日本語'), '"日本語"')
  assert.equal(quote('日本語', true), '"\\u65e5\\u672c\\u8a9e"')
  assert.equal(quote('\x00\x7f'), '"\\x00\\x7f"')
  assert.equal(quote('\u{1F600}', true), '"\\U0001f600"')
  assert.equal(quoteRune(0x263a), "'☺'")
  assert.equal(quoteRune(0x0a), "'\\n'")
  assert.equal(quoteRune(0x27), "'\\''")
  assert.equal(canBackquote('abc'), true)
  assert.equal(canBackquote('a`b'), false)
  assert.equal(canBackquote('a\tb'), true)
  assert.equal(canBackquote('a\nb'), false)
  assert.equal(unquote('"a\\tb"'), 'a\tb')
  assert.equal(unquote('`a\\tb`'), 'a\\tb')
  assert.equal(unquote("'a'"), 'a')
  assert.equal(unquote('"\\u263a\\U0001F600\\x41\\101"'), '☺😀AA')
  assert.equal(unquote('"\\xc3\\xa9"'), 'é')
  assert.throws(() => unquote('"\\q"'), /invalid syntax/)
  assert.throws(() => unquote('"a'), /invalid syntax/)
  assert.throws(() => unquote("'ab'"), /invalid syntax/)
  assert.throws(() => unquote('"\\\'"'), /invalid syntax/)
})
