import type { CliContext } from './context.js'
import type { FlagSpec } from './flags.js'

export type Runner = (ctx: CliContext) => Promise<number | void>

export interface CommandSpec {
  name: string
  description: string
  usage?: string
  aliases?: string[]
  flags?: FlagSpec[]
  args?: { exact?: number; min?: number; max?: number }
  interspersed?: boolean
  hidden?: boolean
  /** Loaded only when the command runs, so start-up stays fast. */
  run?: () => Promise<Runner>
  subcommands?: CommandSpec[]
}

export const GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'config', type: 'string', help: 'Location of client config files', default: '~/.docker', valueName: 'string' },
  { name: 'context', short: 'c', type: 'string', help: 'Name of the context to use to connect to the daemon (not supported)' },
  { name: 'debug', short: 'D', type: 'bool', help: 'Enable debug mode' },
  { name: 'host', short: 'H', type: 'list', help: 'Daemon socket to connect to' },
  { name: 'log-level', short: 'l', type: 'string', help: 'Set the logging level ("debug", "info", "warn", "error", "fatal")', default: 'info' },
  { name: 'tls', type: 'bool', help: 'Use TLS; implied by --tlsverify' },
  { name: 'tlscacert', type: 'string', help: 'Trust certs signed only by this CA', valueName: 'string' },
  { name: 'tlscert', type: 'string', help: 'Path to TLS certificate file', valueName: 'string' },
  { name: 'tlskey', type: 'string', help: 'Path to TLS key file', valueName: 'string' },
  { name: 'tlsverify', type: 'bool', help: 'Use TLS and verify the remote' },
  { name: 'version', short: 'v', type: 'bool', help: 'Print version information and quit' },
]
// `--config` defaults to ~/.docker only when not given; the literal default is for help text.
GLOBAL_FLAGS[0]!.default = undefined

const format = (help = 'Format output using a custom template:\n\'table\':            Print output in table format with column headers (default)\n\'table TEMPLATE\':   Print output in table format using the given Go template\n\'json\':             Print in JSON format\n\'TEMPLATE\':         Print output using the given Go template'): FlagSpec => ({ name: 'format', type: 'string', help: help.split('\n')[0]!, valueName: 'string' })
const filter: FlagSpec = { name: 'filter', short: 'f', type: 'list', help: "Filter output based on conditions provided", valueName: 'filter' }

const images = () => import('./cmd/images.js')
const system = () => import('./cmd/system.js')

const IMAGES_LS: Omit<CommandSpec, 'name'> = {
  description: 'List images',
  usage: '[OPTIONS] [REPOSITORY[:TAG]]',
  aliases: ['image ls', 'image list', 'images'],
  args: { max: 1 },
  flags: [
    { name: 'all', short: 'a', type: 'bool', help: 'Show all images (default hides intermediate images)' },
    { name: 'digests', type: 'bool', help: 'Show digests' },
    filter,
    format(),
    { name: 'no-trunc', type: 'bool', help: "Don't truncate output" },
    { name: 'quiet', short: 'q', type: 'bool', help: 'Only show image IDs' },
  ],
  run: () => images().then((m) => m.listImages),
}

const IMAGE_INSPECT: Omit<CommandSpec, 'name'> = {
  description: 'Display detailed information on one or more images',
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  args: { min: 1 },
  flags: [{ name: 'format', short: 'f', type: 'string', help: 'Format output using a custom template', valueName: 'string' }],
  run: () => images().then((m) => m.inspectImages),
}

const TAG: Omit<CommandSpec, 'name'> = {
  description: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
  usage: 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
  aliases: ['image tag', 'tag'],
  args: { exact: 2 },
  run: () => images().then((m) => m.tagImage),
}

const RMI: Omit<CommandSpec, 'name'> = {
  description: 'Remove one or more images',
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  aliases: ['image rm', 'image remove', 'rmi'],
  args: { min: 1 },
  flags: [
    { name: 'force', short: 'f', type: 'bool', help: 'Force removal of the image' },
    { name: 'no-prune', type: 'bool', help: 'Do not delete untagged parents' },
  ],
  run: () => images().then((m) => m.removeImages),
}

const HISTORY: Omit<CommandSpec, 'name'> = {
  description: 'Show the history of an image',
  usage: '[OPTIONS] IMAGE',
  aliases: ['image history', 'history'],
  args: { exact: 1 },
  flags: [
    format(),
    { name: 'human', short: 'H', type: 'bool', help: 'Print sizes and dates in human readable format', default: true },
    { name: 'no-trunc', type: 'bool', help: "Don't truncate output" },
    { name: 'quiet', short: 'q', type: 'bool', help: 'Only show image IDs' },
  ],
  run: () => images().then((m) => m.imageHistory),
}

const SAVE: Omit<CommandSpec, 'name'> = {
  description: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  aliases: ['image save', 'save'],
  args: { min: 1 },
  flags: [{ name: 'output', short: 'o', type: 'string', help: 'Write to a file, instead of STDOUT', valueName: 'string' }],
  run: () => images().then((m) => m.saveImages),
}

const LOAD: Omit<CommandSpec, 'name'> = {
  description: 'Load an image from a tar archive or STDIN',
  usage: '[OPTIONS]',
  aliases: ['image load', 'load'],
  args: { exact: 0 },
  flags: [
    { name: 'input', short: 'i', type: 'string', help: 'Read from tar archive file, instead of STDIN', valueName: 'string' },
    { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress the load output' },
  ],
  run: () => images().then((m) => m.loadImages),
}

const IMPORT: Omit<CommandSpec, 'name'> = {
  description: 'Import the contents from a tarball to create a filesystem image',
  usage: '[OPTIONS] file|URL|- [REPOSITORY[:TAG]]',
  aliases: ['image import', 'import'],
  args: { min: 1, max: 2 },
  flags: [
    { name: 'change', short: 'c', type: 'list', help: 'Apply Dockerfile instruction to the created image' },
    { name: 'message', short: 'm', type: 'string', help: 'Set commit message for imported image', valueName: 'string' },
    { name: 'platform', type: 'string', help: 'Set platform if server is multi-platform capable', valueName: 'string' },
  ],
  run: () => images().then((m) => m.importImage),
}

const IMAGE_PRUNE: Omit<CommandSpec, 'name'> = {
  description: 'Remove unused images',
  usage: '[OPTIONS]',
  args: { exact: 0 },
  flags: [
    { name: 'all', short: 'a', type: 'bool', help: 'Remove all unused images, not just dangling ones' },
    { name: 'filter', type: 'list', help: 'Provide filter values (e.g. "until=<timestamp>")', valueName: 'filter' },
    { name: 'force', short: 'f', type: 'bool', help: 'Do not prompt for confirmation' },
  ],
  run: () => images().then((m) => m.pruneImages),
}

const VERSION: Omit<CommandSpec, 'name'> = {
  description: 'Show the Berth version information',
  usage: '[OPTIONS]',
  args: { exact: 0 },
  flags: [{ name: 'format', short: 'f', type: 'string', help: 'Format output using a custom template', valueName: 'string' }],
  run: () => import('./cmd/version.js').then((m) => m.version),
}

const INFO: Omit<CommandSpec, 'name'> = {
  description: 'Display system-wide information',
  usage: '[OPTIONS]',
  aliases: ['system info', 'info'],
  args: { exact: 0 },
  flags: [{ name: 'format', short: 'f', type: 'string', help: 'Format output using a custom template', valueName: 'string' }],
  run: () => system().then((m) => m.info),
}

const EVENTS: Omit<CommandSpec, 'name'> = {
  description: 'Get real time events from the server',
  usage: '[OPTIONS]',
  aliases: ['system events', 'events'],
  args: { exact: 0 },
  flags: [
    { name: 'filter', short: 'f', type: 'list', help: 'Filter output based on conditions provided', valueName: 'filter' },
    format(),
    { name: 'since', type: 'string', help: 'Show all events created since timestamp', valueName: 'string' },
    { name: 'until', type: 'string', help: 'Stream events until this timestamp', valueName: 'string' },
  ],
  run: () => system().then((m) => m.events),
}

const DF: Omit<CommandSpec, 'name'> = {
  description: 'Show docker disk usage',
  usage: '[OPTIONS]',
  args: { exact: 0 },
  flags: [format(), { name: 'verbose', short: 'v', type: 'bool', help: 'Show detailed information on space usage' }],
  run: () => system().then((m) => m.diskUsage),
}

const INSPECT: Omit<CommandSpec, 'name'> = {
  description: 'Return low-level information on Berth objects',
  usage: '[OPTIONS] NAME|ID [NAME|ID...]',
  args: { min: 1 },
  flags: [
    { name: 'format', short: 'f', type: 'string', help: 'Format output using a custom template', valueName: 'string' },
    { name: 'size', short: 's', type: 'bool', help: 'Display total file sizes if the type is container' },
    { name: 'type', type: 'string', help: 'Return JSON for specified type', valueName: 'string' },
  ],
  run: () => images().then((m) => m.inspectAny),
}

export const COMMANDS: CommandSpec[] = [
  {
    name: 'image',
    description: 'Manage images',
    subcommands: [
      { name: 'history', ...HISTORY },
      { name: 'import', ...IMPORT },
      { name: 'inspect', ...IMAGE_INSPECT },
      { name: 'load', ...LOAD },
      { name: 'ls', ...IMAGES_LS },
      { name: 'list', ...IMAGES_LS, hidden: true },
      { name: 'prune', ...IMAGE_PRUNE },
      { name: 'rm', ...RMI },
      { name: 'remove', ...RMI, hidden: true },
      { name: 'save', ...SAVE },
      { name: 'tag', ...TAG },
    ],
  },
  {
    name: 'system',
    description: 'Manage Berth',
    subcommands: [
      { name: 'df', ...DF },
      { name: 'events', ...EVENTS },
      { name: 'info', ...INFO },
    ],
  },
  { name: 'events', ...EVENTS },
  { name: 'history', ...HISTORY },
  { name: 'images', ...IMAGES_LS },
  { name: 'import', ...IMPORT },
  { name: 'info', ...INFO },
  { name: 'inspect', ...INSPECT },
  { name: 'load', ...LOAD },
  { name: 'rmi', ...RMI },
  { name: 'save', ...SAVE },
  { name: 'tag', ...TAG },
  { name: 'version', ...VERSION },
]

/** Find the command named by the leading words of argv. */
export function findCommand(argv: string[]): { spec: CommandSpec; path: string[]; rest: string[] } | undefined {
  const top = COMMANDS.find((c) => c.name === argv[0])
  if (!top) return undefined
  if (top.subcommands) {
    const sub = top.subcommands.find((c) => c.name === argv[1])
    if (sub) return { spec: sub, path: [top.name, sub.name], rest: argv.slice(2) }
  }
  return { spec: top, path: [top.name], rest: argv.slice(1) }
}
