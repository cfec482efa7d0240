import { basename, join, resolve as resolvePath } from 'node:path'
import { CliExit, type CliContext } from '../context.js'
import { renderTable, executeTemplate } from '../format.js'
import { EngineError } from '../../lib/errors.js'
import { loadMachine, listMachineNames, machineDir, type MachineConfig } from '../../machine/store.js'
import * as P from '../../machine/provision.js'

/** Errors of the machine layer print as docker-machine prints them; anything else propagates. */
async function guarded(fn: () => Promise<number>): Promise<number> {
  try {
    return await fn()
  } catch (err) {
    if (err instanceof EngineError) throw new CliExit(1, err.message)
    throw err
  }
}

async function ask(ctx: CliContext, question: string): Promise<boolean> {
  ctx.out.write(question)
  const line = await new Promise<string>((resolve) => {
    let buf = ''
    const onData = (b: Buffer) => {
      buf += b.toString()
      if (buf.includes('\n')) done()
    }
    const done = () => { process.stdin.off('data', onData); process.stdin.off('end', done); process.stdin.pause(); resolve(buf.split('\n')[0] ?? '') }
    process.stdin.on('data', onData)
    process.stdin.on('end', done)
  })
  return /^\s*y(es)?\s*$/i.test(line)
}

export async function create(ctx: CliContext): Promise<number> {
  const name = ctx.args[0]!
  const driver = ctx.flags.driver as string
  if (driver !== 'generic') throw new CliExit(1, `Driver "${driver}" not found. Do you have the plugin binary "docker-machine-driver-${driver}" accessible in your PATH? (berth machine supports the generic driver)`)
  for (const o of (ctx.flags['engine-opt'] as string[] | undefined) ?? []) {
    if (!/^[a-z][a-z0-9-]*(=.*)?$/.test(o)) throw new CliExit(1, `invalid --engine-opt "${o}": expected flag=value (a berthd flag without its dashes)`)
  }
  for (const l of (ctx.flags['engine-label'] as string[] | undefined) ?? []) {
    if (!/^[^=]+=/.test(l)) throw new CliExit(1, `invalid --engine-label "${l}": expected key=value`)
  }
  try {
    await P.createMachine({
      name,
      ip: (ctx.flags['generic-ip-address'] as string | undefined) ?? '',
      sshUser: ctx.flags['generic-ssh-user'] as string,
      sshPort: ctx.flags['generic-ssh-port'] as number,
      ...(ctx.flags['generic-ssh-key'] ? { sshKey: resolvePath(ctx.flags['generic-ssh-key'] as string) } : {}),
      engineLabels: (ctx.flags['engine-label'] as string[] | undefined) ?? [],
      engineOptions: (ctx.flags['engine-opt'] as string[] | undefined) ?? [],
      enginePort: ctx.flags['engine-port'] as number,
      log: (l) => ctx.out.write(`${l}\n`),
    })
  } catch (err) {
    if (err instanceof P.StepError) throw new CliExit(1, `Error creating machine: Error running provisioning: ${err.message}`)
    if (err instanceof EngineError) throw new CliExit(1, err.message)
    throw err
  }
  ctx.out.write(`To see how to connect your Docker Client to the Docker Engine running on this virtual machine, run: berth machine env ${name}\n`)
  return 0
}

interface LsRow {
  Name: string
  Active: string
  ActiveHost: boolean
  DriverName: string
  State: string
  URL: string
  EngineVersion: string
  DockerVersion: string
  Error: string
  ResponseTime: string
  Labels: string[]
}

function isActive(cfg: MachineConfig): boolean {
  const h = process.env.DOCKER_HOST
  return !!h && h.replace(/\/$/, '') === P.machineUrl(cfg)
}

function parseFilters(list: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const f of list) {
    const eq = f.indexOf('=')
    if (eq < 0) throw new CliExit(1, `Unsupported filter key '${f}'`)
    const k = f.slice(0, eq).toLowerCase()
    if (!['name', 'driver', 'state', 'label'].includes(k)) throw new CliExit(1, `Unsupported filter key '${k}'`)
    ;(out[k] ??= []).push(f.slice(eq + 1))
  }
  return out
}

export async function ls(ctx: CliContext): Promise<number> {
  return guarded(async () => {
    const filters = parseFilters((ctx.flags.filter as string[] | undefined) ?? [])
    const timeoutMs = ((ctx.flags.timeout as number) || 10) * 1000
    const names = await listMachineNames()
    const rows = (await Promise.all(names.map(async (n): Promise<LsRow> => {
      let cfg: MachineConfig
      try {
        cfg = await loadMachine(n)
      } catch (err) {
        return { Name: n, Active: '-', ActiveHost: false, DriverName: '', State: 'Error', URL: '', EngineVersion: 'Unknown', DockerVersion: 'Unknown', Error: (err as Error).message, ResponseTime: '', Labels: [] }
      }
      const t0 = Date.now()
      const st = await P.machineState(cfg, timeoutMs)
      const url = st.state === 'Running' ? P.machineUrl(cfg) : ''
      return {
        Name: n,
        Active: isActive(cfg) ? '*' : '-',
        ActiveHost: isActive(cfg),
        DriverName: cfg.DriverName,
        State: st.state,
        URL: url,
        EngineVersion: st.version ?? 'Unknown',
        DockerVersion: st.version ?? 'Unknown',
        Error: st.error ?? '',
        ResponseTime: `${Date.now() - t0}ms`,
        Labels: cfg.Engine.Labels,
      }
    }))).filter((r) => {
      const any = (k: string, pred: (v: string) => boolean) => !filters[k] || filters[k]!.some(pred)
      return any('name', (v) => { try { return new RegExp(`^${v}$`).test(r.Name) || r.Name === v } catch { return r.Name === v } })
        && any('driver', (v) => v.toLowerCase() === r.DriverName.toLowerCase())
        && any('state', (v) => v.toLowerCase() === r.State.toLowerCase())
        && any('label', (v) => r.Labels.includes(v))
    })
    if (ctx.flags.quiet) {
      for (const r of rows) ctx.out.write(`${r.Name}\n`)
      return 0
    }
    await renderTable(ctx, {
      format: ctx.flags.format as string | undefined,
      defaultFormat: 'table {{.Name}}\t{{.Active}}\t{{.DriverName}}\t{{.State}}\t{{.URL}}\t{{.EngineVersion}}\t{{.Error}}',
      headers: { Name: 'NAME', Active: 'ACTIVE', ActiveHost: 'ACTIVE', DriverName: 'DRIVER', State: 'STATE', URL: 'URL', EngineVersion: 'ENGINE', DockerVersion: 'DOCKER', Error: 'ERRORS', ResponseTime: 'RESPONSE' },
      rows,
    })
    return 0
  })
}

function detectShell(): string {
  const sh = basename(process.env.SHELL ?? '')
  return sh || 'bash'
}

export async function env(ctx: CliContext): Promise<number> {
  return guarded(async () => {
    const unset = !!ctx.flags.unset
    if (ctx.args.length !== 1 && !unset) throw new CliExit(1, 'Error: Expected either one machine name, or -u flag to unset the variables in the arguments')
    const shell = (ctx.flags.shell as string | undefined) || detectShell()
    if (!['bash', 'zsh', 'sh', 'fish', 'powershell', 'cmd', 'tcsh', 'emacs'].includes(shell)) throw new CliExit(1, `Error: Unknown shell type: ${shell}`)
    const commandLine = ['berth', ...process.argv.slice(2)].join(' ')
    const hint = (() => {
      switch (shell) {
        case 'fish': return `# Run this command to configure your shell: \n# eval (${commandLine})\n`
        case 'powershell': return `# Run this command to configure your shell: \n# & ${commandLine} | Invoke-Expression\n`
        case 'cmd': return `REM Run this command to configure your shell: \nREM \t@FOR /f "tokens=*" %i IN ('${commandLine}') DO @%i\n`
        default: return `# Run this command to configure your shell: \n# eval $(${commandLine})\n`
      }
    })()
    let vars: Array<[string, string]> = [['DOCKER_TLS_VERIFY', ''], ['DOCKER_HOST', ''], ['DOCKER_CERT_PATH', ''], ['DOCKER_MACHINE_NAME', '']]
    let cfg: MachineConfig | undefined
    if (ctx.args.length === 1) {
      cfg = await loadMachine(ctx.args[0]!)
      const v = await P.engineVersion(cfg, 10_000)
      if (!v.version) throw new CliExit(1, `Error checking TLS connection: ${v.error?.replace(/^Unable to query docker version: /, '') ?? 'the engine did not answer'}`)
      vars = [['DOCKER_TLS_VERIFY', '1'], ['DOCKER_HOST', P.machineUrl(cfg)], ['DOCKER_CERT_PATH', machineDir(cfg.Name)], ['DOCKER_MACHINE_NAME', cfg.Name]]
    }
    if (ctx.flags['no-proxy'] && cfg) {
      let name = 'no_proxy'
      let value = process.env.no_proxy ?? ''
      if (!value) { name = 'NO_PROXY'; value = process.env.NO_PROXY ?? '' }
      const ip = cfg.Driver.IPAddress
      value = !value ? ip : value.split(',').includes(ip) ? value : `${value},${ip}`
      vars.push([name, value])
    }
    let out = ''
    for (const [k, v] of vars) {
      if (unset) {
        switch (shell) {
          case 'fish': out += `set -e ${k};\n`; break
          case 'powershell': out += `Remove-Item Env:\\\\${k}\n`; break
          case 'cmd': out += `SET ${k}=\n`; break
          default: out += `unset ${k}\n`
        }
      } else {
        switch (shell) {
          case 'fish': out += `set -gx ${k} "${v}";\n`; break
          case 'powershell': out += `$Env:${k} = "${v}"\n`; break
          case 'cmd': out += `SET ${k}=${v}\n`; break
          default: out += `export ${k}="${v}"\n`
        }
      }
    }
    ctx.out.write(out + hint)
    return 0
  })
}

export async function inspect(ctx: CliContext): Promise<number> {
  return guarded(async () => {
    const cfg = await loadMachine(ctx.args[0]!)
    const view = { ...cfg, Driver: { ...cfg.Driver, MachineName: cfg.Name, StorePath: machineDir(cfg.Name) }, HostOptions: { AuthOptions: { CertDir: machineDir(cfg.Name), CaCertPath: join(machineDir(cfg.Name), 'ca.pem'), ClientCertPath: join(machineDir(cfg.Name), 'cert.pem'), ClientKeyPath: join(machineDir(cfg.Name), 'key.pem'), ServerCertPath: join(machineDir(cfg.Name), 'server.pem'), ServerKeyPath: join(machineDir(cfg.Name), 'server-key.pem') }, EngineOptions: { Labels: cfg.Engine.Labels, ArbitraryFlags: cfg.Engine.Options } } }
    const format = ctx.flags.format as string | undefined
    ctx.out.write(format ? `${executeTemplate(format, view)}\n` : `${JSON.stringify(view, null, 4)}\n`)
    return 0
  })
}

export async function ip(ctx: CliContext): Promise<number> {
  return guarded(async () => {
    for (const n of ctx.args) ctx.out.write(`${(await loadMachine(n)).Driver.IPAddress}\n`)
    return 0
  })
}

export async function url(ctx: CliContext): Promise<number> {
  return guarded(async () => {
    ctx.out.write(`${P.machineUrl(await loadMachine(ctx.args[0]!))}\n`)
    return 0
  })
}

export async function status(ctx: CliContext): Promise<number> {
  return guarded(async () => {
    const st = await P.machineState(await loadMachine(ctx.args[0]!))
    ctx.out.write(`${st.state}\n`)
    return 0
  })
}

export async function config(ctx: CliContext): Promise<number> {
  return guarded(async () => {
    const cfg = await loadMachine(ctx.args[0]!)
    const dir = machineDir(cfg.Name)
    ctx.out.write(`--tlsverify\n--tlscacert="${join(dir, 'ca.pem')}"\n--tlscert="${join(dir, 'cert.pem')}"\n--tlskey="${join(dir, 'key.pem')}"\n-H=${P.machineUrl(cfg)}\n`)
    return 0
  })
}

async function each(ctx: CliContext, verb: string, done: string, fn: (cfg: MachineConfig) => Promise<void>): Promise<number> {
  return guarded(async () => {
    const errors: string[] = []
    for (const n of ctx.args) {
      try {
        const cfg = await loadMachine(n)
        ctx.out.write(`${verb} "${n}"...\n`)
        await fn(cfg)
        ctx.out.write(`Machine "${n}" was ${done}.\n`)
      } catch (err) {
        if (!(err instanceof EngineError) && !(err instanceof Error)) throw err
        errors.push(`Error ${verb.toLowerCase()} machine "${n}": ${(err as Error).message}`)
      }
    }
    if (errors.length) throw new CliExit(1, errors.join('\n'))
    return 0
  })
}

export const start = (ctx: CliContext) => each(ctx, 'Starting', 'started', P.startEngine)
export const stop = (ctx: CliContext) => each(ctx, 'Stopping', 'stopped', P.stopEngine)
export const restart = (ctx: CliContext) => each(ctx, 'Restarting', 'restarted', P.restartEngine)

export async function regenerateCerts(ctx: CliContext): Promise<number> {
  return guarded(async () => {
    for (const n of ctx.args) {
      const cfg = await loadMachine(n)
      if (!ctx.flags.force && !(await ask(ctx, 'Regenerate TLS machine certs?  Warning: this is irreversible. (y/n): '))) return 0
      ctx.out.write(`Regenerating TLS certificates\nWaiting for SSH to be available...\nDetecting the provisioner...\nCopying certs to the local machine directory...\nCopying certs to the remote machine...\nSetting Berth configuration on the remote daemon...\n`)
      await P.regenerateCerts(cfg, { clientCerts: !!ctx.flags['client-certs'] })
    }
    return 0
  })
}

export async function upgrade(ctx: CliContext): Promise<number> {
  return guarded(async () => {
    for (const n of ctx.args) {
      const cfg = await loadMachine(n)
      ctx.out.write(`Waiting for SSH to be available...\nDetecting the provisioner...\n`)
      await P.upgradeMachine(cfg, (l) => ctx.out.write(`${l}\n`))
    }
    return 0
  })
}

export async function rm(ctx: CliContext): Promise<number> {
  const force = !!ctx.flags.force
  const yes = force || !!ctx.flags.y
  ctx.out.write(`About to remove ${ctx.args.join(', ')}\nWARNING: This action will delete both local reference and remote instance.\n`)
  if (!yes && !(await ask(ctx, 'Are you sure? (y/n): '))) return 0
  const errors: string[] = []
  for (const n of ctx.args) {
    try {
      await P.removeMachine(n, { force })
      ctx.out.write(`Successfully removed ${n}\n`)
    } catch (err) {
      if (!(err instanceof Error)) throw err
      errors.push(`Error removing host "${n}": ${err.message}`)
    }
  }
  if (errors.length) throw new CliExit(1, errors.join('\n'))
  return 0
}

export async function ssh(ctx: CliContext): Promise<number> {
  return guarded(async () => {
    const [name, ...command] = ctx.args as [string, ...string[]]
    const cfg = await loadMachine(name)
    const st = await P.withSsh(cfg, (s) => s.interactive(command.length ? command.join(' ') : undefined))
    return st
  })
}

/** `scp [machine:]src [machine:]dst`, over SFTP (one side remote). */
export async function scp(ctx: CliContext): Promise<number> {
  return guarded(async () => {
    const parse = (arg: string) => {
      const m = /^(?:([^@:/]+)@)?([a-zA-Z0-9][a-zA-Z0-9\-.]*):(.*)$/.exec(arg)
      return m ? { machine: m[2]!, path: m[3]! || '.' } : { path: arg }
    }
    const src = parse(ctx.args[0]!)
    const dst = parse(ctx.args[1]!)
    const recursive = !!ctx.flags.recursive
    if ('machine' in src && 'machine' in dst) throw new CliExit(1, 'berth machine scp copies between this host and one machine; copy through a local path for two machines')
    if (!('machine' in src) && !('machine' in dst)) throw new CliExit(1, 'Error: one of the paths must name a machine (machine:path)')
    const remote = ('machine' in src ? src : dst) as { machine: string; path: string }
    const cfg = await loadMachine(remote.machine)
    const { scpCopy } = await import('../../machine/scp.js')
    await P.withSsh(cfg, async (s) => scpCopy(await s.sftp(), 'machine' in src ? 'download' : 'upload', src.path, dst.path, recursive))
    return 0
  })
}
