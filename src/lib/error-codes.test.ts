import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, it } from 'node:test'
import { check, entryLine, scanSource, scanTree, type CodeUse } from '../../scripts/error-codes.js'
import { ERROR_CODES, codedError, kindOf } from './error-codes.js'
import { isKind } from './errors.js'

// The tests run from dist/src/lib; the sources they check are the repository's.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const catalogueSource = () => readFileSync(join(ROOT, 'src/lib/error-codes.ts'), 'utf8')

const where = (list: CodeUse[]) => list.map((u) => `${u.file}:${u.line}${u.kinds.length ? ` (${u.kinds.join('|')})` : ''}`).join(', ')

describe('error catalogue', () => {
  const report = check(scanTree(ROOT), ERROR_CODES, catalogueSource())

  it('every code used in src/ is catalogued', () => {
    const lines = [...report.missing].sort().map(([code, list]) => entryLine(code, list))
    assert.equal(lines.length, 0, `codes used but not in src/lib/error-codes.ts; add these lines (check kind and wording):\n${lines.join('\n')}`)
  })

  it('no code is catalogued twice', () => {
    assert.deepEqual(report.duplicated, [], `catalogued more than once: ${report.duplicated.join(', ')}`)
  })

  it('every construction uses the catalogued kind', () => {
    const wrong = report.wrongKind
    assert.equal(wrong.length, 0, `constructed with a kind other than the catalogue's:\n${wrong.map((u) => `  ${u.code}: catalogued ${ERROR_CODES[u.code as keyof typeof ERROR_CODES]?.kind}, built as ${u.kinds.join('|')} at ${u.file}:${u.line}`).join('\n')}`)
  })

  it('a code constructed with two kinds says so in the catalogue (alsoKinds)', () => {
    const status = new Set(Object.entries(ERROR_CODES).filter(([, e]) => 'alsoKinds' in e).map(([c]) => c))
    const two = [...report.twoKinds].filter(([code]) => !status.has(code))
    assert.deepEqual(two.map(([c, l]) => `${c}: ${where(l)}`), [])
  })

  it('every entry has a kind and a description', () => {
    for (const [code, e] of Object.entries(ERROR_CODES)) {
      assert.match(code, /^ERR_[A-Z0-9_]+$/)
      assert.ok(e.description.trim().length > 3, `${code} needs a description`)
    }
  })

  it('kindOf and codedError take the kind from the catalogue', () => {
    assert.equal(kindOf('ERR_BLOB_NOT_FOUND'), 'NotFound')
    assert.equal(kindOf('ERR_NOT_A_CODE'), undefined)
    const e = codedError('ERR_BLOB_NOT_FOUND', 'blob x not found')
    assert.ok(isKind(e, 'NotFound'))
    assert.equal(e.code, 'ERR_BLOB_NOT_FOUND')
  })
})

describe('error code scanner', () => {
  const src = `
    const bad = (code: string, message: string) => invalid(code, message)
    throw notFound('ERR_A', \`no \${x}\`)
    throw bad(
      'ERR_B',
      'multi-line, with (parens), and a comma',
    )
    throw new EngineError('Conflict', 'ERR_C', 'c')
    throw new EngineError(s >= 500 ? 'Unavailable' : 'Unauthorized', 'ERR_D', m)
    throw internal(x ? 'ERR_E' : 'ERR_F', msg)
    if (err.code === 'ERR_G' || err.code === 'ERR_STREAM_PREMATURE_CLOSE') {}
    const rekind = new EngineError(err.kind, err.code, 'm')
  `
  const uses = scanSource('f.ts', src)
  const by = (code: string) => uses.filter((u) => u.code === code)

  it('finds helpers, local aliases, EngineError with literal and conditional kinds, and references', () => {
    assert.deepEqual(by('ERR_A').map((u) => u.kinds), [['NotFound']])
    assert.deepEqual(by('ERR_B').map((u) => [u.kinds, u.line]), [[['InvalidArgument'], 4]])
    assert.deepEqual(by('ERR_C').map((u) => u.kinds), [['Conflict']])
    assert.deepEqual(by('ERR_D').map((u) => u.kinds), [['Unavailable', 'Unauthorized']])
    assert.deepEqual([...by('ERR_E'), ...by('ERR_F')].map((u) => u.kinds), [['Internal'], ['Internal']])
    assert.deepEqual(by('ERR_G').map((u) => u.kinds), [[]])
    assert.equal(by('ERR_STREAM_PREMATURE_CLOSE').length, 0, "Node's own codes are not ours")
    assert.equal(uses.length, 7)
  })

  it('fails on a missing code, a duplicate entry and a wrong kind, naming them', () => {
    const cat = { ERR_A: { kind: 'Conflict' as const, description: 'a' }, ERR_C: { kind: 'Conflict' as const, description: 'c' } }
    const r = check(uses, cat, '  ERR_A: {},\n  ERR_C: {},\n  ERR_A: {},\n')
    assert.deepEqual([...r.missing.keys()].sort(), ['ERR_B', 'ERR_D', 'ERR_E', 'ERR_F', 'ERR_G'])
    assert.deepEqual(r.duplicated, ['ERR_A'])
    assert.deepEqual(r.wrongKind.map((u) => u.code), ['ERR_A'])
    assert.match(entryLine('ERR_B', r.missing.get('ERR_B')!), /^ {2}ERR_B: \{ kind: 'InvalidArgument', description: 'multi-line, with \(parens\), and a comma' \}/)
    assert.match(entryLine('ERR_D', r.missing.get('ERR_D')!), /kind: 'Unavailable', alsoKinds: \['Unauthorized'\]/)
  })
})
