import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Filters, parseTimestamp } from './filters.js'

test('parses both filter encodings and matches labels', () => {
  const f = Filters.parse('{"label":["a","b=c"],"dangling":{"true":true}}')
  assert.deepEqual(f.get('label'), ['a', 'b=c'])
  assert.equal(f.bool('dangling'), true)
  assert.equal(f.matchLabels('label', { a: 'x', b: 'c' }), true)
  assert.equal(f.matchLabels('label', { a: 'x', b: 'd' }), false)
  assert.throws(() => f.validate(['label']), /invalid filter 'dangling'/)
  assert.throws(() => Filters.parse('{bad'), /invalid filter/)
  assert.throws(() => Filters.parse('{"dangling":["maybe"]}').bool('dangling'), { message: "invalid filter 'dangling=[maybe]'" })
  // Docker's GetBoolOrDefault: exact values, and true and false at once is an error too.
  assert.throws(() => Filters.parse('{"dangling":["TRUE"]}').bool('dangling'), { message: "invalid filter 'dangling=[TRUE]'" })
  assert.throws(() => Filters.parse('{"dangling":["true","false"]}').bool('dangling'), { message: "invalid filter 'dangling=[true false]'" })
  assert.equal(Filters.parse('{"dangling":["1"]}').bool('dangling'), true)
  assert.equal(Filters.parse('{"dangling":{"false":true}}').bool('dangling'), false)
  assert.equal(Filters.parse('{}').bool('dangling'), undefined)
  assert.throws(() => Filters.parse('{bad'), { message: 'invalid filter' })
})

test('timestamps: unix seconds, durations, RFC 3339', () => {
  const now = Date.parse('2026-01-01T00:00:00Z')
  assert.equal(parseTimestamp('1700000000.5', now), 1700000000500)
  assert.equal(parseTimestamp('10m', now), now - 600_000)
  assert.equal(parseTimestamp('1h30m', now), now - 5_400_000)
  assert.equal(parseTimestamp('2025-12-31T23:00:00Z', now), now - 3_600_000)
  assert.throws(() => parseTimestamp('yesterday', now), /failed to parse value as time or duration/)
})

test('timestamps as nanoseconds keep seconds.nanoseconds precision', async () => {
  const { parseTimestampNano } = await import('./filters.js')
  assert.equal(parseTimestampNano('1700000000.000000001'), 1_700_000_000_000_000_001n)
  assert.equal(parseTimestampNano('1700000000.5'), 1_700_000_000_500_000_000n)
  const now = Date.parse('2026-01-01T00:00:00Z')
  assert.equal(parseTimestampNano('10m', now), BigInt(now - 600_000) * 1_000_000n)
  assert.throws(() => parseTimestampNano('yesterday', now), /failed to parse value as time or duration/)
})
