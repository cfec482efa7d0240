/**
 * The layer rule (.dependency-cruiser.cjs) as part of the test run: src/ must have no
 * violation, and the rule must catch a forbidden import (a fixture tree shows it failing).
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, it } from 'node:test'

// Runs from dist/scripts; the sources and the config are the repository's.
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const DEPCRUISE = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs')

interface Violation { from: string; to: string; rule: { name: string; severity: string } }

function cruise(cwd: string, config: string): { code: number; violations: Violation[]; stderr: string } {
  const r = spawnSync(process.execPath, [DEPCRUISE, 'src', '--config', config, '--output-type', 'json'], { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
  if (r.error) throw r.error
  let violations: Violation[] = []
  try {
    violations = (JSON.parse(r.stdout) as { summary: { violations: Violation[] } }).summary.violations
  } catch {
    throw new Error(`dependency-cruiser gave no JSON (exit ${r.status}): ${r.stderr.slice(0, 2000)}`)
  }
  return { code: r.status ?? -1, violations, stderr: r.stderr }
}

/** What `npm run lint:layers` runs: the human report, exit code the number of errors. */
function lint(cwd: string): { code: number; out: string } {
  const r = spawnSync(process.execPath, [DEPCRUISE, 'src', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], { cwd, encoding: 'utf8' })
  if (r.error) throw r.error
  return { code: r.status ?? -1, out: r.stdout + r.stderr }
}

/**
 * Kernel files read outside src/platform: a call of a file API on a literal /proc or /sys path.
 * (Paths merely named, as mount destinations in an OCI spec, are not reads.)
 */
const KERNEL_READ = /\b(readFile|readFileSync|readdir|readdirSync|readlink|readlinkSync|statfs|statfsSync|existsSync|open|openSync|readText|has|writeFile|writeFileSync|appendFile)\(\s*['`]\/(proc|sys)\//
export function kernelReads(root: string): string[] {
  const out: string[] = []
  const walk = (dir: string) => {
    for (const n of readdirSync(dir).sort()) {
      const p = join(dir, n)
      if (statSync(p).isDirectory()) { if (p !== join(root, 'src/platform')) walk(p); continue }
      if (!n.endsWith('.ts') || n.endsWith('.test.ts')) continue
      readFileSync(p, 'utf8').split('\n').forEach((line, i) => { if (KERNEL_READ.test(line)) out.push(`${relative(root, p)}:${i + 1}: ${line.trim()}`) })
    }
  }
  walk(join(root, 'src'))
  return out
}

const list = (v: Violation[]) => v.map((x) => `  ${x.rule.name}: ${x.from} → ${x.to}`).join('\n')

describe('layer rule', () => {
  it('src/ has no layer violations', () => {
    const r = cruise(ROOT, '.dependency-cruiser.cjs')
    assert.equal(r.violations.length, 0, `${r.violations.length} layer violations (npm run lint:layers):\n${list(r.violations)}`)
  })

  it('only src/platform reads /proc and /sys', () => {
    const reads = kernelReads(ROOT)
    assert.deepEqual(reads, [], `kernel files read outside src/platform:\n${reads.join('\n')}`)
  })

  it('the kernel-read check catches a read and lets a path that is only named pass', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-layers-'))
    try {
      mkdirSync(join(dir, 'src/engine'), { recursive: true })
      mkdirSync(join(dir, 'src/platform'), { recursive: true })
      writeFileSync(join(dir, 'src/engine/a.ts'), "const m = { destination: '/proc', type: 'proc' }\nconst t = await readFile(`/sys/fs/cgroup/${c}/cgroup.procs`, 'utf8')\n")
      writeFileSync(join(dir, 'src/platform/ok.ts'), "await readFile('/proc/self/mountinfo', 'utf8')\n")
      assert.deepEqual(kernelReads(dir), ["src/engine/a.ts:2: const t = await readFile(`/sys/fs/cgroup/${c}/cgroup.procs`, 'utf8')"])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  describe('on a fixture tree', () => {
    const files: Record<string, string> = {
      'src/lib/errors.ts': 'export const x = 1\n',
      'src/platform/exec.ts': "import { spawn } from 'node:child_process'\nexport const run = spawn\n",
      'src/engine/service.ts': "import { run } from '../platform/exec.js'\nimport { x } from '../lib/errors.js'\nexport const y = [run, x]\n",
      'src/api/routes.ts': "import type { y } from '../engine/service.js'\nimport { x } from '../lib/errors.js'\nexport type Y = typeof y\nexport const z = x\n",
      'src/daemon/main.ts': "import { y } from '../engine/service.js'\nimport { z } from '../api/routes.js'\nexport const all = [y, z]\n",
    }
    const withTree = (extra: Record<string, string>, fn: (dir: string) => void) => {
      const dir = mkdtempSync(join(tmpdir(), 'berth-layers-'))
      try {
        for (const [p, text] of Object.entries({ ...files, ...extra })) {
          mkdirSync(dirname(join(dir, p)), { recursive: true })
          writeFileSync(join(dir, p), text)
        }
        writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true }, include: ['src/**/*.ts'] }))
        copyFileSync(join(ROOT, '.dependency-cruiser.cjs'), join(dir, '.dependency-cruiser.cjs'))
        fn(dir)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }

    it('a tree that keeps the rule passes', () => {
      withTree({}, (dir) => {
        const r = cruise(dir, '.dependency-cruiser.cjs')
        assert.deepEqual(r.violations, [], list(r.violations))
        assert.equal(lint(dir).code, 0)
      })
    })

    it('forbidden imports fail, each naming its rule', () => {
      withTree({
        'src/engine/tar.ts': "import { spawn } from 'node:child_process'\nexport const t = spawn\n",
        'src/api/handler.ts': "import { all } from '../daemon/main.js'\nexport const h = all\n",
        'src/network/bridge.ts': "import { y } from '../engine/service.js'\nexport const b = y\n",
        'src/cli/cmd.ts': "import { y } from '../engine/service.js'\nexport const c = y\n",
        'src/registry/server.ts': "import { y } from '../engine/service.js'\nexport const s = y\n",
        'src/engine/route.ts': "import { z } from '../api/routes.js'\nexport const r = z\n",
        'src/api/engine-value.ts': "import { y } from '../engine/service.js'\nexport const v = y\n",
        'src/build/b.ts': "import { z } from '../api/routes.js'\nexport const w = z\n",
      }, (dir) => {
        const r = cruise(dir, '.dependency-cruiser.cjs')
        const l = lint(dir)
        assert.equal(l.code, 9, `lint:layers exits with the number of violations:\n${l.out}`)
        assert.match(l.out, /error only-platform-spawns: src\/engine\/tar\.ts → child_process/)
        const got = r.violations.map((v) => `${v.rule.name} ${v.from} → ${v.to}`).sort()
        assert.deepEqual(got, [
          'api-imports-api-and-lib src/api/engine-value.ts → src/engine/service.ts',
          'api-imports-api-and-lib src/api/handler.ts → src/daemon/main.ts',
          'build-does-not-import-api src/build/b.ts → src/api/routes.ts',
          'clients-do-not-import-engine-or-daemon src/cli/cmd.ts → src/engine/service.ts',
          'engine-does-not-import-api-or-cli src/engine/route.ts → src/api/routes.ts',
          'lower-layers-do-not-import-engine src/network/bridge.ts → src/engine/service.ts',
          'only-platform-spawns src/engine/tar.ts → child_process',
          'only-the-entry-point-imports-daemon src/api/handler.ts → src/daemon/main.ts',
          'registry-server-does-not-import-engine src/registry/server.ts → src/engine/service.ts',
        ])
      })
    })
  })
})
