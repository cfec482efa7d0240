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
  { name: 'context', short: 'c', type: 'string', help: 'Name of the context to use to connect to the daemon (overrides DOCKER_HOST env var and default context set with "docker context use")', valueName: 'string' },
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
const containers = () => import('./cmd/containers.js')
import * as registrySpecs from './specs/registry.js'
import * as buildSpecs from './specs/build.js'
import * as networkSpecs from './specs/network.js'
import * as volumeSpecs from './specs/volume.js'
import * as contextSpecs from './specs/context.js'
import * as machineSpecs from './specs/machine.js'
import * as registryServerSpecs from './specs/registry-server.js'
const statsCmd = () => import('./cmd/stats.js')
const archive = () => import('./cmd/archive.js')
const execCmd = () => import('./cmd/exec.js')

const RUN_FLAGS: FlagSpec[] = [
  { name: 'add-host', type: 'list', help: 'Add a custom host-to-IP mapping (host:ip)' },
  { name: 'attach', short: 'a', type: 'list', help: 'Attach to STDIN, STDOUT or STDERR' },
  { name: 'cap-add', type: 'list', help: 'Add Linux capabilities' },
  { name: 'cap-drop', type: 'list', help: 'Drop Linux capabilities' },
  { name: 'cpu-shares', short: 'c', type: 'int', help: 'CPU shares (relative weight)' },
  { name: 'cpus', type: 'string', help: 'Number of CPUs', valueName: 'decimal' },
  { name: 'cpuset-cpus', type: 'string', help: 'CPUs in which to allow execution (0-3, 0,1)', valueName: 'string' },
  { name: 'device', type: 'list', help: 'Add a host device to the container' },
  { name: 'dns', type: 'list', help: 'Set custom DNS servers' },
  { name: 'dns-option', type: 'list', help: 'Set DNS options' },
  { name: 'dns-search', type: 'list', help: 'Set custom DNS search domains' },
  { name: 'domainname', type: 'string', help: 'Container NIS domain name', valueName: 'string' },
  { name: 'entrypoint', type: 'string', help: 'Overwrite the default ENTRYPOINT of the image', valueName: 'string' },
  { name: 'env', short: 'e', type: 'list', help: 'Set environment variables' },
  { name: 'env-file', type: 'list', help: 'Read in a file of environment variables' },
  { name: 'expose', type: 'list', help: 'Expose a port or a range of ports' },
  { name: 'health-cmd', type: 'string', help: 'Command to run to check health', valueName: 'string' },
  { name: 'health-interval', type: 'string', help: 'Time between running the check (ms|s|m|h) (default 0s)', valueName: 'duration' },
  { name: 'health-retries', type: 'int', help: 'Consecutive failures needed to report unhealthy' },
  { name: 'health-start-interval', type: 'string', help: 'Time between running the check during the start period (ms|s|m|h) (default 0s)', valueName: 'duration' },
  { name: 'health-start-period', type: 'string', help: 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)', valueName: 'duration' },
  { name: 'health-timeout', type: 'string', help: 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)', valueName: 'duration' },
  { name: 'hostname', short: 'h', type: 'string', help: 'Container host name', valueName: 'string' },
  { name: 'init', type: 'bool', help: 'Run an init inside the container that forwards signals and reaps processes' },
  { name: 'interactive', short: 'i', type: 'bool', help: 'Keep STDIN open even if not attached' },
  { name: 'label', short: 'l', type: 'list', help: 'Set meta data on a container' },
  { name: 'link', type: 'list', help: 'Add link to another container' },
  { name: 'ip', type: 'string', help: 'IPv4 address (e.g., 172.30.100.104)', valueName: 'ip' },
  { name: 'ip6', type: 'string', help: 'IPv6 address (e.g., 2001:db8::33)', valueName: 'ip' },
  { name: 'mac-address', type: 'string', help: 'Container MAC address (e.g., 92:d0:c6:0a:29:33)', valueName: 'string' },
  { name: 'network-alias', type: 'list', help: 'Add network-scoped alias for the container' },
  { name: 'log-driver', type: 'string', help: 'Logging driver for the container', valueName: 'string' },
  { name: 'log-opt', type: 'list', help: 'Log driver options' },
  { name: 'memory', short: 'm', type: 'string', help: 'Memory limit', valueName: 'bytes' },
  { name: 'memory-reservation', type: 'string', help: 'Memory soft limit', valueName: 'bytes' },
  { name: 'memory-swap', type: 'string', help: "Swap limit equal to memory plus swap: '-1' to enable unlimited swap", valueName: 'bytes' },
  { name: 'mount', type: 'list', help: 'Attach a filesystem mount to the container', valueName: 'mount' },
  { name: 'name', type: 'string', help: 'Assign a name to the container', valueName: 'string' },
  { name: 'network', type: 'string', help: 'Connect a container to a network', valueName: 'network' },
  { name: 'net', type: 'string', help: 'Connect a container to a network', valueName: 'network', hidden: true },
  { name: 'no-healthcheck', type: 'bool', help: 'Disable any container-specified HEALTHCHECK' },
  { name: 'oom-kill-disable', type: 'bool', help: 'Disable OOM Killer' },
  { name: 'pids-limit', type: 'int', help: 'Tune container pids limit (set -1 for unlimited)' },
  { name: 'pid', type: 'string', help: 'PID namespace to use', valueName: 'string' },
  { name: 'uts', type: 'string', help: 'UTS namespace to use', valueName: 'string' },
  { name: 'cgroupns', type: 'string', help: "Cgroup namespace to use (host|private)", valueName: 'string' },
  { name: 'isolation', type: 'string', help: 'Container isolation technology', valueName: 'string' },
  { name: 'group-add', type: 'list', help: 'Add additional groups to join' },
  { name: 'device-cgroup-rule', type: 'list', help: 'Add a rule to the cgroup allowed devices list' },
  { name: 'memory-swappiness', type: 'int', help: 'Tune container memory swappiness (0 to 100)' },
  { name: 'cpu-rt-period', type: 'int', help: 'Limit CPU real-time period in microseconds' },
  { name: 'cpu-rt-runtime', type: 'int', help: 'Limit CPU real-time runtime in microseconds' },
  { name: 'platform', type: 'string', help: 'Set platform if server is multi-platform capable', valueName: 'string' },
  { name: 'privileged', type: 'bool', help: 'Give extended privileges to this container' },
  { name: 'publish', short: 'p', type: 'list', help: "Publish a container's port(s) to the host" },
  { name: 'publish-all', short: 'P', type: 'bool', help: 'Publish all exposed ports to random ports' },
  { name: 'pull', type: 'string', help: 'Pull image before running ("always", "missing", "never")', default: 'missing', valueName: 'string' },
  { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress the pull output' },
  { name: 'read-only', type: 'bool', help: "Mount the container's root filesystem as read only" },
  { name: 'restart', type: 'string', help: 'Restart policy to apply when a container exits', default: 'no', valueName: 'string' },
  { name: 'rm', type: 'bool', help: 'Automatically remove the container and its associated anonymous volumes when it exits' },
  { name: 'runtime', type: 'string', help: 'Runtime to use for this container', valueName: 'string' },
  { name: 'security-opt', type: 'list', help: 'Security Options' },
  { name: 'shm-size', type: 'string', help: 'Size of /dev/shm', valueName: 'bytes' },
  { name: 'stop-signal', type: 'string', help: 'Signal to stop the container', valueName: 'string' },
  { name: 'stop-timeout', type: 'int', help: 'Timeout (in seconds) to stop a container' },
  { name: 'sysctl', type: 'list', help: 'Sysctl options', valueName: 'map' },
  { name: 'tmpfs', type: 'list', help: 'Mount a tmpfs directory' },
  { name: 'tty', short: 't', type: 'bool', help: 'Allocate a pseudo-TTY' },
  { name: 'ulimit', type: 'list', help: 'Ulimit options', valueName: 'ulimit' },
  { name: 'user', short: 'u', type: 'string', help: 'Username or UID (format: <name|uid>[:<group|gid>])', valueName: 'string' },
  { name: 'volume', short: 'v', type: 'list', help: 'Bind mount a volume' },
  { name: 'volumes-from', type: 'list', help: 'Mount volumes from the specified container(s)' },
  { name: 'workdir', short: 'w', type: 'string', help: 'Working directory inside the container', valueName: 'string' },
]

const RUN: Omit<CommandSpec, 'name'> = {
  description: 'Create and run a new container from an image',
  usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  aliases: ['container run', 'run'],
  args: { min: 1 },
  interspersed: false,
  flags: [...RUN_FLAGS,
    { name: 'detach', short: 'd', type: 'bool', help: 'Run container in background and print container ID' },
    { name: 'detach-keys', type: 'string', help: 'Override the key sequence for detaching a container', valueName: 'string' },
    { name: 'sig-proxy', type: 'bool', help: 'Proxy received signals to the process', default: true },
  ],
  run: () => containers().then((m) => m.run),
}

const CREATE: Omit<CommandSpec, 'name'> = {
  description: 'Create a new container',
  usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  aliases: ['container create', 'create'],
  args: { min: 1 },
  interspersed: false,
  flags: RUN_FLAGS,
  run: () => containers().then((m) => m.create),
}

const timeFlags: FlagSpec[] = [
  { name: 'signal', short: 's', type: 'string', help: 'Signal to send to the container', valueName: 'string' },
  { name: 'time', short: 't', type: 'int', help: 'Seconds to wait before killing the container' },
]
const simple = (description: string, usage: string, fn: 'stop' | 'restart' | 'kill' | 'remove' | 'pause' | 'unpause' | 'wait', aliases: string[], flags: FlagSpec[] = []): Omit<CommandSpec, 'name'> => ({
  description, usage, aliases, args: { min: 1 }, flags, run: () => containers().then((m) => m[fn]),
})
const STOP = simple('Stop one or more running containers', '[OPTIONS] CONTAINER [CONTAINER...]', 'stop', ['container stop', 'stop'], timeFlags)
const RESTART = simple('Restart one or more containers', '[OPTIONS] CONTAINER [CONTAINER...]', 'restart', ['container restart', 'restart'], timeFlags)
const KILL = simple('Kill one or more running containers', '[OPTIONS] CONTAINER [CONTAINER...]', 'kill', ['container kill', 'kill'], [{ name: 'signal', short: 's', type: 'string', help: 'Signal to send to the container', valueName: 'string' }])
const RM = simple('Remove one or more containers', '[OPTIONS] CONTAINER [CONTAINER...]', 'remove', ['container rm', 'container remove', 'rm'], [
  { name: 'force', short: 'f', type: 'bool', help: 'Force the removal of a running container (uses SIGKILL)' },
  { name: 'link', short: 'l', type: 'bool', help: 'Remove the specified link' },
  { name: 'volumes', short: 'v', type: 'bool', help: 'Remove anonymous volumes associated with the container' },
])
const PAUSE = simple('Pause all processes within one or more containers', 'CONTAINER [CONTAINER...]', 'pause', ['container pause', 'pause'])
const UNPAUSE = simple('Unpause all processes within one or more containers', 'CONTAINER [CONTAINER...]', 'unpause', ['container unpause', 'unpause'])
const WAIT = simple('Block until one or more containers stop, then print their exit codes', 'CONTAINER [CONTAINER...]', 'wait', ['container wait', 'wait'])

const START: Omit<CommandSpec, 'name'> = {
  description: 'Start one or more stopped containers',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  aliases: ['container start', 'start'],
  args: { min: 1 },
  flags: [
    { name: 'attach', short: 'a', type: 'bool', help: 'Attach STDOUT/STDERR and forward signals' },
    { name: 'detach-keys', type: 'string', help: 'Override the key sequence for detaching a container', valueName: 'string' },
    { name: 'interactive', short: 'i', type: 'bool', help: "Attach container's STDIN" },
  ],
  run: () => containers().then((m) => m.start),
}

const PS: Omit<CommandSpec, 'name'> = {
  description: 'List containers',
  usage: '[OPTIONS]',
  aliases: ['container ls', 'container list', 'container ps', 'ps'],
  args: { exact: 0 },
  flags: [
    { name: 'all', short: 'a', type: 'bool', help: 'Show all containers (default shows just running)' },
    filter,
    format(),
    { name: 'last', short: 'n', type: 'int', help: 'Show n last created containers (includes all states)', default: -1 },
    { name: 'latest', short: 'l', type: 'bool', help: 'Show the latest created container (includes all states)' },
    { name: 'no-trunc', type: 'bool', help: "Don't truncate output" },
    { name: 'quiet', short: 'q', type: 'bool', help: 'Only display container IDs' },
    { name: 'size', short: 's', type: 'bool', help: 'Display total file sizes' },
  ],
  run: () => containers().then((m) => m.ps),
}

const LOGS: Omit<CommandSpec, 'name'> = {
  description: 'Fetch the logs of a container',
  usage: '[OPTIONS] CONTAINER',
  aliases: ['container logs', 'logs'],
  args: { exact: 1 },
  flags: [
    { name: 'details', type: 'bool', help: 'Show extra details provided to logs' },
    { name: 'follow', short: 'f', type: 'bool', help: 'Follow log output' },
    { name: 'since', type: 'string', help: 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)', valueName: 'string' },
    { name: 'tail', short: 'n', type: 'string', help: 'Number of lines to show from the end of the logs', default: 'all', valueName: 'string' },
    { name: 'timestamps', short: 't', type: 'bool', help: 'Show timestamps' },
    { name: 'until', type: 'string', help: 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)', valueName: 'string' },
  ],
  run: () => containers().then((m) => m.logs),
}

const RENAME: Omit<CommandSpec, 'name'> = {
  description: 'Rename a container', usage: 'CONTAINER NEW_NAME', aliases: ['container rename', 'rename'], args: { exact: 2 },
  run: () => containers().then((m) => m.rename),
}

const ATTACH: Omit<CommandSpec, 'name'> = {
  description: 'Attach local standard input, output, and error streams to a running container',
  usage: '[OPTIONS] CONTAINER', aliases: ['container attach', 'attach'], args: { exact: 1 },
  flags: [
    { name: 'detach-keys', type: 'string', help: 'Override the key sequence for detaching a container', valueName: 'string' },
    { name: 'no-stdin', type: 'bool', help: 'Do not attach STDIN' },
    { name: 'sig-proxy', type: 'bool', help: 'Proxy all received signals to the process', default: true },
  ],
  run: () => containers().then((m) => m.attach),
}

const TOP: Omit<CommandSpec, 'name'> = {
  description: 'Display the running processes of a container', usage: 'CONTAINER [ps OPTIONS]', aliases: ['container top', 'top'],
  args: { min: 1 }, interspersed: false, run: () => containers().then((m) => m.topCmd),
}

const EXEC: Omit<CommandSpec, 'name'> = {
  description: 'Execute a command in a running container', usage: '[OPTIONS] CONTAINER COMMAND [ARG...]', aliases: ['container exec', 'exec'],
  args: { min: 2 }, interspersed: false,
  flags: [
    { name: 'detach', short: 'd', type: 'bool', help: 'Detached mode: run command in the background' },
    { name: 'detach-keys', type: 'string', help: 'Override the key sequence for detaching a container', valueName: 'string' },
    { name: 'env', short: 'e', type: 'list', help: 'Set environment variables' },
    { name: 'env-file', type: 'list', help: 'Read in a file of environment variables' },
    { name: 'interactive', short: 'i', type: 'bool', help: 'Keep STDIN open even if not attached' },
    { name: 'privileged', type: 'bool', help: 'Give extended privileges to the command' },
    { name: 'tty', short: 't', type: 'bool', help: 'Allocate a pseudo-TTY' },
    { name: 'user', short: 'u', type: 'string', help: 'Username or UID (format: "<name|uid>[:<group|gid>]")', valueName: 'string' },
    { name: 'workdir', short: 'w', type: 'string', help: 'Working directory inside the container', valueName: 'string' },
  ],
  run: () => execCmd().then((m) => m.exec),
}

const UPDATE: Omit<CommandSpec, 'name'> = {
  description: 'Update configuration of one or more containers', usage: '[OPTIONS] CONTAINER [CONTAINER...]', aliases: ['container update', 'update'],
  args: { min: 1 },
  flags: [
    { name: 'blkio-weight', type: 'int', help: 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)', valueName: 'uint16' },
    { name: 'cpu-period', type: 'int', help: 'Limit CPU CFS (Completely Fair Scheduler) period' },
    { name: 'cpu-quota', type: 'int', help: 'Limit CPU CFS (Completely Fair Scheduler) quota' },
    { name: 'cpu-rt-period', type: 'int', help: 'Limit the CPU real-time period in microseconds' },
    { name: 'cpu-rt-runtime', type: 'int', help: 'Limit the CPU real-time runtime in microseconds' },
    { name: 'cpu-shares', short: 'c', type: 'int', help: 'CPU shares (relative weight)' },
    { name: 'cpus', type: 'string', help: 'Number of CPUs', valueName: 'decimal' },
    { name: 'cpuset-cpus', type: 'string', help: 'CPUs in which to allow execution (0-3, 0,1)', valueName: 'string' },
    { name: 'cpuset-mems', type: 'string', help: 'MEMs in which to allow execution (0-3, 0,1)', valueName: 'string' },
    { name: 'memory', short: 'm', type: 'string', help: 'Memory limit', valueName: 'bytes' },
    { name: 'memory-reservation', type: 'string', help: 'Memory soft limit', valueName: 'bytes' },
    { name: 'memory-swap', type: 'string', help: "Swap limit equal to memory plus swap: -1 to enable unlimited swap", valueName: 'bytes' },
    { name: 'pids-limit', type: 'int', help: 'Tune container pids limit (set -1 for unlimited)' },
    { name: 'restart', type: 'string', help: 'Restart policy to apply when a container exits', valueName: 'string' },
  ],
  run: () => execCmd().then((m) => m.update),
}

const STATS: Omit<CommandSpec, 'name'> = {
  description: 'Display a live stream of container(s) resource usage statistics', usage: '[OPTIONS] [CONTAINER...]', aliases: ['container stats', 'stats'],
  flags: [
    { name: 'all', short: 'a', type: 'bool', help: 'Show all containers (default shows just running)' },
    format(),
    { name: 'no-stream', type: 'bool', help: 'Disable streaming stats and only pull the first result' },
    { name: 'no-trunc', type: 'bool', help: "Don't truncate output" },
  ],
  run: () => statsCmd().then((m) => m.stats),
}

const CP: Omit<CommandSpec, 'name'> = {
  description: 'Copy files/folders between a container and the local filesystem',
  usage: '[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH', aliases: ['container cp', 'cp'],
  args: { exact: 2 },
  flags: [
    { name: 'archive', short: 'a', type: 'bool', help: 'Archive mode (copy all uid/gid information)' },
    { name: 'follow-link', short: 'L', type: 'bool', help: 'Always follow symbol link in SRC_PATH' },
    { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached' },
  ],
  run: () => archive().then((m) => m.cp),
}

const DIFF: Omit<CommandSpec, 'name'> = {
  description: "Inspect changes to files or directories on a container's filesystem", usage: 'CONTAINER', aliases: ['container diff', 'diff'],
  args: { exact: 1 },
  run: () => archive().then((m) => m.diff),
}

const EXPORT: Omit<CommandSpec, 'name'> = {
  description: "Export a container's filesystem as a tar archive", usage: '[OPTIONS] CONTAINER', aliases: ['container export', 'export'],
  args: { exact: 1 },
  flags: [{ name: 'output', short: 'o', type: 'string', help: 'Write to a file, instead of STDOUT', valueName: 'string' }],
  run: () => archive().then((m) => m.exportCmd),
}

const COMMIT: Omit<CommandSpec, 'name'> = {
  description: "Create a new image from a container's changes", usage: '[OPTIONS] CONTAINER [REPOSITORY[:TAG]]', aliases: ['container commit', 'commit'],
  args: { min: 1, max: 2 },
  flags: [
    { name: 'author', short: 'a', type: 'string', help: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")', valueName: 'string' },
    { name: 'change', short: 'c', type: 'list', help: 'Apply Dockerfile instruction to the created image' },
    { name: 'message', short: 'm', type: 'string', help: 'Commit message', valueName: 'string' },
    { name: 'pause', short: 'p', type: 'bool', help: 'Pause container during commit', default: true },
  ],
  run: () => archive().then((m) => m.commit),
}

const CONTAINER_PRUNE: Omit<CommandSpec, 'name'> = {
  description: 'Remove all stopped containers', usage: '[OPTIONS]', args: { exact: 0 },
  flags: [
    { name: 'filter', type: 'list', help: 'Provide filter values (e.g. "until=<timestamp>")', valueName: 'filter' },
    { name: 'force', short: 'f', type: 'bool', help: 'Do not prompt for confirmation' },
  ],
  run: () => containers().then((m) => m.pruneContainers),
}

const CONTAINER_INSPECT: Omit<CommandSpec, 'name'> = {
  description: 'Display detailed information on one or more containers', usage: '[OPTIONS] CONTAINER [CONTAINER...]', args: { min: 1 },
  flags: [
    { name: 'format', short: 'f', type: 'string', help: 'Format output using a custom template', valueName: 'string' },
    { name: 'size', short: 's', type: 'bool', help: 'Display total file sizes' },
  ],
  run: () => containers().then((m) => m.inspectContainers),
}

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

/** `berth container ...`; most of them are also top-level commands, as in docker. */
const CONTAINER_SUBCOMMANDS: CommandSpec[] = [
  { name: 'attach', ...ATTACH },
  { name: 'commit', ...COMMIT },
  { name: 'cp', ...CP },
  { name: 'create', ...CREATE },
  { name: 'diff', ...DIFF },
  { name: 'exec', ...EXEC },
  { name: 'export', ...EXPORT },
  { name: 'inspect', ...CONTAINER_INSPECT },
  { name: 'kill', ...KILL },
  { name: 'logs', ...LOGS },
  { name: 'ls', ...PS },
  { name: 'list', ...PS, hidden: true },
  { name: 'ps', ...PS, hidden: true },
  { name: 'pause', ...PAUSE },
  { name: 'prune', ...CONTAINER_PRUNE },
  { name: 'rename', ...RENAME },
  { name: 'restart', ...RESTART },
  { name: 'rm', ...RM },
  { name: 'remove', ...RM, hidden: true },
  { name: 'run', ...RUN },
  { name: 'start', ...START },
  { name: 'stats', ...STATS },
  { name: 'stop', ...STOP },
  { name: 'top', ...TOP },
  { name: 'unpause', ...UNPAUSE },
  { name: 'update', ...UPDATE },
  { name: 'wait', ...WAIT },
]

/** The container commands docker also has at the top level (`berth run`...), in help order. */
const TOP_LEVEL_CONTAINER = ['attach', 'commit', 'cp', 'create', 'diff', 'events', 'exec', 'export', 'kill', 'logs', 'pause', 'ps', 'rename', 'restart', 'rm', 'run', 'start', 'stats', 'stop', 'top', 'unpause', 'update', 'wait']

export const COMMANDS: CommandSpec[] = [
  {
    name: 'container',
    description: 'Manage containers',
    subcommands: CONTAINER_SUBCOMMANDS,
  },
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
  // `events` is a system command; the others come from the container group (ps not hidden there).
  ...TOP_LEVEL_CONTAINER.map((name): CommandSpec => (name === 'events' ? { name, ...EVENTS } : { ...CONTAINER_SUBCOMMANDS.find((c) => c.name === name)!, hidden: false })),
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

// Command families that live in their own spec files: their groups (`network`, `volume`...),
// then their top-level commands (`pull`, `build`...), unless the table already has the name.
for (const family of [registrySpecs, buildSpecs, networkSpecs, volumeSpecs, contextSpecs, machineSpecs]) {
  for (const spec of [...(family.GROUP ? [family.GROUP] : []), ...family.TOP_LEVEL]) {
    const existing = COMMANDS.find((c) => c.name === spec.name)
    if (!existing) COMMANDS.push(spec)
    else if (existing.subcommands && spec.subcommands) existing.subcommands.push(...spec.subcommands.filter((s) => !existing.subcommands!.some((e) => e.name === s.name)))
  }
}

// `berth swarm|node|service|secret|config|stack ...` (specs/swarm.ts).
import * as swarmSpecs from './specs/swarm.js'
COMMANDS.push(...swarmSpecs.GROUPS)

// `berth registry ...`: the registry server (src/registry/), a process of its own.
COMMANDS.push(registryServerSpecs.GROUP)

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

// `berth compose` (and the docker CLI's compose plugin): its subcommands parse in cmd/compose.ts.
import * as composeSpecs from './specs/compose.js'
COMMANDS.push(composeSpecs.COMMAND)
