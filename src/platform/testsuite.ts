/**
 * The contract of platform.ts as tests: any Platform (the host, the fake) must pass them.
 * The fixture tells the suite what the platform under test holds (a readable kernel file, a
 * mounted path) and prepares it (the fake scripts the tools the suite runs).
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { describe, it } from 'node:test'
import { isKind } from '../lib/errors.js'
import type { Platform } from './platform.js'

export interface PlatformFixture {
  platform: Platform
  /** A kernel file that exists and a fragment of its text. */
  knownFile: { path: string; includes: string }
  /** A directory of kernel files and one name in it. */
  knownDir: { path: string; has: string }
  /** A symlink among the kernel files and a fragment of its target. */
  knownLink: { path: string; includes: string }
  /** A path that is a mount point. */
  mountedPath: string
  /** Why bind/mount/unmount cannot be exercised (not root), or undefined when they can. */
  cannotMount?: string
  /** Why a write to an existing kernel file cannot be tried, or a writable file and value. */
  writable?: { path: string; value: string } | string
  /** Make the next overlay mount fail as the kernel fails it for missing lower dirs (a fake needs telling). */
  breakNextOverlayMount?: () => void
}

/**
 * The tools the suite runs, and what each must do: a fake scripts exactly these.
 * `cat` copies stdin to stdout; `false` exits 1; `sh -c SCRIPT_3` prints `out`, `err` on stderr, exits 3.
 */
export const SUITE_SCRIPT_3 = 'printf out; printf err >&2; exit 3'
export const SUITE_MISSING_TOOL = 'berth-no-such-tool-for-tests'

async function collect(r: Readable | null): Promise<Buffer> {
  assert.ok(r, 'stdout is piped')
  const chunks: Buffer[] = []
  for await (const c of r) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

export function platformSuite(name: string, make: () => PlatformFixture | Promise<PlatformFixture>): void {
  describe(`Platform contract: ${name}`, () => {
    describe('Spawner', () => {
      it('run captures stdout, stderr and a non-zero exit code as a result', async () => {
        const { platform } = await make()
        const r = await platform.spawner.run('sh', ['-c', SUITE_SCRIPT_3])
        assert.deepEqual(r, { code: 3, stdout: 'out', stderr: 'err' })
        assert.equal((await platform.spawner.run('false', [])).code, 1)
      })

      it('run feeds input to stdin', async () => {
        const { platform } = await make()
        const r = await platform.spawner.run('cat', [], { input: 'hello\n' })
        assert.equal(r.code, 0)
        assert.equal(r.stdout, 'hello\n')
      })

      it('run rejects with ENOENT for a missing tool', async () => {
        const { platform } = await make()
        await assert.rejects(platform.spawner.run(SUITE_MISSING_TOOL, []), (e: NodeJS.ErrnoException) => e.code === 'ENOENT')
      })

      it('run rejects when aborted', async () => {
        const { platform } = await make()
        await assert.rejects(platform.spawner.run('cat', [], { signal: AbortSignal.abort() }), (e: Error) => e.name === 'AbortError')
      })

      it('start streams stdin to stdout without buffering the whole input first', async () => {
        const { platform } = await make()
        const p = platform.spawner.start('cat', [])
        const chunks = Array.from({ length: 64 }, (_, i) => Buffer.alloc(16 * 1024, i))
        const out = collect(p.stdout)
        Readable.from(chunks).pipe(p.stdin!)
        const got = await out
        assert.equal(got.length, 64 * 16 * 1024)
        assert.ok(got.equals(Buffer.concat(chunks)))
        assert.deepEqual(await p.exit, { code: 0, stderr: '' })
      })

      it('start reports exit code and stderr', async () => {
        const { platform } = await make()
        const p = platform.spawner.start('sh', ['-c', SUITE_SCRIPT_3], { stdin: 'ignore' })
        assert.equal(p.stdin, null)
        assert.equal((await collect(p.stdout)).toString(), 'out')
        const e = await p.exit
        assert.equal(e.code, 3)
        assert.equal(e.stderr, 'err')
      })

      it('start of a missing tool settles exit with code -1 and the spawn error, never throws', async () => {
        const { platform } = await make()
        const p = platform.spawner.start(SUITE_MISSING_TOOL, [], { stdin: 'ignore' })
        const e = await p.exit
        assert.equal(e.code, -1)
        assert.equal((e.spawnError as NodeJS.ErrnoException | undefined)?.code, 'ENOENT')
      })

      it('kill ends a tool that waits on stdin; exit says it was signalled', async () => {
        const { platform } = await make()
        const p = platform.spawner.start('cat', [])
        p.kill('SIGKILL')
        const e = await p.exit
        assert.equal(e.code, 128 + 9)
        p.stdin!.write('late write is dropped')
        p.kill() // already exited: ignored
      })

      it('an abort signal kills a started tool', async () => {
        const { platform } = await make()
        const ac = new AbortController()
        const p = platform.spawner.start('cat', [], { signal: ac.signal })
        ac.abort()
        assert.equal((await p.exit).code, 128 + 9)
      })

      it('runSync captures output and exit code', async () => {
        const { platform } = await make()
        assert.deepEqual(platform.spawner.runSync('sh', ['-c', SUITE_SCRIPT_3]), { code: 3, stdout: 'out', stderr: 'err' })
        assert.throws(() => platform.spawner.runSync(SUITE_MISSING_TOOL, []), (e: NodeJS.ErrnoException) => e.code === 'ENOENT')
      })
    })

    describe('KernelFiles', () => {
      it('reads a file, lists a directory, reads a link', async () => {
        const fx = await make()
        assert.ok((await fx.platform.files.read(fx.knownFile.path))?.includes(fx.knownFile.includes))
        const names = await fx.platform.files.list(fx.knownDir.path)
        assert.ok(names?.includes(fx.knownDir.has), `${fx.knownDir.path} lists ${fx.knownDir.has}`)
        assert.deepEqual(names, [...(names ?? [])].sort())
        assert.ok((await fx.platform.files.readlink(fx.knownLink.path))?.includes(fx.knownLink.includes))
      })

      it('what does not exist reads as undefined', async () => {
        const { platform } = await make()
        assert.equal(await platform.files.read('/proc/999999999/status'), undefined)
        assert.equal(await platform.files.list('/proc/999999999/fd'), undefined)
        assert.equal(await platform.files.readlink('/proc/999999999/ns/net'), undefined)
      })

      it('writing a file that does not exist rejects with ENOENT', async () => {
        const { platform } = await make()
        await assert.rejects(platform.files.write('/proc/sys/berth-no-such-sysctl', '1'), (e: NodeJS.ErrnoException) => e.code === 'ENOENT')
      })

      it('writes an existing file', async (t) => {
        const fx = await make()
        if (typeof fx.writable !== 'object') return t.skip(fx.writable ?? 'no writable file given')
        await fx.platform.files.write(fx.writable.path, fx.writable.value)
        assert.equal((await fx.platform.files.read(fx.writable.path))?.trim(), fx.writable.value)
      })
    })

    describe('Mounts', () => {
      it('lists the table and knows a mount point from a plain directory', async () => {
        const fx = await make()
        const all = await fx.platform.mounts.list()
        assert.ok(all.some((m) => m.target === fx.mountedPath && m.fsType !== ''))
        assert.equal(await fx.platform.mounts.isMounted(fx.mountedPath), true)
        const dir = await mkdtemp(join(tmpdir(), 'berth-platform-'))
        try {
          assert.equal(await fx.platform.mounts.isMounted(dir), false)
          assert.deepEqual(await fx.platform.mounts.list(dir), [])
          await fx.platform.mounts.unmount(dir) // not a mount point: a no-op
        } finally {
          await rm(dir, { recursive: true, force: true })
        }
      })

      it('bind, list under, unmount', async (t) => {
        const fx = await make()
        if (fx.cannotMount) return t.skip(fx.cannotMount)
        const dir = await mkdtemp(join(tmpdir(), 'berth-platform-'))
        const { mkdir } = await import('node:fs/promises')
        await mkdir(join(dir, 'src'))
        await mkdir(join(dir, 'dst'))
        try {
          await fx.platform.mounts.bind(join(dir, 'src'), join(dir, 'dst'), { readonly: true })
          assert.equal(await fx.platform.mounts.isMounted(join(dir, 'dst')), true)
          const under = await fx.platform.mounts.list(dir)
          assert.deepEqual(under.map((m) => m.target), [join(dir, 'dst')])
          assert.ok(under[0]!.options.includes('ro'))
          assert.equal(await fx.platform.mounts.isMounted(dir), false, 'the parent is not a mount point')
          await fx.platform.mounts.unmount(join(dir, 'dst'))
          assert.equal(await fx.platform.mounts.isMounted(join(dir, 'dst')), false)
        } finally {
          await fx.platform.mounts.unmount(join(dir, 'dst')).catch(() => {})
          await rm(dir, { recursive: true, force: true })
        }
      })

      it('a failed overlay mount rejects with an Internal EngineError and mounts nothing', async (t) => {
        const fx = await make()
        if (fx.cannotMount) return t.skip(fx.cannotMount)
        const dir = await mkdtemp(join(tmpdir(), 'berth-platform-'))
        try {
          // Lower dirs that do not exist: the kernel refuses (the fake is told to).
          fx.breakNextOverlayMount?.()
          await assert.rejects(fx.platform.mounts.mountOverlay([join(dir, 'nope')], join(dir, 'u'), join(dir, 'w'), dir), (e) => isKind(e, 'Internal'))
          assert.equal(await fx.platform.mounts.isMounted(dir), false)
        } finally {
          await rm(dir, { recursive: true, force: true })
        }
      })
    })
  })
}
