import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  AlignRight,
  Debug,
  DiscardEmptyColumns,
  FilterHTML,
  TabWriter,
  displayWidth,
  formatTable,
  runeCount,
} from './tabwriter.js'

type Case = [name: string, minwidth: number, tabwidth: number, padding: number, padchar: string, flags: number, src: string, expected: string]

// From Go's text/tabwriter tests (the Escape-character cases do not apply to JavaScript strings).
const cases: Case[] = [
  ['1a', 8, 0, 1, '.', 0, '', ''],
  ['1a debug', 8, 0, 1, '.', Debug, '', ''],
  ['2', 8, 0, 1, '.', 0, '\n\n\n', '\n\n\n'],
  ['3', 8, 0, 1, '.', 0, 'a\nb\nc', 'a\nb\nc'],
  ['4a', 8, 0, 1, '.', 0, '\t', ''],
  ['4b', 8, 0, 1, '.', AlignRight, '\t', ''],
  ['5', 8, 0, 1, '.', 0, '*\t*', '*.......*'],
  ['5b', 8, 0, 1, '.', 0, '*\t*\n', '*.......*\n'],
  ['5c', 8, 0, 1, '.', 0, '*\t*\t', '*.......*'],
  ['5c debug', 8, 0, 1, '.', Debug, '*\t*\t', '*.......|*'],
  ['5d', 8, 0, 1, '.', AlignRight, '*\t*\t', '.......**'],
  ['6', 8, 0, 1, '.', 0, '\t\n', '........\n'],
  ['7a', 8, 0, 1, '.', 0, 'a) foo', 'a) foo'],
  ['7b', 8, 0, 1, ' ', 0, 'b) foo\tbar', 'b) foo  bar'],
  ['7c', 8, 0, 1, '.', 0, 'c) foo\tbar\t', 'c) foo..bar'],
  ['7d', 8, 0, 1, '.', 0, 'd) foo\tbar\n', 'd) foo..bar\n'],
  ['7e', 8, 0, 1, '.', 0, 'e) foo\tbar\t\n', 'e) foo..bar.....\n'],
  ['7f', 8, 0, 1, '.', FilterHTML, 'f) f&lt;o\t<b>bar</b>\t\n', 'f) f&lt;o..<b>bar</b>.....\n'],
  ['7g', 8, 0, 1, '.', FilterHTML, 'g) f&lt;o\t<b>bar</b>\t non-terminated entity &amp', 'g) f&lt;o..<b>bar</b>..... non-terminated entity &amp'],
  [
    '7g debug',
    8,
    0,
    1,
    '.',
    FilterHTML | Debug,
    'g) f&lt;o\t<b>bar</b>\t non-terminated entity &amp',
    'g) f&lt;o..|<b>bar</b>.....| non-terminated entity &amp',
  ],
  ['8', 8, 0, 1, '*', 0, 'Hello, world!\n', 'Hello, world!\n'],
  ['9a', 1, 0, 0, '.', 0, '1\t2\t3\t4\n' + '11\t222\t3333\t44444\n', '1.2..3...4\n' + '11222333344444\n'],
  ['9b', 1, 0, 0, '.', FilterHTML, '1\t2<!---\f--->\t3\t4\n' + '11\t222\t3333\t44444\n', '1.2<!---\f--->..3...4\n' + '11222333344444\n'],
  ['9c', 1, 0, 0, '.', 0, '1\t2\t3\t4\f' + '11\t222\t3333\t44444\n', '1234\n' + '11222333344444\n'],
  ['9c debug', 1, 0, 0, '.', Debug, '1\t2\t3\t4\f' + '11\t222\t3333\t44444\n', '1|2|3|4\n' + '---\n' + '11|222|3333|44444\n'],
  ['10a', 5, 0, 0, '.', 0, '1\t2\t3\t4\n', '1....2....3....4\n'],
  ['10b', 5, 0, 0, '.', 0, '1\t2\t3\t4\t\n', '1....2....3....4....\n'],
  [
    '11',
    8,
    0,
    1,
    '.',
    0,
    '本\tb\tc\n' + 'aa\t\u672c\u672c\u672c\tcccc\tddddd\n' + 'aaa\tbbbb\n',
    '本.......b.......c\n' + 'aa......本本本.....cccc....ddddd\n' + 'aaa.....bbbb\n',
  ],
  [
    '12a',
    8,
    0,
    1,
    ' ',
    AlignRight,
    'a\tè\tc\t\n' + 'aa\tèèè\tcccc\tddddd\t\n' + 'aaa\tèèèè\t\n',
    '       a       è       c\n' + '      aa     èèè    cccc   ddddd\n' + '     aaa    èèèè\n',
  ],
  ['12b', 2, 0, 0, ' ', 0, 'a\tb\tc\n' + 'aa\tbbb\tcccc\n' + 'aaa\tbbbb\n', 'a  b  c\n' + 'aa bbbcccc\n' + 'aaabbbb\n'],
  ['12c', 8, 0, 1, '_', 0, 'a\tb\tc\n' + 'aa\tbbb\tcccc\n' + 'aaa\tbbbb\n', 'a_______b_______c\n' + 'aa______bbb_____cccc\n' + 'aaa_____bbbb\n'],
  [
    '13a',
    4,
    0,
    1,
    '-',
    0,
    '4444\t日本語\t22\t1\t333\n' +
      '999999999\t22\n' +
      '7\t22\n' +
      '\t\t\t88888888\n' +
      '\n' +
      '666666\t666666\t666666\t4444\n' +
      '1\t1\t999999999\t0000000000\n',
    '4444------日本語-22--1---333\n' +
      '999999999-22\n' +
      '7---------22\n' +
      '------------------88888888\n' +
      '\n' +
      '666666-666666-666666----4444\n' +
      '1------1------999999999-0000000000\n',
  ],
  [
    '13b',
    4,
    0,
    3,
    '.',
    0,
    '4444\t333\t22\t1\t333\n' +
      '999999999\t22\n' +
      '7\t22\n' +
      '\t\t\t88888888\n' +
      '\n' +
      '666666\t666666\t666666\t4444\n' +
      '1\t1\t999999999\t0000000000\n',
    '4444........333...22...1...333\n' +
      '999999999...22\n' +
      '7...........22\n' +
      '....................88888888\n' +
      '\n' +
      '666666...666666...666666......4444\n' +
      '1........1........999999999...0000000000\n',
  ],
  [
    '13c',
    8,
    8,
    1,
    '\t',
    FilterHTML,
    '4444\t333\t22\t1\t333\n' +
      '999999999\t22\n' +
      '7\t22\n' +
      '\t\t\t88888888\n' +
      '\n' +
      '666666\t666666\t666666\t4444\n' +
      '1\t1\t<font color=red attr=日本語>999999999</font>\t0000000000\n',
    '4444\t\t333\t22\t1\t333\n' +
      '999999999\t22\n' +
      '7\t\t22\n' +
      '\t\t\t\t88888888\n' +
      '\n' +
      '666666\t666666\t666666\t\t4444\n' +
      '1\t1\t<font color=red attr=日本語>999999999</font>\t0000000000\n',
  ],
  [
    '14',
    1,
    0,
    2,
    ' ',
    AlignRight,
    '.0\t.3\t2.4\t-5.1\t\n' +
      '23.0\t12345678.9\t2.4\t-989.4\t\n' +
      '5.1\t12.0\t2.4\t-7.0\t\n' +
      '.0\t0.0\t332.0\t8908.0\t\n' +
      '.0\t-.3\t456.4\t22.1\t\n' +
      '.0\t1.2\t44.4\t-13.3\t\t',
    '    .0          .3    2.4    -5.1\n' +
      '  23.0  12345678.9    2.4  -989.4\n' +
      '   5.1        12.0    2.4    -7.0\n' +
      '    .0         0.0  332.0  8908.0\n' +
      '    .0         -.3  456.4    22.1\n' +
      '    .0         1.2   44.4   -13.3',
  ],
  [
    '14 debug',
    1,
    0,
    2,
    ' ',
    AlignRight | Debug,
    '.0\t.3\t2.4\t-5.1\t\n' +
      '23.0\t12345678.9\t2.4\t-989.4\t\n' +
      '5.1\t12.0\t2.4\t-7.0\t\n' +
      '.0\t0.0\t332.0\t8908.0\t\n' +
      '.0\t-.3\t456.4\t22.1\t\n' +
      '.0\t1.2\t44.4\t-13.3\t\t',
    '    .0|          .3|    2.4|    -5.1|\n' +
      '  23.0|  12345678.9|    2.4|  -989.4|\n' +
      '   5.1|        12.0|    2.4|    -7.0|\n' +
      '    .0|         0.0|  332.0|  8908.0|\n' +
      '    .0|         -.3|  456.4|    22.1|\n' +
      '    .0|         1.2|   44.4|   -13.3|',
  ],
  ['15a', 4, 0, 0, '.', 0, 'a\t\tb', 'a.......b'],
  ['15b', 4, 0, 0, '.', DiscardEmptyColumns, 'a\t\tb', 'a.......b'],
  ['15c', 4, 0, 0, '.', DiscardEmptyColumns, 'a\v\vb', 'a...b'],
  ['15d', 4, 0, 0, '.', AlignRight | DiscardEmptyColumns, 'a\v\vb', '...ab'],
  [
    '16a',
    100,
    100,
    0,
    '\t',
    0,
    'a\tb\t\td\n' + 'a\tb\t\td\te\n' + 'a\n' + 'a\tb\tc\td\n' + 'a\tb\tc\td\te\n',
    'a\tb\t\td\n' + 'a\tb\t\td\te\n' + 'a\n' + 'a\tb\tc\td\n' + 'a\tb\tc\td\te\n',
  ],
  [
    '16b',
    100,
    100,
    0,
    '\t',
    DiscardEmptyColumns,
    'a\vb\v\vd\n' + 'a\vb\v\vd\ve\n' + 'a\n' + 'a\vb\vc\vd\n' + 'a\vb\vc\vd\ve\n',
    'a\tb\td\n' + 'a\tb\td\te\n' + 'a\n' + 'a\tb\tc\td\n' + 'a\tb\tc\td\te\n',
  ],
  [
    '16b debug',
    100,
    100,
    0,
    '\t',
    DiscardEmptyColumns | Debug,
    'a\vb\v\vd\n' + 'a\vb\v\vd\ve\n' + 'a\n' + 'a\vb\vc\vd\n' + 'a\vb\vc\vd\ve\n',
    'a\t|b\t||d\n' + 'a\t|b\t||d\t|e\n' + 'a\n' + 'a\t|b\t|c\t|d\n' + 'a\t|b\t|c\t|d\t|e\n',
  ],
  [
    '16c',
    100,
    100,
    0,
    '\t',
    DiscardEmptyColumns,
    'a\tb\t\td\n' + 'a\tb\t\td\te\n' + 'a\n' + 'a\tb\tc\td\n' + 'a\tb\tc\td\te\n',
    'a\tb\t\td\n' + 'a\tb\t\td\te\n' + 'a\n' + 'a\tb\tc\td\n' + 'a\tb\tc\td\te\n',
  ],
  [
    '16c debug',
    100,
    100,
    0,
    '\t',
    DiscardEmptyColumns | Debug,
    'a\tb\t\td\n' + 'a\tb\t\td\te\n' + 'a\n' + 'a\tb\tc\td\n' + 'a\tb\tc\td\te\n',
    'a\t|b\t|\t|d\n' + 'a\t|b\t|\t|d\t|e\n' + 'a\n' + 'a\t|b\t|c\t|d\n' + 'a\t|b\t|c\t|d\t|e\n',
  ],
]

function writeAll(w: TabWriter, src: string, chunk: (i: number) => number): string {
  let out = ''
  for (let i = 0, n = 0; i < src.length; i += n) {
    n = Math.max(1, Math.min(chunk(i), src.length - i))
    w.write(src.slice(i, i + n))
  }
  out += w.flush()
  return out
}

test('Go text/tabwriter behaviour (rune-counted widths)', () => {
  for (const [name, minwidth, tabwidth, padding, padchar, flags, src, expected] of cases) {
    const mk = () => new TabWriter(minwidth, tabwidth, padding, padchar, flags, { width: runeCount })
    // all at once
    assert.equal(mk().write(src).flush(), expected, name)
    // byte by byte
    assert.equal(writeAll(mk(), src, () => 1), expected, `${name} (one at a time)`)
    // in growing slices
    let d = 0
    assert.equal(writeAll(mk(), src, () => ++d), expected, `${name} (growing slices)`)
  }
})

test('output becomes available as lines complete and flush returns the rest', () => {
  const w = new TabWriter(0, 8, 1, ' ', 0)
  w.write('a\tb\n')
  w.write('single\n') // a line with one cell ends the block: everything so far is formatted
  const first = w.flush()
  assert.equal(first, 'a b\nsingle\n')
  assert.equal(w.write('x').flush(), 'x')
  assert.equal(w.flush(), '')
})

test('docker table writer: NewWriter(out, 10, 1, 3, " ", 0)', () => {
  const out = formatTable('CONTAINER ID\tIMAGE\tNAMES\n0123456789ab\tnginx\tweb\nabc\tpostgres:16-alpine\tdb\n')
  assert.equal(
    out,
    'CONTAINER ID   IMAGE                NAMES\n' + '0123456789ab   nginx                web\n' + 'abc            postgres:16-alpine   db\n',
  )
  // The last cell of a line is never padded; a trailing tab makes a padded column.
  assert.equal(formatTable('a\tb\n'), 'a         b\n') // minwidth 10
  assert.equal(formatTable('a\tb\t\n'), 'a         b         \n')
  // Lines without a tab do not take part in (and end) column blocks.
  assert.equal(formatTable('IDENTIFIER\tNAME\nnote\nx\ty\n'), 'IDENTIFIER   NAME\nnote\nx         y\n')
})

test('docker measures East Asian wide characters as two columns', () => {
  assert.equal(displayWidth('abc'), 3)
  assert.equal(displayWidth('日本語'), 6)
  assert.equal(displayWidth('e\u0301'), 1)
  assert.equal(displayWidth('\u{1F600}'), 2)
  assert.equal(formatTable('名前\tID\nweb\t1\n'), '名前      ID\nweb       1\n')
  assert.equal(formatTable('コンテナの名前\tID\nweb\t1\n'), 'コンテナの名前   ID\nweb              1\n')
  assert.equal(runeCount('日本語'), 3)
})

test('constructor validation', () => {
  assert.throws(() => new TabWriter(-1, 0, 0, ' '), /negative/)
  assert.throws(() => new TabWriter(0, 0, 0, '  '), /single character/)
})
