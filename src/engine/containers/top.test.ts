import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parsePs } from './top.js'

test('ps output: titles, PID filtering, the last column keeps its spaces', () => {
  const out = 'UID          PID    PPID  C STIME TTY          TIME CMD\nroot        4242       1  0 10:00 ?        00:00:00 sleep 30\nroot         999       1  0 10:00 ?        00:00:00 other thing\n'
  const r = parsePs(out, new Set([4242]))
  assert.deepEqual(r.titles, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'])
  assert.deepEqual(r.processes, [['root', '4242', '1', '0', '10:00', '?', '00:00:00', 'sleep 30']])
  assert.throws(() => parsePs('USER COMMAND\nroot x\n', new Set()), /Couldn't find PID field in ps output/)
})
