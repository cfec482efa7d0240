import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parseDockerfile, parseNameVal } from './parser.js'
import { processWord, processWords } from './shell-lex.js'
import { isIgnored, parseDockerignore } from './dockerignore.js'

const env = new Map([['A', 'a'], ['EMPTY', ''], ['SP', 'x y']])

describe('Dockerfile parser', () => {
  it('reads instructions, continuations, comments and line numbers', () => {
    const df = parseDockerfile('# a comment\nFROM busybox AS base\n\nRUN echo a \\\n  # inner comment\n  && echo b\nrun ["echo", "c"]\nCMD echo d\n')
    assert.deepEqual(df.instructions.map((i) => [i.cmd, i.line]), [['from', 2], ['run', 4], ['run', 7], ['cmd', 8]])
    assert.equal(df.instructions[1]!.args, 'echo a   && echo b')
    assert.deepEqual(df.instructions[2]!.json, ['echo', 'c'])
    assert.equal(df.instructions[3]!.json, undefined)
  })

  it('honours the escape directive and ignores syntax', () => {
    const df = parseDockerfile('# syntax=docker/dockerfile:1\n# escape=`\nFROM busybox\nRUN echo a `\n b\nCOPY a\\b c:\\d\n')
    assert.equal(df.escape, '`')
    assert.equal(df.instructions[1]!.args, 'echo a  b')
    assert.equal(df.instructions[2]!.args, 'a\\b c:\\d')
  })

  it('a directive after an instruction is a comment', () => {
    const df = parseDockerfile('FROM busybox\n# escape=`\nRUN echo \\\n a\n')
    assert.equal(df.escape, '\\')
    assert.equal(df.instructions[1]!.args, 'echo  a')
  })

  it('reads heredocs, with <<- tab stripping and quoted delimiters', () => {
    const df = parseDockerfile('FROM busybox\nRUN <<EOF\necho one\necho two\nEOF\nCOPY <<-"END" /x\n\tline $A\n\tEND\nRUN echo after\n')
    const [, run, copy, after] = df.instructions
    assert.equal(run!.heredocs[0]!.content, 'echo one\necho two\n')
    assert.equal(run!.heredocs[0]!.expand, true)
    assert.equal(copy!.heredocs[0]!.content, 'line $A\n')
    assert.equal(copy!.heredocs[0]!.expand, false)
    assert.equal(after!.line, 9)
  })

  it('accepts stage names in any case and refuses invalid ones', () => {
    assert.equal(parseDockerfile('FROM busybox AS Builder\n').instructions.length, 1)
    assert.throws(() => parseDockerfile('FROM busybox AS 1st\n'), /line 1: invalid name for build stage: "1st"/)
  })

  it('keeps JSON that does not parse as the shell form, and CRLF line ends', () => {
    const df = parseDockerfile('FROM busybox\r\nCMD [not json]\r\nRUN echo a\r\n')
    assert.equal(df.instructions[1]!.json, undefined)
    assert.equal(df.instructions[1]!.args, '[not json]')
    assert.equal(df.instructions[2]!.args, 'echo a')
  })

  it('reads flags', () => {
    const df = parseDockerfile('FROM --platform=linux/amd64 busybox\nCOPY --from=base --chown=1:2 --chmod=755 a b\n')
    assert.deepEqual(df.instructions[1]!.flags, [{ name: 'from', value: 'base' }, { name: 'chown', value: '1:2' }, { name: 'chmod', value: '755' }])
  })

  for (const [text, msg] of [
    ['FROM busybox\nFOO bar\n', 'Dockerfile parse error line 2: unknown instruction: FOO'],
    ['FROM busybox\n\nENV\n', 'Dockerfile parse error line 3: ENV requires at least one argument'],
    ['FROM a b\n', 'Dockerfile parse error line 1: FROM requires either one or three arguments'],
    ['FROM busybox\nCOPY onlyone\n', 'Dockerfile parse error line 2: COPY requires at least two arguments, but only one was provided. Destination could not be determined.'],
    ['FROM busybox\nRUN <<EOF\necho\n', 'Dockerfile parse error line 2: unterminated heredoc EOF'],
    ['FROM busybox\nCOPY --bogus=1 a b\n', 'Dockerfile parse error line 2: unknown flag: bogus'],
    ['FROM busybox\nONBUILD ONBUILD RUN x\n', "Dockerfile parse error line 2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"],
    ['FROM busybox\nSHELL /bin/bash\n', 'Dockerfile parse error line 2: SHELL requires the arguments to be in JSON form'],
    ['FROM busybox\nHEALTHCHECK foo\n', 'Dockerfile parse error line 2: Unknown type in HEALTHCHECK (try CMD)'],
    ['# escape=x\nFROM busybox\n', "Dockerfile parse error line 1: invalid escape token 'x' does not match ` or \\"],
  ] as const) {
    it(`refuses: ${msg}`, () => assert.throws(() => parseDockerfile(text), { message: msg }))
  }

  it('splits ENV and LABEL pairs, new and legacy forms', () => {
    assert.deepEqual(parseNameVal('A=1 B="two words" C=x\\ y', 'env', 1, '\\'), [['A', '1'], ['B', '"two words"'], ['C', 'x\\ y']])
    assert.deepEqual(parseNameVal('A two words', 'env', 1, '\\'), [['A', 'two words']])
    assert.throws(() => parseNameVal('=x', 'env', 3, '\\'), /line 3: ENV names can not be blank/)
    assert.throws(() => parseNameVal('A=1 B', 'label', 4, '\\'), /line 4: Syntax error - can't find = in "B"/)
  })
})

describe('word substitution', () => {
  it('expands variables with Docker modifiers', () => {
    assert.equal(processWord('$A-${A}-${NOPE:-d}-${EMPTY:-e}-${EMPTY-f}-${A:+set}-${NOPE:+x}-${EMPTY+p}', env), 'a-a-d-e--set--p')
  })
  it('removes quotes and handles escapes', () => {
    assert.equal(processWord(`'$A' "$A" \\$A "a\\"b" x\\ y`, env), '$A a $A a"b x y')
  })
  it('splits words only outside quotes', () => {
    assert.deepEqual(processWords('one "two three" $SP', env), ['one', 'two three', 'x', 'y'])
  })
  it('fails on :? with an unset variable and on unterminated quotes', () => {
    assert.throws(() => processWord('${NOPE:?must be set}', env), /NOPE: must be set/)
    assert.throws(() => processWord('"abc', env), /matching double-quote/)
  })
  it('uses the escape directive character', () => {
    assert.equal(processWord('a`$A', env, '`'), 'a$A')
  })
})

describe('.dockerignore', () => {
  const p = parseDockerignore('# comment\n*.log\n/build\n**/tmp\n!keep.log\nsecret?\ndocs/**/*.md\n')
  for (const [path, ignored] of [
    ['a.log', true], ['keep.log', false], ['dir/a.log', false], ['build/x/y', true], ['a/b/tmp/c', true], ['tmp', true],
    ['secret1', true], ['secret12', false], ['docs/a/b/c.md', true], ['docs/c.md', true], ['src/main.ts', false],
  ] as const) {
    it(`${path} ${ignored ? 'is' : 'is not'} ignored`, () => assert.equal(isIgnored(p, path), ignored))
  }
})
