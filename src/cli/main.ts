import { ApiError, ConnectError } from '../client/client.js'
import { COMMANDS, findCommand, GLOBAL_FLAGS, type CommandSpec } from './commands.js'
import { CliExit, configDirOf, makeClient, type CliContext } from './context.js'
import { flagHelp, parseFlags, UsageError } from './flags.js'

const PROG = 'berth'

/** The berth CLI: docker's commands, flags, output and exit codes. */
export async function main(argv: string[]): Promise<number> {
  let global
  try {
    global = parseFlags(argv, GLOBAL_FLAGS, { interspersed: false })
  } catch (err) {
    return usageFailure(err, PROG)
  }
  const g = global.flags
  if (g.version) {
    const { BERTH_VERSION } = await import('../lib/version.js')
    process.stdout.write(`Berth version ${BERTH_VERSION}\n`)
    return 0
  }
  if (g.context) {
    process.stderr.write('contexts are not supported by berth yet; use -H or DOCKER_HOST\n')
    return 1
  }
  const [name, ...rest] = global.args
  if (!name) {
    process.stdout.write(topHelp())
    return global.help ? 0 : 0
  }
  if (name === 'help') {
    if (rest.length === 0) { process.stdout.write(topHelp()); return 0 }
    const found = findCommand(rest)
    if (!found) return unknownCommand(rest[0]!)
    process.stdout.write(commandHelp(found.spec, found.path))
    return 0
  }
  const found = findCommand(global.args)
  if (!found) return unknownCommand(name)
  const { spec, path, rest: cmdArgs } = found
  if (spec.subcommands && !spec.run) {
    // `berth image` alone, or an unknown subcommand.
    if (cmdArgs.length === 0 || cmdArgs[0] === '--help' || cmdArgs[0] === '-h') { process.stdout.write(commandHelp(spec, path)); return 0 }
    process.stderr.write(`${PROG} ${path.join(' ')}: '${cmdArgs[0]}' is not a ${PROG} command.\nSee '${PROG} ${path.join(' ')} --help'\n`)
    return 1
  }
  const display = `${PROG} ${path.join(' ')}`
  let parsed
  try {
    parsed = parseFlags(cmdArgs, spec.flags ?? [], { interspersed: spec.interspersed ?? true })
  } catch (err) {
    return usageFailure(err, display)
  }
  if (parsed.help) {
    process.stdout.write(commandHelp(spec, path))
    return 0
  }
  const argErr = checkArgs(spec, parsed.args.length)
  if (argErr) {
    process.stderr.write(`"${display}" ${argErr}\nSee '${display} --help'.\n\nUsage:  ${usageLine(spec, path)}\n\n${spec.description}\n`)
    return 1
  }
  if (g.debug) process.env.BERTH_DEBUG = '1'
  let client: ReturnType<typeof makeClient> | undefined
  const ctx: CliContext = {
    commandPath: display,
    flags: parsed.flags,
    args: parsed.args,
    global: g,
    client: () => (client ??= makeClient(g)),
    configDir: configDirOf(g),
    out: process.stdout,
    err: process.stderr,
  }
  try {
    const run = await spec.run!()
    const code = await run(ctx)
    return typeof code === 'number' ? code : 0
  } catch (err) {
    return reportError(err)
  }
}

function reportError(err: unknown): number {
  if (err instanceof CliExit) {
    if (err.message) process.stderr.write(`${err.message}\n`)
    return err.status
  }
  if (err instanceof ApiError) {
    process.stderr.write(`Error response from daemon: ${err.message}\n`)
    return 1
  }
  if (err instanceof ConnectError) {
    process.stderr.write(`${err.message}\n`)
    return 1
  }
  if (err instanceof UsageError) {
    process.stderr.write(`${err.message}\n`)
    return err.status
  }
  const e = err as NodeJS.ErrnoException
  if (e?.code === 'EPIPE') return 0
  process.stderr.write(`${e?.message ?? String(err)}\n`)
  if (process.env.BERTH_DEBUG && e?.stack) process.stderr.write(`${e.stack}\n`)
  return 1
}

function usageFailure(err: unknown, display: string): number {
  if (err instanceof UsageError) {
    process.stderr.write(`${err.message}\nSee '${display} --help'.\n`)
    return err.status
  }
  throw err
}

function unknownCommand(name: string): number {
  process.stderr.write(`${PROG}: '${name}' is not a ${PROG} command.\nSee '${PROG} --help'\n`)
  return 1
}

function checkArgs(spec: CommandSpec, n: number): string | undefined {
  const a = spec.args
  if (!a) return undefined
  const plural = (k: number) => (k === 1 ? 'argument' : 'arguments')
  if (a.exact !== undefined && n !== a.exact) return a.exact === 0 ? 'accepts no arguments.' : `requires exactly ${a.exact} ${plural(a.exact)}.`
  if (a.min !== undefined && a.max !== undefined && (n < a.min || n > a.max)) return `requires at least ${a.min} and at most ${a.max} ${plural(a.max)}.`
  if (a.min !== undefined && n < a.min) return `requires at least ${a.min} ${plural(a.min)}.`
  if (a.max !== undefined && n > a.max) return `requires at most ${a.max} ${plural(a.max)}.`
  return undefined
}

function usageLine(spec: CommandSpec, path: string[]): string {
  return `${PROG} ${path.join(' ')}${spec.usage ? ` ${spec.usage}` : ''}`
}

function commandHelp(spec: CommandSpec, path: string[]): string {
  let s = `\nUsage:  ${usageLine(spec, path)}${spec.subcommands ? ' COMMAND' : ''}\n\n${spec.description}\n`
  if (spec.aliases?.length) s += `\nAliases:\n  ${spec.aliases.map((a) => `${PROG} ${a}`).join(', ')}\n`
  if (spec.subcommands) {
    s += '\nCommands:\n'
    const subs = spec.subcommands.filter((c) => !c.hidden)
    const w = Math.max(...subs.map((c) => c.name.length))
    for (const c of subs) s += `  ${c.name.padEnd(w)}   ${c.description}\n`
    s += `\nRun '${PROG} ${path.join(' ')} COMMAND --help' for more information on a command.\n`
  }
  if (spec.flags?.length) s += `\nOptions:\n${flagHelp(spec.flags)}\n`
  return s
}

function topHelp(): string {
  const groups: Array<[string, CommandSpec[]]> = [
    ['Management Commands', COMMANDS.filter((c) => c.subcommands && !c.hidden)],
    ['Commands', COMMANDS.filter((c) => !c.subcommands && !c.hidden)],
  ]
  let s = `\nUsage:  ${PROG} [OPTIONS] COMMAND\n\nA Docker-compatible container engine\n`
  for (const [title, cmds] of groups) {
    const w = Math.max(...cmds.map((c) => c.name.length))
    s += `\n${title}:\n${cmds.map((c) => `  ${c.name.padEnd(w)}  ${c.description}`).join('\n')}\n`
  }
  s += `\nGlobal Options:\n${flagHelp(GLOBAL_FLAGS)}\n\nRun '${PROG} COMMAND --help' for more information on a command.\n`
  return s
}
