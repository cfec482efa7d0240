import type { CommandSpec } from '../commands.js'

const volume = () => import('../cmd/volume.js')

/** `berth volume ...`, as docker's. */
export const GROUP: CommandSpec | undefined = {
  name: 'volume',
  description: 'Manage volumes',
  subcommands: [
    {
      name: 'create', description: 'Create a volume', usage: '[OPTIONS] [VOLUME]', args: { max: 1 },
      flags: [
        { name: 'driver', short: 'd', type: 'string', help: 'Specify volume driver name', default: 'local', valueName: 'string' },
        { name: 'label', type: 'list', help: 'Set metadata for a volume' },
        { name: 'name', type: 'string', help: 'Specify volume name', valueName: 'string', hidden: true },
        { name: 'opt', short: 'o', type: 'list', help: 'Set driver specific options', valueName: 'map' },
      ],
      run: () => volume().then((m) => m.create),
    },
    {
      name: 'inspect', description: 'Display detailed information on one or more volumes', usage: '[OPTIONS] VOLUME [VOLUME...]', args: { min: 1 },
      flags: [{ name: 'format', short: 'f', type: 'string', help: 'Format output using a custom template', valueName: 'string' }],
      run: () => volume().then((m) => m.inspect),
    },
    {
      name: 'ls', aliases: ['volume ls', 'volume list'], description: 'List volumes', usage: '[OPTIONS]', args: { exact: 0 },
      flags: [
        { name: 'filter', short: 'f', type: 'list', help: "Provide filter values (e.g. 'dangling=true')", valueName: 'filter' },
        { name: 'format', type: 'string', help: 'Format output using a custom template', valueName: 'string' },
        { name: 'quiet', short: 'q', type: 'bool', help: 'Only display volume names' },
      ],
      run: () => volume().then((m) => m.ls),
    },
    {
      name: 'prune', description: 'Remove unused local volumes', usage: '[OPTIONS]', args: { exact: 0 },
      flags: [
        { name: 'all', short: 'a', type: 'bool', help: 'Remove all unused volumes, not just anonymous ones' },
        { name: 'filter', type: 'list', help: "Provide filter values (e.g. 'label=<label>')", valueName: 'filter' },
        { name: 'force', short: 'f', type: 'bool', help: 'Do not prompt for confirmation' },
      ],
      run: () => volume().then((m) => m.prune),
    },
    {
      name: 'rm', aliases: ['volume rm', 'volume remove'], description: 'Remove one or more volumes', usage: '[OPTIONS] VOLUME [VOLUME...]', args: { min: 1 },
      flags: [{ name: 'force', short: 'f', type: 'bool', help: 'Force the removal of one or more volumes' }],
      run: () => volume().then((m) => m.rm),
    },
  ],
}
GROUP.subcommands!.push({ ...GROUP.subcommands!.find((c) => c.name === 'ls')!, name: 'list', hidden: true })
GROUP.subcommands!.push({ ...GROUP.subcommands!.find((c) => c.name === 'rm')!, name: 'remove', hidden: true })

export const TOP_LEVEL: CommandSpec[] = []
