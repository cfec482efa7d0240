import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseFlags, UsageError, type FlagSpec } from './flags.js'

const specs: FlagSpec[] = [
  { name: 'all', short: 'a', type: 'bool', help: '' },
  { name: 'quiet', short: 'q', type: 'bool', help: '' },
  { name: 'filter', short: 'f', type: 'list', help: '' },
  { name: 'format', type: 'string', help: '' },
  { name: 'tail', short: 'n', type: 'int', help: '' },
]

test('long, short, bundled and attached forms as pflag parses them', () => {
  const r = parseFlags(['-aq', '--format={{.ID}}', '-fdangling=true', '-f', 'label=x', 'repo', '--tail', '5'], specs)
  assert.deepEqual(r.flags, { all: true, quiet: true, format: '{{.ID}}', filter: ['dangling=true', 'label=x'], tail: 5 })
  assert.deepEqual(r.args, ['repo'])
})

test('-- ends flags; interspersed=false stops at the first argument', () => {
  assert.deepEqual(parseFlags(['--', '-a'], specs).args, ['-a'])
  const r = parseFlags(['-a', 'img', '-q', 'x'], specs, { interspersed: false })
  assert.deepEqual(r.args, ['img', '-q', 'x'])
  assert.equal(r.flags.quiet, undefined)
})

test('bool values and help', () => {
  assert.equal(parseFlags(['--all=false'], specs).flags.all, false)
  assert.equal(parseFlags(['--help'], specs).help, true)
  assert.equal(parseFlags(['-h'], specs).help, true)
})

test("docker's error messages, exit status 125", () => {
  const cases: Array<[string[], string]> = [
    [['--nope'], 'unknown flag: --nope'],
    [['-x'], "unknown shorthand flag: 'x' in -x"],
    [['-ax'], "unknown shorthand flag: 'x' in -ax"],
    [['--format'], 'flag needs an argument: --format'],
    [['-f'], "flag needs an argument: 'f' in -f"],
    [['--tail', 'abc'], 'invalid argument "abc" for "-n, --tail" flag: strconv.ParseInt: parsing "abc": invalid syntax'],
    [['--all=maybe'], 'invalid argument "maybe" for "--all" flag: strconv.ParseBool: parsing "maybe": invalid syntax'],
  ]
  for (const [argv, msg] of cases) {
    assert.throws(() => parseFlags(argv, specs), (err: unknown) => err instanceof UsageError && err.message === msg && err.status === 125, argv.join(' '))
  }
})
