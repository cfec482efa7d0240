import type { CommandSpec } from '../commands.js'
import type { FlagSpec } from '../flags.js'

/**
 * `berth swarm|node|service|secret|config|stack ...`: the docker CLI 28's commands, flags and
 * help words. Flags whose docker default matters only when they are given (swarm and service
 * settings) have no `default` here, so a runner can tell "changed" from "not given"; their help
 * says the default as docker's does.
 */
const swarm = () => import('../cmd/swarm.js')
const node = () => import('../cmd/node.js')
const service = () => import('../cmd/service.js')
const secret = () => import('../cmd/secret.js')
const config = () => import('../cmd/config.js')
const stack = () => import('../cmd/stack.js')

const fmtFlag = (help = 'Format output using a custom template:\n\'table\':            Print output in table format with column headers (default)\n\'table TEMPLATE\':   Print output in table format using the given Go template\n\'json\':             Print in JSON format\n\'TEMPLATE\':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates'): FlagSpec => ({ name: 'format', type: 'string', help, valueName: 'string' })
const inspectFormat: FlagSpec = { name: 'format', short: 'f', type: 'string', help: "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates", valueName: 'string' }
const filter: FlagSpec = { name: 'filter', short: 'f', type: 'list', help: 'Filter output based on conditions provided', valueName: 'filter' }
const pretty: FlagSpec = { name: 'pretty', type: 'bool', help: 'Print the information in a human friendly format' }
const quietIds: FlagSpec = { name: 'quiet', short: 'q', type: 'bool', help: 'Only display IDs' }

const SWARM_SETTINGS: FlagSpec[] = [
  { name: 'cert-expiry', type: 'string', help: 'Validity period for node certificates (ns|us|ms|s|m|h) (default 2160h0m0s)', valueName: 'duration' },
  { name: 'dispatcher-heartbeat', type: 'string', help: 'Dispatcher heartbeat period (ns|us|ms|s|m|h) (default 5s)', valueName: 'duration' },
  { name: 'external-ca', type: 'list', help: 'Specifications of one or more certificate signing endpoints', valueName: 'external-ca' },
  { name: 'max-snapshots', type: 'string', help: 'Number of additional Raft snapshots to retain', valueName: 'uint' },
  { name: 'snapshot-interval', type: 'string', help: 'Number of log entries between Raft snapshots (default 10000)', valueName: 'uint' },
  { name: 'task-history-limit', type: 'string', help: 'Task history retention limit (default 5)', valueName: 'int' },
]
const ADDR: FlagSpec[] = [
  { name: 'advertise-addr', type: 'string', help: 'Advertised address (format: "<ip|interface>[:port]")', valueName: 'string' },
  { name: 'availability', type: 'string', help: 'Availability of the node ("active", "pause", "drain") (default "active")', valueName: 'string' },
  { name: 'data-path-addr', type: 'string', help: 'Address or interface to use for data path traffic (format: "<ip|interface>")', valueName: 'string' },
  { name: 'listen-addr', type: 'string', help: 'Listen address (format: "<ip|interface>[:port]") (default 0.0.0.0:2377)', valueName: 'node-addr' },
]

const SWARM: CommandSpec = {
  name: 'swarm',
  description: 'Manage Swarm',
  subcommands: [
    {
      name: 'ca', description: 'Display and rotate the root CA', usage: '[OPTIONS]', args: { exact: 0 },
      flags: [
        { name: 'ca-cert', type: 'string', help: 'Path to the PEM-formatted root CA certificate to use for the new cluster', valueName: 'pem-file' },
        { name: 'ca-key', type: 'string', help: 'Path to the PEM-formatted root CA key to use for the new cluster', valueName: 'pem-file' },
        { name: 'cert-expiry', type: 'string', help: 'Validity period for node certificates (ns|us|ms|s|m|h) (default 2160h0m0s)', valueName: 'duration' },
        { name: 'detach', short: 'd', type: 'bool', help: 'Exit immediately instead of waiting for the root rotation to converge' },
        { name: 'external-ca', type: 'list', help: 'Specifications of one or more certificate signing endpoints', valueName: 'external-ca' },
        { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress progress output' },
        { name: 'rotate', type: 'bool', help: 'Rotate the swarm CA - if no certificate or key are provided, new ones will be generated' },
      ],
      run: () => swarm().then((m) => m.ca),
    },
    {
      name: 'init', description: 'Initialize a swarm', usage: '[OPTIONS]', args: { exact: 0 },
      flags: [
        ...ADDR,
        { name: 'autolock', type: 'bool', help: 'Enable manager autolocking (requiring an unlock key to start a stopped manager)' },
        { name: 'data-path-port', type: 'string', help: 'Port number to use for data path traffic (1024 - 49151). If no value is set or is set to 0, the default port (4789) is used.', valueName: 'uint32' },
        { name: 'default-addr-pool', type: 'list', help: 'default address pool in CIDR format (default [])', valueName: 'ipNetSlice' },
        { name: 'default-addr-pool-mask-length', type: 'string', help: 'default address pool subnet mask length (default 24)', valueName: 'uint32' },
        { name: 'force-new-cluster', type: 'bool', help: 'Force create a new cluster from current state' },
        ...SWARM_SETTINGS,
      ],
      run: () => swarm().then((m) => m.init),
    },
    {
      name: 'join', description: 'Join a swarm as a node and/or manager', usage: '[OPTIONS] HOST:PORT', args: { exact: 1 },
      flags: [...ADDR, { name: 'token', type: 'string', help: 'Token for entry into the swarm', valueName: 'string' }],
      run: () => swarm().then((m) => m.join),
    },
    {
      name: 'join-token', description: 'Manage join tokens', usage: '[OPTIONS] (worker|manager)', args: { exact: 1 },
      flags: [
        { name: 'quiet', short: 'q', type: 'bool', help: 'Only display token' },
        { name: 'rotate', type: 'bool', help: 'Rotate join token' },
      ],
      run: () => swarm().then((m) => m.joinToken),
    },
    {
      name: 'leave', description: 'Leave the swarm', usage: '[OPTIONS]', args: { exact: 0 },
      flags: [{ name: 'force', short: 'f', type: 'bool', help: 'Force this node to leave the swarm, ignoring warnings' }],
      run: () => swarm().then((m) => m.leave),
    },
    { name: 'unlock', description: 'Unlock swarm', usage: '', args: { exact: 0 }, run: () => swarm().then((m) => m.unlock) },
    {
      name: 'unlock-key', description: 'Manage the unlock key', usage: '[OPTIONS]', args: { exact: 0 },
      flags: [
        { name: 'quiet', short: 'q', type: 'bool', help: 'Only display token' },
        { name: 'rotate', type: 'bool', help: 'Rotate unlock key' },
      ],
      run: () => swarm().then((m) => m.unlockKey),
    },
    {
      name: 'update', description: 'Update the swarm', usage: '[OPTIONS]', args: { exact: 0 },
      flags: [{ name: 'autolock', type: 'bool', help: 'Change manager autolocking setting (true|false)' }, ...SWARM_SETTINGS],
      run: () => swarm().then((m) => m.update),
    },
  ],
}

const NODE: CommandSpec = {
  name: 'node',
  description: 'Manage Swarm nodes',
  subcommands: [
    { name: 'demote', description: 'Demote one or more nodes from manager in the swarm', usage: 'NODE [NODE...]', args: { min: 1 }, run: () => node().then((m) => m.demote) },
    {
      name: 'inspect', description: 'Display detailed information on one or more nodes', usage: '[OPTIONS] self|NODE [NODE...]', args: { min: 1 },
      flags: [inspectFormat, pretty], run: () => node().then((m) => m.inspect),
    },
    {
      name: 'ls', aliases: ['node ls', 'node list'], description: 'List nodes in the swarm', usage: '[OPTIONS]', args: { exact: 0 },
      flags: [filter, fmtFlag(), quietIds], run: () => node().then((m) => m.ls),
    },
    { name: 'promote', description: 'Promote one or more nodes to manager in the swarm', usage: 'NODE [NODE...]', args: { min: 1 }, run: () => node().then((m) => m.promote) },
    {
      name: 'ps', description: 'List tasks running on one or more nodes, defaults to current node', usage: '[OPTIONS] [NODE...]',
      flags: [
        filter, fmtFlag(),
        { name: 'no-resolve', type: 'bool', help: 'Do not map IDs to Names' },
        { name: 'no-trunc', type: 'bool', help: 'Do not truncate output' },
        { name: 'quiet', short: 'q', type: 'bool', help: 'Only display task IDs' },
      ],
      run: () => node().then((m) => m.ps),
    },
    {
      name: 'rm', aliases: ['node rm', 'node remove'], description: 'Remove one or more nodes from the swarm', usage: '[OPTIONS] NODE [NODE...]', args: { min: 1 },
      flags: [{ name: 'force', short: 'f', type: 'bool', help: 'Force remove a node from the swarm' }], run: () => node().then((m) => m.rm),
    },
    {
      name: 'update', description: 'Update a node', usage: '[OPTIONS] NODE', args: { exact: 1 },
      flags: [
        { name: 'availability', type: 'string', help: 'Availability of the node ("active", "pause", "drain")', valueName: 'string' },
        { name: 'label-add', type: 'list', help: 'Add or update a node label (key=value)' },
        { name: 'label-rm', type: 'list', help: 'Remove a node label if exists' },
        { name: 'role', type: 'string', help: 'Role of the node ("worker", "manager")', valueName: 'string' },
      ],
      run: () => node().then((m) => m.update),
    },
  ],
}

const svcDurations = (prefix: string, what: string, word: string): FlagSpec[] => [
  { name: `${prefix}-delay`, type: 'string', help: `Delay between ${what} (ns|us|ms|s|m|h) (default 0s)`, valueName: 'duration' },
  { name: `${prefix}-failure-action`, type: 'string', help: prefix === 'update' ? 'Action on update failure ("pause", "continue", "rollback") (default "pause")' : 'Action on rollback failure ("pause", "continue") (default "pause")', valueName: 'string' },
  { name: `${prefix}-max-failure-ratio`, type: 'string', help: `Failure rate to tolerate during ${word} (default 0)`, valueName: 'float' },
  { name: `${prefix}-monitor`, type: 'string', help: `Duration after each task ${prefix === 'update' ? 'update' : 'rollback'} to monitor for failure (ns|us|ms|s|m|h) (default 5s)`, valueName: 'duration' },
  { name: `${prefix}-order`, type: 'string', help: `${prefix === 'update' ? 'Update' : 'Rollback'} order ("start-first", "stop-first") (default "stop-first")`, valueName: 'string' },
  { name: `${prefix}-parallelism`, type: 'string', help: prefix === 'update' ? 'Maximum number of tasks updated simultaneously (0 to update all at once) (default 1)' : 'Maximum number of tasks rolled back simultaneously (0 to roll back all at once) (default 1)', valueName: 'uint' },
]

/** addServiceFlags: the flags create and update share. */
const SERVICE_COMMON: FlagSpec[] = [
  { name: 'cap-add', type: 'list', help: 'Add Linux capabilities' },
  { name: 'cap-drop', type: 'list', help: 'Drop Linux capabilities' },
  { name: 'credential-spec', type: 'string', help: 'Credential spec for managed service account (Windows only)', valueName: 'credential-spec' },
  { name: 'detach', short: 'd', type: 'bool', help: 'Exit immediately instead of waiting for the service to converge' },
  { name: 'endpoint-mode', type: 'string', help: 'Endpoint mode (vip or dnsrr) (default "vip")', valueName: 'string' },
  { name: 'entrypoint', type: 'string', help: 'Overwrite the default ENTRYPOINT of the image', valueName: 'command' },
  { name: 'health-cmd', type: 'string', help: 'Command to run to check health', valueName: 'string' },
  { name: 'health-interval', type: 'string', help: 'Time between running the check (ms|s|m|h)', valueName: 'duration' },
  { name: 'health-retries', type: 'int', help: 'Consecutive failures needed to report unhealthy' },
  { name: 'health-start-interval', type: 'string', help: 'Time between running the check during the start period (ms|s|m|h)', valueName: 'duration' },
  { name: 'health-start-period', type: 'string', help: 'Start period for the container to initialize before counting retries towards unstable (ms|s|m|h)', valueName: 'duration' },
  { name: 'health-timeout', type: 'string', help: 'Maximum time to allow one check to run (ms|s|m|h)', valueName: 'duration' },
  { name: 'hostname', type: 'string', help: 'Container hostname', valueName: 'string' },
  { name: 'isolation', type: 'string', help: 'Service container isolation mode', valueName: 'string' },
  { name: 'limit-cpu', type: 'string', help: 'Limit CPUs', valueName: 'decimal' },
  { name: 'limit-memory', type: 'string', help: 'Limit Memory', valueName: 'bytes' },
  { name: 'limit-pids', type: 'int', help: 'Limit maximum number of processes (default 0 = unlimited)' },
  { name: 'log-driver', type: 'string', help: 'Logging driver for service', valueName: 'string' },
  { name: 'log-opt', type: 'list', help: 'Logging driver options' },
  { name: 'max-concurrent', type: 'string', help: 'Number of job tasks to run concurrently (default equal to --replicas)', valueName: 'uint' },
  { name: 'no-healthcheck', type: 'bool', help: 'Disable any container-specified HEALTHCHECK' },
  { name: 'no-resolve-image', type: 'bool', help: 'Do not query the registry to resolve image digest and supported platforms' },
  { name: 'oom-score-adj', type: 'int', help: "Tune host's OOM preferences (-1000 to 1000) " },
  { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress progress output' },
  { name: 'read-only', type: 'bool', help: "Mount the container's root filesystem as read only" },
  { name: 'replicas', type: 'string', help: 'Number of tasks', valueName: 'uint' },
  { name: 'replicas-max-per-node', type: 'string', help: 'Maximum number of tasks per node (default 0 = unlimited)', valueName: 'uint' },
  { name: 'reserve-cpu', type: 'string', help: 'Reserve CPUs', valueName: 'decimal' },
  { name: 'reserve-memory', type: 'string', help: 'Reserve Memory', valueName: 'bytes' },
  { name: 'restart-condition', type: 'string', help: 'Restart when condition is met ("none", "on-failure", "any") (default "any")', valueName: 'string' },
  { name: 'restart-delay', type: 'string', help: 'Delay between restart attempts (ns|us|ms|s|m|h) (default 5s)', valueName: 'duration' },
  { name: 'restart-max-attempts', type: 'string', help: 'Maximum number of restarts before giving up', valueName: 'uint' },
  { name: 'restart-window', type: 'string', help: 'Window used to evaluate the restart policy (ns|us|ms|s|m|h)', valueName: 'duration' },
  ...svcDurations('rollback', 'task rollbacks', 'a rollback'),
  { name: 'stop-grace-period', type: 'string', help: 'Time to wait before force killing a container (ns|us|ms|s|m|h) (default 10s)', valueName: 'duration' },
  { name: 'stop-signal', type: 'string', help: 'Signal to stop the container', valueName: 'string' },
  { name: 'tty', short: 't', type: 'bool', help: 'Allocate a pseudo-TTY' },
  ...svcDurations('update', 'updates', 'an update'),
  { name: 'user', short: 'u', type: 'string', help: 'Username or UID (format: <name|uid>[:<group|gid>])', valueName: 'string' },
  { name: 'with-registry-auth', type: 'bool', help: 'Send registry authentication details to swarm agents' },
  { name: 'workdir', short: 'w', type: 'string', help: 'Working directory inside the container', valueName: 'string' },
]

const SERVICE_CREATE_ONLY: FlagSpec[] = [
  { name: 'config', type: 'list', help: 'Specify configurations to expose to the service', valueName: 'config' },
  { name: 'constraint', type: 'list', help: 'Placement constraints' },
  { name: 'container-label', type: 'list', help: 'Container labels' },
  { name: 'dns', type: 'list', help: 'Set custom DNS servers' },
  { name: 'dns-option', type: 'list', help: 'Set DNS options' },
  { name: 'dns-search', type: 'list', help: 'Set custom DNS search domains' },
  { name: 'env', short: 'e', type: 'list', help: 'Set environment variables' },
  { name: 'env-file', type: 'list', help: 'Read in a file of environment variables' },
  { name: 'generic-resource', type: 'list', help: 'User defined resources' },
  { name: 'group', type: 'list', help: 'Set one or more supplementary user groups for the container' },
  { name: 'host', type: 'list', help: 'Set one or more custom host-to-IP mappings (host:ip)' },
  { name: 'init', type: 'bool', help: 'Use an init inside each service container to forward signals and reap processes' },
  { name: 'label', short: 'l', type: 'list', help: 'Service labels' },
  { name: 'mode', type: 'string', help: 'Service mode ("replicated", "global", "replicated-job", "global-job") (default "replicated")', valueName: 'string' },
  { name: 'mount', type: 'list', help: 'Attach a filesystem mount to the service', valueName: 'mount' },
  { name: 'name', type: 'string', help: 'Service name', valueName: 'string' },
  { name: 'network', type: 'list', help: 'Network attachments', valueName: 'network' },
  { name: 'placement-pref', type: 'list', help: 'Add a placement preference', valueName: 'pref' },
  { name: 'publish', short: 'p', type: 'list', help: 'Publish a port as a node port', valueName: 'port' },
  { name: 'secret', type: 'list', help: 'Specify secrets to expose to the service', valueName: 'secret' },
  { name: 'sysctl', type: 'list', help: 'Sysctl options' },
  { name: 'ulimit', type: 'list', help: 'Ulimit options', valueName: 'ulimit' },
]

const SERVICE_UPDATE_ONLY: FlagSpec[] = [
  { name: 'args', type: 'string', help: 'Service command args', valueName: 'command' },
  { name: 'config-add', type: 'list', help: 'Add or update a config file on a service', valueName: 'config' },
  { name: 'config-rm', type: 'list', help: 'Remove a configuration file' },
  { name: 'constraint-add', type: 'list', help: 'Add or update a placement constraint' },
  { name: 'constraint-rm', type: 'list', help: 'Remove a constraint' },
  { name: 'container-label-add', type: 'list', help: 'Add or update a container label' },
  { name: 'container-label-rm', type: 'list', help: 'Remove a container label by its key' },
  { name: 'env-add', type: 'list', help: 'Add or update an environment variable' },
  { name: 'env-rm', type: 'list', help: 'Remove an environment variable' },
  { name: 'force', type: 'bool', help: 'Force update even if no changes require it' },
  { name: 'image', type: 'string', help: 'Service image tag', valueName: 'string' },
  { name: 'init', type: 'bool', help: 'Use an init inside each service container to forward signals and reap processes' },
  { name: 'label-add', type: 'list', help: 'Add or update a service label' },
  { name: 'label-rm', type: 'list', help: 'Remove a label by its key' },
  { name: 'mount-add', type: 'list', help: 'Add or update a mount on a service', valueName: 'mount' },
  { name: 'mount-rm', type: 'list', help: 'Remove a mount by its target path' },
  { name: 'network-add', type: 'list', help: 'Add a network', valueName: 'network' },
  { name: 'network-rm', type: 'list', help: 'Remove a network' },
  { name: 'placement-pref-add', type: 'list', help: 'Add a placement preference', valueName: 'pref' },
  { name: 'placement-pref-rm', type: 'list', help: 'Remove a placement preference', valueName: 'pref' },
  { name: 'publish-add', type: 'list', help: 'Add or update a published port', valueName: 'port' },
  { name: 'publish-rm', type: 'list', help: 'Remove a published port by its target port', valueName: 'port' },
  { name: 'rollback', type: 'bool', help: 'Rollback to previous specification' },
  { name: 'secret-add', type: 'list', help: 'Add or update a secret on a service', valueName: 'secret' },
  { name: 'secret-rm', type: 'list', help: 'Remove a secret' },
]

const SERVICE: CommandSpec = {
  name: 'service',
  description: 'Manage Swarm services',
  subcommands: [
    {
      name: 'create', description: 'Create a new service', usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]', args: { min: 1 }, interspersed: false,
      flags: [...SERVICE_COMMON, ...SERVICE_CREATE_ONLY], run: () => service().then((m) => m.create),
    },
    {
      name: 'inspect', description: 'Display detailed information on one or more services', usage: '[OPTIONS] SERVICE [SERVICE...]', args: { min: 1 },
      flags: [inspectFormat, pretty], run: () => service().then((m) => m.inspect),
    },
    {
      name: 'logs', description: 'Fetch the logs of a service or task', usage: '[OPTIONS] SERVICE|TASK', args: { exact: 1 },
      flags: [
        { name: 'details', type: 'bool', help: 'Show extra details provided to logs' },
        { name: 'follow', short: 'f', type: 'bool', help: 'Follow log output' },
        { name: 'no-resolve', type: 'bool', help: 'Do not map IDs to Names in output' },
        { name: 'no-task-ids', type: 'bool', help: 'Do not include task IDs in output' },
        { name: 'no-trunc', type: 'bool', help: 'Do not truncate output' },
        { name: 'raw', type: 'bool', help: 'Do not neatly format logs' },
        { name: 'since', type: 'string', help: 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)', valueName: 'string' },
        { name: 'tail', short: 'n', type: 'string', help: 'Number of lines to show from the end of the logs', default: 'all', valueName: 'string' },
        { name: 'timestamps', short: 't', type: 'bool', help: 'Show timestamps' },
      ],
      run: () => service().then((m) => m.logs),
    },
    {
      name: 'ls', aliases: ['service ls', 'service list'], description: 'List services', usage: '[OPTIONS]', args: { exact: 0 },
      flags: [filter, fmtFlag(), quietIds], run: () => service().then((m) => m.ls),
    },
    {
      name: 'ps', description: 'List the tasks of one or more services', usage: '[OPTIONS] SERVICE [SERVICE...]', args: { min: 1 },
      flags: [
        filter, fmtFlag(),
        { name: 'no-resolve', type: 'bool', help: 'Do not map IDs to Names' },
        { name: 'no-trunc', type: 'bool', help: 'Do not truncate output' },
        { name: 'quiet', short: 'q', type: 'bool', help: 'Only display task IDs' },
      ],
      run: () => service().then((m) => m.ps),
    },
    { name: 'rm', aliases: ['service rm', 'service remove'], description: 'Remove one or more services', usage: 'SERVICE [SERVICE...]', args: { min: 1 }, run: () => service().then((m) => m.rm) },
    {
      name: 'rollback', description: 'Revert changes to a service\'s configuration', usage: '[OPTIONS] SERVICE', args: { exact: 1 },
      flags: [
        { name: 'detach', short: 'd', type: 'bool', help: 'Exit immediately instead of waiting for the service to converge' },
        { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress progress output' },
      ],
      run: () => service().then((m) => m.rollback),
    },
    {
      name: 'scale', description: 'Scale one or multiple replicated services', usage: 'SERVICE=REPLICAS [SERVICE=REPLICAS...]', args: { min: 1 },
      flags: [{ name: 'detach', short: 'd', type: 'bool', help: 'Exit immediately instead of waiting for the service to converge' }],
      run: () => service().then((m) => m.scale),
    },
    {
      name: 'update', description: 'Update a service', usage: '[OPTIONS] SERVICE', args: { exact: 1 },
      flags: [...SERVICE_COMMON, ...SERVICE_UPDATE_ONLY], run: () => service().then((m) => m.update),
    },
  ],
}

const objectGroup = (kind: 'secret' | 'config', load: () => Promise<typeof import('../cmd/secret.js') | typeof import('../cmd/config.js')>): CommandSpec => ({
  name: kind,
  description: kind === 'secret' ? 'Manage Swarm secrets' : 'Manage Swarm configs',
  subcommands: [
    kind === 'secret'
      ? {
          name: 'create', description: 'Create a secret from a file or STDIN as content', usage: '[OPTIONS] SECRET [file|-]', args: { min: 1, max: 2 },
          flags: [
            { name: 'driver', short: 'd', type: 'string', help: 'Secret driver', valueName: 'string' },
            { name: 'label', short: 'l', type: 'list', help: 'Secret labels' },
            { name: 'template-driver', type: 'string', help: 'Template driver', valueName: 'string' },
          ],
          run: () => load().then((m) => m.create),
        }
      : {
          name: 'create', description: 'Create a config from a file or STDIN', usage: '[OPTIONS] CONFIG file|-', args: { exact: 2 },
          flags: [
            { name: 'label', short: 'l', type: 'list', help: 'Config labels' },
            { name: 'template-driver', type: 'string', help: 'Template driver', valueName: 'string' },
          ],
          run: () => load().then((m) => m.create),
        },
    {
      name: 'inspect', description: `Display detailed information on one or more ${kind}s`, usage: `[OPTIONS] ${kind.toUpperCase()} [${kind.toUpperCase()}...]`, args: { min: 1 },
      flags: [inspectFormat, pretty], run: () => load().then((m) => m.inspect),
    },
    {
      name: 'ls', aliases: [`${kind} ls`, `${kind} list`], description: `List ${kind}s`, usage: '[OPTIONS]', args: { exact: 0 },
      flags: [filter, fmtFlag(), quietIds], run: () => load().then((m) => m.ls),
    },
    { name: 'rm', aliases: [`${kind} rm`, `${kind} remove`], description: `Remove one or more ${kind}s`, usage: `${kind.toUpperCase()} [${kind.toUpperCase()}...]`, args: { min: 1 }, run: () => load().then((m) => m.rm) },
  ],
})

const STACK: CommandSpec = {
  name: 'stack',
  description: 'Manage Swarm stacks',
  subcommands: [
    {
      name: 'config', description: 'Outputs the final config file, after doing merges and interpolations', usage: '[OPTIONS]', args: { exact: 0 },
      flags: [
        { name: 'compose-file', short: 'c', type: 'list', help: 'Path to a Compose file, or "-" to read from stdin', valueName: 'strings' },
        { name: 'skip-interpolation', type: 'bool', help: 'Skip interpolation and output only merged config' },
      ],
      run: () => stack().then((m) => m.config),
    },
    {
      name: 'deploy', aliases: ['stack deploy', 'stack up'], description: 'Deploy a new stack or update an existing stack', usage: '[OPTIONS] STACK', args: { exact: 1 },
      flags: [
        { name: 'compose-file', short: 'c', type: 'list', help: 'Path to a Compose file, or "-" to read from stdin', valueName: 'strings' },
        { name: 'detach', short: 'd', type: 'bool', help: 'Exit immediately instead of waiting for the stack services to converge (default true)' },
        { name: 'prune', type: 'bool', help: 'Prune services that are no longer referenced' },
        { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress progress output' },
        { name: 'resolve-image', type: 'string', help: 'Query the registry to resolve image digest and supported platforms ("always", "changed", "never")', default: 'always', valueName: 'string' },
        { name: 'with-registry-auth', type: 'bool', help: 'Send registry authentication details to Swarm agents' },
      ],
      run: () => stack().then((m) => m.deploy),
    },
    {
      name: 'ls', aliases: ['stack ls', 'stack list'], description: 'List stacks', usage: '[OPTIONS]', args: { exact: 0 },
      flags: [fmtFlag()], run: () => stack().then((m) => m.ls),
    },
    {
      name: 'ps', description: 'List the tasks in the stack', usage: '[OPTIONS] STACK', args: { exact: 1 },
      flags: [
        filter, fmtFlag(),
        { name: 'no-resolve', type: 'bool', help: 'Do not map IDs to Names' },
        { name: 'no-trunc', type: 'bool', help: 'Do not truncate output' },
        { name: 'quiet', short: 'q', type: 'bool', help: 'Only display task IDs' },
      ],
      run: () => stack().then((m) => m.ps),
    },
    {
      name: 'rm', aliases: ['stack rm', 'stack remove', 'stack down'], description: 'Remove one or more stacks', usage: '[OPTIONS] STACK [STACK...]', args: { min: 1 },
      flags: [{ name: 'detach', short: 'd', type: 'bool', help: 'Do not wait for stack removal (default true)' }],
      run: () => stack().then((m) => m.rm),
    },
    {
      name: 'services', description: 'List the services in the stack', usage: '[OPTIONS] STACK', args: { exact: 1 },
      flags: [filter, fmtFlag(), { name: 'quiet', short: 'q', type: 'bool', help: 'Only display IDs' }],
      run: () => stack().then((m) => m.services),
    },
  ],
}

/** Hidden aliases (`ls` → `list`, `rm` → `remove`, `deploy` → `up`, `rm` → `down`) as docker has them. */
function withAliases(g: CommandSpec, extra: Array<[string, string]>): CommandSpec {
  for (const [from, to] of extra) {
    const c = g.subcommands!.find((s) => s.name === from)
    if (c) g.subcommands!.push({ ...c, name: to, hidden: true })
  }
  return g
}

export const GROUPS: CommandSpec[] = [
  withAliases(CONFIG_GROUP(), [['ls', 'list'], ['rm', 'remove']]),
  withAliases(NODE, [['ls', 'list'], ['rm', 'remove']]),
  withAliases(objectGroup('secret', secret), [['ls', 'list'], ['rm', 'remove']]),
  withAliases(SERVICE, [['ls', 'list'], ['rm', 'remove']]),
  withAliases(STACK, [['ls', 'list'], ['rm', 'remove'], ['rm', 'down'], ['deploy', 'up']]),
  withAliases(SWARM, []),
]

function CONFIG_GROUP(): CommandSpec {
  return objectGroup('config', config)
}

export const GROUP: CommandSpec | undefined = undefined
export const TOP_LEVEL: CommandSpec[] = []
