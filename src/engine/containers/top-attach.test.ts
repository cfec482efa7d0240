import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Procs } from '../../platform/procs.js'
import { parseDetachKeys, resizeContainer, resizeTerminal } from './attach.js'
import { cgroupsPathOf, topContainer } from './top.js'
import type { ContainerRecord } from './types.js'

const rec = (status: string) => ({ id: 'c'.repeat(64), name: 'x', state: { status } }) as unknown as ContainerRecord

function fakeProcs(pids: number[], out: string, failWithQ = false): Procs & { calls: string[][]; paths: string[] } {
  const calls: string[][] = []
  const paths: string[] = []
  return {
    calls, paths,
    cgroupPids: async (p) => { paths.push(p); return pids },
    ps: async (args) => {
      calls.push(args)
      if (failWithQ && args.includes('-q')) return { code: 1, stdout: '', stderr: 'error: conflicting format options' }
      return { code: 0, stdout: out, stderr: '' }
    },
  }
}

const PS = 'UID PID PPID C STIME TTY TIME CMD\nroot 10 1 0 10:00 ? 00:00:00 sleep 1000\nroot 11 10 0 10:00 ? 00:00:00 sh -c echo  hi\nroot 99 1 0 10:00 ? 00:00:00 other\n'

test('top runs ps over the container cgroup and keeps its own PIDs, the last column whole', async () => {
  const p = fakeProcs([10, 11], PS)
  const out = await topContainer(rec('running'), '', p)
  assert.deepEqual(p.paths, [cgroupsPathOf('c'.repeat(64))])
  assert.deepEqual(p.calls, [['-ef', '-q', '10,11']])
  assert.deepEqual(out.titles, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'])
  assert.deepEqual(out.processes.map((r) => r[1]), ['10', '11'])
  assert.equal(out.processes[1]!.at(-1), 'sh -c echo hi')
})

test('top retries without -q for options that refuse it; refuses a stopped container', async () => {
  const p = fakeProcs([10], PS, true)
  const out = await topContainer(rec('paused'), 'aux', p)
  assert.deepEqual(p.calls, [['aux', '-q', '10'], ['aux']])
  assert.deepEqual(out.processes.map((r) => r[1]), ['10'])
  await assert.rejects(topContainer(rec('exited'), '', p), { kind: 'Conflict', message: `container ${'c'.repeat(64)} is not running` })
})

test('resize writes conmon\'s control message; a monitor that is gone is not an error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-resize-'))
  try {
    const ctl = join(dir, 'ctl')
    await writeFile(ctl, '')
    await resizeTerminal(ctl, 40, 120)
    assert.equal(await readFile(ctl, 'utf8'), '1 40 120\n')
    await resizeTerminal(join(dir, 'gone'), 1, 1)
    const svc = { resolve: () => rec('exited'), controlPath: () => ctl }
    await assert.rejects(resizeContainer(svc, 'x', 1, 1), { kind: 'Conflict' })
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('detach keys in Docker syntax', () => {
  assert.deepEqual(parseDetachKeys('ctrl-p,ctrl-q'), [16, 17])
  assert.deepEqual(parseDetachKeys('ctrl-@,a'), [0, 97])
  assert.deepEqual(parseDetachKeys(''), [])
  assert.throws(() => parseDetachKeys('ctrl-pp'), { message: 'Invalid escape keys (ctrl-pp) provided' })
})
