import type { CommandSpec } from '../commands.js'

const network = () => import('../cmd/network.js')

/** `berth network ...` and `berth port`, as docker's. */
export const GROUP: CommandSpec | undefined = {
  name: 'network',
  description: 'Manage networks',
  subcommands: [
    {
      name: 'connect', description: 'Connect a container to a network', usage: '[OPTIONS] NETWORK CONTAINER', args: { exact: 2 },
      flags: [
        { name: 'alias', type: 'list', help: 'Add network-scoped alias for the container' },
        { name: 'driver-opt', type: 'list', help: 'driver options for the network' },
        { name: 'ip', type: 'string', help: 'IPv4 address (e.g., "172.30.100.104")', valueName: 'string' },
        { name: 'ip6', type: 'string', help: 'IPv6 address (e.g., "2001:db8::33")', valueName: 'string' },
        { name: 'link', type: 'list', help: 'Add link to another container' },
        { name: 'link-local-ip', type: 'list', help: 'Add a link-local address for the container' },
      ],
      run: () => network().then((m) => m.connect),
    },
    {
      name: 'create', description: 'Create a network', usage: '[OPTIONS] NETWORK', args: { exact: 1 },
      flags: [
        { name: 'attachable', type: 'bool', help: 'Enable manual container attachment' },
        { name: 'aux-address', type: 'list', help: 'Auxiliary IPv4 or IPv6 addresses used by Network driver', valueName: 'map' },
        { name: 'driver', short: 'd', type: 'string', help: 'Driver to manage the Network', default: 'bridge', valueName: 'string' },
        { name: 'gateway', type: 'list', help: 'IPv4 or IPv6 Gateway for the master subnet', valueName: 'strings' },
        { name: 'internal', type: 'bool', help: 'Restrict external access to the network' },
        { name: 'ip-range', type: 'list', help: 'Allocate container ip from a sub-range', valueName: 'strings' },
        { name: 'ipam-driver', type: 'string', help: 'IP Address Management Driver', default: 'default', valueName: 'string' },
        { name: 'ipv6', type: 'bool', help: 'Enable or disable IPv6 networking' },
        { name: 'label', type: 'list', help: 'Set metadata on a network' },
        { name: 'opt', short: 'o', type: 'list', help: 'Set driver specific options', valueName: 'map' },
        { name: 'scope', type: 'string', help: "Control the network's scope", valueName: 'string' },
        { name: 'subnet', type: 'list', help: 'Subnet in CIDR format that represents a network segment', valueName: 'strings' },
      ],
      run: () => network().then((m) => m.create),
    },
    {
      name: 'disconnect', description: 'Disconnect a container from a network', usage: '[OPTIONS] NETWORK CONTAINER', args: { exact: 2 },
      flags: [{ name: 'force', short: 'f', type: 'bool', help: 'Force the container to disconnect from a network' }],
      run: () => network().then((m) => m.disconnect),
    },
    {
      name: 'inspect', description: 'Display detailed information on one or more networks', usage: '[OPTIONS] NETWORK [NETWORK...]', args: { min: 1 },
      flags: [
        { name: 'format', short: 'f', type: 'string', help: 'Format output using a custom template', valueName: 'string' },
        { name: 'verbose', short: 'v', type: 'bool', help: 'Verbose output for diagnostics' },
      ],
      run: () => network().then((m) => m.inspect),
    },
    {
      name: 'ls', aliases: ['network ls', 'network list'], description: 'List networks', usage: '[OPTIONS]', args: { exact: 0 },
      flags: [
        { name: 'filter', short: 'f', type: 'list', help: "Provide filter values (e.g. 'driver=bridge')", valueName: 'filter' },
        { name: 'format', type: 'string', help: 'Format output using a custom template', valueName: 'string' },
        { name: 'no-trunc', type: 'bool', help: 'Do not truncate the output' },
        { name: 'quiet', short: 'q', type: 'bool', help: 'Only display network IDs' },
      ],
      run: () => network().then((m) => m.ls),
    },
    {
      name: 'prune', description: 'Remove all unused networks', usage: '[OPTIONS]', args: { exact: 0 },
      flags: [
        { name: 'filter', type: 'list', help: "Provide filter values (e.g. 'until=<timestamp>')", valueName: 'filter' },
        { name: 'force', short: 'f', type: 'bool', help: 'Do not prompt for confirmation' },
      ],
      run: () => network().then((m) => m.prune),
    },
    {
      name: 'rm', aliases: ['network rm', 'network remove'], description: 'Remove one or more networks', usage: 'NETWORK [NETWORK...]', args: { min: 1 },
      flags: [{ name: 'force', short: 'f', type: 'bool', help: 'Do not error if the network does not exist' }],
      run: () => network().then((m) => m.rm),
    },
  ],
}
GROUP.subcommands!.push({ ...GROUP.subcommands!.find((c) => c.name === 'ls')!, name: 'list', hidden: true })
GROUP.subcommands!.push({ ...GROUP.subcommands!.find((c) => c.name === 'rm')!, name: 'remove', hidden: true })

export const TOP_LEVEL: CommandSpec[] = [
  {
    name: 'port', aliases: ['container port'], description: 'List port mappings or a specific mapping for the container', usage: 'CONTAINER [PRIVATE_PORT[/PROTO]]', args: { min: 1, max: 2 },
    run: () => network().then((m) => m.port),
  },
]
