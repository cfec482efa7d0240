import type { CommandSpec } from '../commands.js'
import type { FlagSpec } from '../flags.js'

/** Flags of `compose` itself, before the subcommand (compose v2's). */
export const COMPOSE_FLAGS: FlagSpec[] = [
  { name: 'file', short: 'f', type: 'list', help: 'Compose configuration files', valueName: 'stringArray' },
  { name: 'project-name', short: 'p', type: 'string', help: 'Project name', valueName: 'string' },
  { name: 'project-directory', type: 'string', help: 'Specify an alternate working directory (default: the path of the, first specified, Compose file)', valueName: 'string' },
  { name: 'env-file', type: 'list', help: 'Specify an alternate environment file', valueName: 'stringArray' },
  { name: 'profile', type: 'list', help: 'Specify a profile to enable', valueName: 'stringArray' },
  { name: 'progress', type: 'string', help: 'Set type of progress output (auto, tty, plain, json, quiet)', default: 'auto', valueName: 'string' },
  { name: 'ansi', type: 'string', help: 'Control when to print ANSI control characters ("never"|"always"|"auto")', default: 'auto', valueName: 'string' },
  { name: 'dry-run', type: 'bool', help: 'Execute command in dry run mode' },
  { name: 'compatibility', type: 'bool', help: 'Run compose in backward compatibility mode' },
  { name: 'parallel', type: 'int', help: 'Control max parallelism, -1 for unlimited', default: -1 },
  { name: 'all-resources', type: 'bool', help: 'Include all resources, even those not used by services' },
]

const t = (help = 'Specify a shutdown timeout in seconds'): FlagSpec => ({ name: 'timeout', short: 't', type: 'int', help })
const dry: FlagSpec = { name: 'dry-run', type: 'bool', help: 'Execute command in dry run mode' }

export interface ComposeSub { name: string; description: string; usage: string; flags: FlagSpec[]; args?: { min?: number; max?: number; exact?: number } }

/** compose v2's subcommands, their flags and help. */
export const SUBCOMMANDS: ComposeSub[] = [
  {
    name: 'up', description: 'Create and start containers', usage: '[OPTIONS] [SERVICE...]',
    flags: [
      { name: 'detach', short: 'd', type: 'bool', help: 'Detached mode: Run containers in the background' },
      { name: 'build', type: 'bool', help: 'Build images before starting containers' },
      { name: 'no-build', type: 'bool', help: "Don't build an image, even if it's policy" },
      { name: 'pull', type: 'string', help: 'Pull image before running ("always"|"missing"|"never")', default: 'policy', valueName: 'string' },
      { name: 'force-recreate', type: 'bool', help: "Recreate containers even if their configuration and image haven't changed" },
      { name: 'no-recreate', type: 'bool', help: "If containers already exist, don't recreate them. Incompatible with --force-recreate." },
      { name: 'always-recreate-deps', type: 'bool', help: 'Recreate dependent containers. Incompatible with --no-recreate.' },
      { name: 'remove-orphans', type: 'bool', help: 'Remove containers for services not defined in the Compose file' },
      { name: 'scale', type: 'list', help: 'Scale SERVICE to NUM instances. Overrides the `scale` setting in the Compose file if present.', valueName: 'scale' },
      { name: 'wait', type: 'bool', help: 'Wait for services to be running|healthy. Implies detached mode.' },
      { name: 'wait-timeout', type: 'int', help: 'Maximum duration in seconds to wait for the project to be running|healthy' },
      { name: 'no-deps', type: 'bool', help: "Don't start linked services" },
      { name: 'no-start', type: 'bool', help: "Don't start the services after creating them" },
      { name: 'abort-on-container-exit', type: 'bool', help: 'Stops all containers if any container was stopped. Incompatible with -d' },
      { name: 'exit-code-from', type: 'string', help: 'Return the exit code of the selected service container. Implies --abort-on-container-exit', valueName: 'string' },
      { name: 'no-color', type: 'bool', help: 'Produce monochrome output' },
      { name: 'no-log-prefix', type: 'bool', help: "Don't print prefix in logs" },
      { name: 'quiet-pull', type: 'bool', help: 'Pull without printing progress information' },
      { name: 'timestamps', type: 'bool', help: 'Show timestamps' },
      { name: 'attach', type: 'list', help: 'Restrict attaching to the specified services. Incompatible with --attach-dependencies.' },
      { name: 'no-attach', type: 'list', help: 'Do not attach (stream logs) to the specified services' },
      t('Use this timeout in seconds for container shutdown when attached or when containers are already running'), dry,
    ],
  },
  {
    name: 'down', description: 'Stop and remove containers, networks', usage: '[OPTIONS] [SERVICES]',
    flags: [
      { name: 'volumes', short: 'v', type: 'bool', help: 'Remove named volumes declared in the "volumes" section of the Compose file and anonymous volumes attached to containers' },
      { name: 'rmi', type: 'string', help: 'Remove images used by services. "local" remove only images that don\'t have a custom tag ("local"|"all")', valueName: 'string' },
      { name: 'remove-orphans', type: 'bool', help: 'Remove containers for services not defined in the Compose file' },
      t(), dry,
    ],
  },
  {
    name: 'ps', description: 'List containers', usage: '[OPTIONS] [SERVICE...]',
    flags: [
      { name: 'all', short: 'a', type: 'bool', help: 'Show all stopped containers (including those created by the run command)' },
      { name: 'quiet', short: 'q', type: 'bool', help: 'Only display IDs' },
      { name: 'services', type: 'bool', help: 'Display services' },
      { name: 'status', type: 'list', help: 'Filter services by status. Values: [paused | restarting | removing | running | dead | created | exited]' },
      { name: 'filter', type: 'string', help: 'Filter services by a property (supported filters: status)', valueName: 'string' },
      { name: 'format', type: 'string', help: 'Format output using a custom template: table, json, or a Go template', default: 'table', valueName: 'string' },
      { name: 'no-trunc', type: 'bool', help: "Don't truncate output" },
    ],
  },
  {
    name: 'logs', description: 'View output from containers', usage: '[OPTIONS] [SERVICE...]',
    flags: [
      { name: 'follow', short: 'f', type: 'bool', help: 'Follow log output' },
      { name: 'tail', short: 'n', type: 'string', help: 'Number of lines to show from the end of the logs for each container', default: 'all', valueName: 'string' },
      { name: 'timestamps', short: 't', type: 'bool', help: 'Show timestamps' },
      { name: 'since', type: 'string', help: 'Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)', valueName: 'string' },
      { name: 'until', type: 'string', help: 'Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)', valueName: 'string' },
      { name: 'no-color', type: 'bool', help: 'Produce monochrome output' },
      { name: 'no-log-prefix', type: 'bool', help: "Don't print prefix in logs" },
      { name: 'index', type: 'int', help: 'index of the container if service has multiple replicas' },
    ],
  },
  { name: 'build', description: 'Build or rebuild services', usage: '[OPTIONS] [SERVICE...]', flags: [
    { name: 'no-cache', type: 'bool', help: 'Do not use cache when building the image' },
    { name: 'pull', type: 'bool', help: 'Always attempt to pull a newer version of the image' },
    { name: 'quiet', short: 'q', type: 'bool', help: "Don't print anything to STDOUT" },
    { name: 'build-arg', type: 'list', help: 'Set build-time variables for services' }, dry,
  ] },
  { name: 'pull', description: 'Pull service images', usage: '[OPTIONS] [SERVICE...]', flags: [
    { name: 'quiet', short: 'q', type: 'bool', help: 'Pull without printing progress information' },
    { name: 'ignore-pull-failures', type: 'bool', help: 'Pull what it can and ignores images with pull failures' },
    { name: 'ignore-buildable', type: 'bool', help: 'Ignore images that can be built' }, dry,
  ] },
  { name: 'push', description: 'Push service images', usage: '[OPTIONS] [SERVICE...]', flags: [
    { name: 'quiet', short: 'q', type: 'bool', help: 'Push without printing progress information' },
    { name: 'ignore-push-failures', type: 'bool', help: 'Push what it can and ignores images with push failures' }, dry,
  ] },
  { name: 'create', description: 'Creates containers for a service', usage: '[OPTIONS] [SERVICE...]', flags: [
    { name: 'build', type: 'bool', help: 'Build images before starting containers' },
    { name: 'no-build', type: 'bool', help: "Don't build an image, even if it's policy" },
    { name: 'pull', type: 'string', help: 'Pull image before running ("always"|"missing"|"never"|"build")', default: 'policy', valueName: 'string' },
    { name: 'force-recreate', type: 'bool', help: "Recreate containers even if their configuration and image haven't changed" },
    { name: 'no-recreate', type: 'bool', help: "If containers already exist, don't recreate them. Incompatible with --force-recreate." },
    { name: 'remove-orphans', type: 'bool', help: 'Remove containers for services not defined in the Compose file' },
    { name: 'scale', type: 'list', help: 'Scale SERVICE to NUM instances. Overrides the `scale` setting in the Compose file if present.' }, dry,
  ] },
  { name: 'start', description: 'Start services', usage: '[SERVICE...]', flags: [dry] },
  { name: 'stop', description: 'Stop services', usage: '[OPTIONS] [SERVICE...]', flags: [t(), dry] },
  { name: 'restart', description: 'Restart service containers', usage: '[OPTIONS] [SERVICE...]', flags: [t(), { name: 'no-deps', type: 'bool', help: "Don't restart dependent services" }, dry] },
  { name: 'kill', description: 'Force stop service containers', usage: '[OPTIONS] [SERVICE...]', flags: [{ name: 'signal', short: 's', type: 'string', help: 'SIGNAL to send to the container', default: 'SIGKILL', valueName: 'string' }, { name: 'remove-orphans', type: 'bool', help: 'Remove containers for services not defined in the Compose file' }, dry] },
  { name: 'pause', description: 'Pause services', usage: '[SERVICE...]', flags: [dry] },
  { name: 'unpause', description: 'Unpause services', usage: '[SERVICE...]', flags: [dry] },
  { name: 'rm', description: 'Removes stopped service containers', usage: '[OPTIONS] [SERVICE...]', flags: [
    { name: 'force', short: 'f', type: 'bool', help: "Don't ask to confirm removal" },
    { name: 'stop', short: 's', type: 'bool', help: 'Stop the containers, if required, before removing' },
    { name: 'volumes', short: 'v', type: 'bool', help: 'Remove any anonymous volumes attached to containers' }, dry,
  ] },
  {
    name: 'run', description: 'Run a one-off command on a service', usage: '[OPTIONS] SERVICE [COMMAND] [ARGS...]', args: { min: 1 },
    flags: [
      { name: 'rm', type: 'bool', help: 'Automatically remove the container when it exits' },
      { name: 'detach', short: 'd', type: 'bool', help: 'Run container in background and print container ID' },
      { name: 'env', short: 'e', type: 'list', help: 'Set environment variables' },
      { name: 'label', short: 'l', type: 'list', help: 'Add or override a label' },
      { name: 'name', type: 'string', help: 'Assign a name to the container', valueName: 'string' },
      { name: 'entrypoint', type: 'string', help: 'Override the entrypoint of the image', valueName: 'string' },
      { name: 'workdir', short: 'w', type: 'string', help: 'Working directory inside the container', valueName: 'string' },
      { name: 'user', short: 'u', type: 'string', help: 'Run as specified username or uid', valueName: 'string' },
      { name: 'no-TTY', short: 'T', type: 'bool', help: 'Disable pseudo-TTY allocation (default: auto-detected)' },
      { name: 'volume', short: 'v', type: 'list', help: 'Bind mount a volume' },
      { name: 'publish', short: 'p', type: 'list', help: "Publish a container's port(s) to the host" },
      { name: 'service-ports', type: 'bool', help: "Run command with all service's ports enabled and mapped to the host" },
      { name: 'no-deps', type: 'bool', help: "Don't start linked services" },
      { name: 'use-aliases', type: 'bool', help: "Use the service's network useAliases in the network(s) the container connects to" },
      { name: 'interactive', short: 'i', type: 'bool', help: 'Keep STDIN open even if not attached', default: true },
      { name: 'build', type: 'bool', help: 'Build image before starting container' },
      { name: 'quiet-pull', type: 'bool', help: 'Pull without printing progress information' }, dry,
    ],
  },
  {
    name: 'exec', description: 'Execute a command in a running container', usage: '[OPTIONS] SERVICE COMMAND [ARGS...]', args: { min: 2 },
    flags: [
      { name: 'detach', short: 'd', type: 'bool', help: 'Detached mode: Run command in the background' },
      { name: 'env', short: 'e', type: 'list', help: 'Set environment variables' },
      { name: 'workdir', short: 'w', type: 'string', help: 'Path to workdir directory for this command', valueName: 'string' },
      { name: 'user', short: 'u', type: 'string', help: 'Run the command as this user', valueName: 'string' },
      { name: 'no-TTY', short: 'T', type: 'bool', help: 'Disable pseudo-TTY allocation. By default `docker compose exec` allocates a TTY.' },
      { name: 'index', type: 'int', help: 'Index of the container if service has multiple replicas', default: 1 },
      { name: 'privileged', type: 'bool', help: 'Give extended privileges to the process' },
      { name: 'interactive', short: 'i', type: 'bool', help: 'Keep STDIN open even if not attached', default: true }, dry,
    ],
  },
  { name: 'scale', description: 'Scale services', usage: '[SERVICE=REPLICAS...]', args: { min: 1 }, flags: [{ name: 'no-deps', type: 'bool', help: "Don't start linked services" }, dry] },
  { name: 'top', description: 'Display the running processes', usage: '[SERVICES...]', flags: [] },
  { name: 'port', description: 'Print the public port for a port binding', usage: '[OPTIONS] SERVICE PRIVATE_PORT', args: { exact: 2 }, flags: [
    { name: 'protocol', type: 'string', help: 'tcp or udp', default: 'tcp', valueName: 'string' },
    { name: 'index', type: 'int', help: 'Index of the container if service has multiple replicas', default: 1 },
  ] },
  { name: 'images', description: 'List images used by the created containers', usage: '[OPTIONS] [SERVICE...]', flags: [
    { name: 'quiet', short: 'q', type: 'bool', help: 'Only display IDs' },
    { name: 'format', type: 'string', help: 'Format the output. Values: [table | json]', default: 'table', valueName: 'string' },
  ] },
  { name: 'events', description: 'Receive real time events from containers', usage: '[OPTIONS] [SERVICE...]', flags: [{ name: 'json', type: 'bool', help: 'Output events as a stream of json objects' }] },
  { name: 'cp', description: 'Copy files/folders between a service container and the local filesystem', usage: '[OPTIONS] SERVICE:SRC_PATH DEST_PATH|-\n\tdocker compose cp [OPTIONS] SRC_PATH|- SERVICE:DEST_PATH', args: { exact: 2 }, flags: [
    { name: 'index', type: 'int', help: 'Index of the container if service has multiple replicas' },
    { name: 'archive', short: 'a', type: 'bool', help: 'Archive mode (copy all uid/gid information)' },
    { name: 'follow-link', short: 'L', type: 'bool', help: 'Always follow symbol link in SRC_PATH' }, dry,
  ] },
  { name: 'wait', description: 'Block until the first service container stops', usage: 'SERVICE [SERVICE...] [OPTIONS]', args: { min: 1 }, flags: [{ name: 'down-project', type: 'bool', help: 'Drops project when the first container stops' }] },
  { name: 'ls', description: 'List running compose projects', usage: '[OPTIONS]', args: { exact: 0 }, flags: [
    { name: 'all', short: 'a', type: 'bool', help: 'Show all stopped Compose projects' },
    { name: 'quiet', short: 'q', type: 'bool', help: 'Only display IDs' },
    { name: 'format', type: 'string', help: 'Format the output. Values: [table | json]', default: 'table', valueName: 'string' },
    { name: 'filter', type: 'list', help: 'Filter output based on conditions provided' },
  ] },
  { name: 'config', description: 'Parse, resolve and render compose file in canonical format', usage: '[OPTIONS] [SERVICE...]', flags: [
    { name: 'services', type: 'bool', help: 'Print the service names, one per line.' },
    { name: 'volumes', type: 'bool', help: 'Print the volume names, one per line.' },
    { name: 'networks', type: 'bool', help: 'Print the network names, one per line.' },
    { name: 'profiles', type: 'bool', help: 'Print the profile names, one per line.' },
    { name: 'images', type: 'bool', help: 'Print the image names, one per line.' },
    { name: 'hash', type: 'string', help: 'Print the service config hash, one per line.', valueName: 'string' },
    { name: 'no-interpolate', type: 'bool', help: "Don't interpolate environment variables" },
    { name: 'format', type: 'string', help: 'Format the output. Values: [yaml | json]', default: 'yaml', valueName: 'string' },
    { name: 'quiet', short: 'q', type: 'bool', help: 'Only validate the configuration, don\'t print anything' },
    { name: 'output', short: 'o', type: 'string', help: 'Save to file (default to stdout)', valueName: 'string' },
  ] },
  { name: 'version', description: 'Show the Docker Compose version information', usage: '[OPTIONS]', args: { exact: 0 }, flags: [
    { name: 'format', short: 'f', type: 'string', help: 'Format the output. Values: [pretty | json]', valueName: 'string' },
    { name: 'short', type: 'bool', help: "Shows only Compose's version number" },
  ] },
  { name: 'watch', description: 'Watch build context for service and rebuild/refresh containers when files are updated', usage: '[SERVICE...]', flags: [{ name: 'no-up', type: 'bool', help: 'Do not build & start services before watching' }, { name: 'quiet', type: 'bool', help: 'hide build output' }] },
]

/** `berth compose`: registered in commands.ts; the subcommand is parsed by cmd/compose.ts. */
export const COMMAND: CommandSpec = {
  name: 'compose',
  description: 'Docker Compose',
  usage: '[OPTIONS] COMMAND',
  flags: COMPOSE_FLAGS,
  interspersed: false,
  run: () => import('../cmd/compose.js').then((m) => m.compose),
}
