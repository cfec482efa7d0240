import type { CommandSpec } from '../commands.js'

const machine = () => import('../cmd/machine.js')
const fmt = { name: 'format', short: 'f', type: 'string' as const, help: 'Format the output using the given Go template', valueName: 'string' }

/** `berth machine ...`: docker-machine's commands with the generic driver. */
export const GROUP: CommandSpec | undefined = {
  name: 'machine',
  description: 'Provision and manage remote engine hosts',
  subcommands: [
    {
      name: 'config', description: 'Print the connection config for machine', usage: 'MACHINE', args: { exact: 1 },
      run: () => machine().then((m) => m.config),
    },
    {
      name: 'create', description: 'Create a machine', usage: '[OPTIONS] MACHINE', args: { exact: 1 },
      flags: [
        { name: 'driver', short: 'd', type: 'string', help: 'Driver to create machine with.', default: 'generic', valueName: 'string' },
        { name: 'engine-label', type: 'list', help: 'Specify labels for the created engine' },
        { name: 'engine-opt', type: 'list', help: 'Specify arbitrary flags to include with the created engine in the form flag=value' },
        { name: 'engine-port', type: 'int', help: 'Port the engine listens on with TLS', default: 2376 },
        { name: 'generic-ip-address', type: 'string', help: 'IP Address of machine', valueName: 'string' },
        { name: 'generic-ssh-key', type: 'string', help: 'SSH private key path (if not provided, default SSH key will be used)', valueName: 'string' },
        { name: 'generic-ssh-port', type: 'int', help: 'SSH port', default: 22 },
        { name: 'generic-ssh-user', type: 'string', help: 'SSH user', default: 'root', valueName: 'string' },
      ],
      run: () => machine().then((m) => m.create),
    },
    {
      name: 'env', description: 'Display the commands to set up the environment for the Docker client', usage: '[OPTIONS] [MACHINE]', args: { max: 1 },
      flags: [
        { name: 'no-proxy', type: 'bool', help: 'Add machine IP to NO_PROXY environment variable' },
        { name: 'shell', type: 'string', help: 'Force environment to be configured for a specified shell: [fish, cmd, powershell, bash, zsh], default is auto-detect', valueName: 'string' },
        { name: 'unset', short: 'u', type: 'bool', help: 'Unset variables instead of setting them' },
      ],
      run: () => machine().then((m) => m.env),
    },
    {
      name: 'inspect', description: 'Inspect information about a machine', usage: '[OPTIONS] MACHINE', args: { exact: 1 }, flags: [fmt],
      run: () => machine().then((m) => m.inspect),
    },
    { name: 'ip', description: 'Get the IP address of a machine', usage: 'MACHINE [MACHINE...]', args: { min: 1 }, run: () => machine().then((m) => m.ip) },
    {
      name: 'ls', description: 'List machines', usage: '[OPTIONS]', args: { exact: 0 },
      flags: [
        { name: 'filter', type: 'list', help: 'Filter output based on conditions provided', valueName: 'filter' },
        { name: 'format', short: 'f', type: 'string', help: 'Pretty-print machines using a Go template', valueName: 'string' },
        { name: 'quiet', short: 'q', type: 'bool', help: 'Enable quiet mode' },
        { name: 'timeout', short: 't', type: 'int', help: 'Timeout in seconds, default to 10s', default: 10 },
      ],
      run: () => machine().then((m) => m.ls),
    },
    { name: 'regenerate-certs', description: 'Regenerate TLS Certificates for a machine', usage: '[OPTIONS] MACHINE [MACHINE...]', args: { min: 1 },
      flags: [
        { name: 'client-certs', type: 'bool', help: 'Also regenerate client certificates and CA.' },
        { name: 'force', short: 'f', type: 'bool', help: 'Force rebuild and do not prompt' },
      ],
      run: () => machine().then((m) => m.regenerateCerts) },
    { name: 'restart', description: 'Restart a machine', usage: 'MACHINE [MACHINE...]', args: { min: 1 }, run: () => machine().then((m) => m.restart) },
    {
      name: 'rm', description: 'Remove a machine', usage: '[OPTIONS] MACHINE [MACHINE...]', args: { min: 1 },
      flags: [
        { name: 'force', short: 'f', type: 'bool', help: 'Remove local configuration even if machine cannot be removed, also implies an automatic yes (`-y`)' },
        { name: 'y', short: 'y', type: 'bool', help: 'Assumes automatic yes to proceed with remove, without prompting further user confirmation' },
      ],
      run: () => machine().then((m) => m.rm),
    },
    {
      name: 'scp', description: 'Copy files between machines', usage: '[OPTIONS] [[user@]machine:][path] [[user@]machine:][path]', args: { exact: 2 },
      flags: [
        { name: 'recursive', short: 'r', type: 'bool', help: 'Copy files recursively (required to copy directories)' },
        { name: 'quiet', short: 'q', type: 'bool', help: 'Disables the progress meter' },
      ],
      run: () => machine().then((m) => m.scp),
    },
    { name: 'ssh', description: 'Log into or run a command on a machine with SSH.', usage: 'MACHINE [COMMAND...]', args: { min: 1 }, interspersed: false, run: () => machine().then((m) => m.ssh) },
    { name: 'start', description: 'Start a machine', usage: 'MACHINE [MACHINE...]', args: { min: 1 }, run: () => machine().then((m) => m.start) },
    { name: 'status', description: 'Get the status of a machine', usage: 'MACHINE', args: { exact: 1 }, run: () => machine().then((m) => m.status) },
    { name: 'stop', description: 'Stop a machine', usage: 'MACHINE [MACHINE...]', args: { min: 1 }, run: () => machine().then((m) => m.stop) },
    { name: 'upgrade', description: 'Upgrade a machine to the Berth of this client', usage: 'MACHINE [MACHINE...]', args: { min: 1 }, run: () => machine().then((m) => m.upgrade) },
    { name: 'url', description: 'Get the URL of a machine', usage: 'MACHINE', args: { exact: 1 }, run: () => machine().then((m) => m.url) },
  ],
}

export const TOP_LEVEL: CommandSpec[] = []
