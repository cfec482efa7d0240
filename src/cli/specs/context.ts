import type { CommandSpec } from '../commands.js'

const context = () => import('../cmd/context.js')

const dockerFlag = { name: 'docker', type: 'list' as const, help: 'set the docker endpoint (default [])', valueName: 'stringToString' }
const description = { name: 'description', type: 'string' as const, help: 'Description of the context', valueName: 'string' }

/** `berth context ...`, as docker's, over the docker CLI's own context store. */
export const GROUP: CommandSpec | undefined = {
  name: 'context',
  description: 'Manage contexts',
  subcommands: [
    {
      name: 'create', description: 'Create a context', usage: '[OPTIONS] CONTEXT', args: { exact: 1 },
      flags: [description, dockerFlag, { name: 'from', type: 'string', help: 'create context from a named context', valueName: 'string' }],
      run: () => context().then((m) => m.create),
    },
    {
      name: 'export', description: 'Export a context to a tar archive FILE or a tar stream on STDOUT.', usage: '[OPTIONS] CONTEXT [FILE|-]', args: { min: 1, max: 2 },
      run: () => context().then((m) => m.exportCmd),
    },
    {
      name: 'import', description: 'Import a context from a tar or zip file', usage: 'CONTEXT FILE|-', args: { exact: 2 },
      run: () => context().then((m) => m.importCmd),
    },
    {
      name: 'inspect', description: 'Display detailed information on one or more contexts', usage: '[OPTIONS] [CONTEXT] [CONTEXT...]',
      flags: [{ name: 'format', short: 'f', type: 'string', help: 'Format output using a custom template', valueName: 'string' }],
      run: () => context().then((m) => m.inspect),
    },
    ...(['ls', 'list'] as const).map((name): CommandSpec => ({
      name, description: 'List contexts', usage: '[OPTIONS]', args: { exact: 0 }, ...(name === 'list' ? { hidden: true } : { aliases: ['context ls', 'context list'] }),
      flags: [
        { name: 'format', type: 'string', help: 'Format output using a custom template', valueName: 'string' },
        { name: 'quiet', short: 'q', type: 'bool', help: 'Only show context names' },
      ],
      run: () => context().then((m) => m.ls),
    })),
    ...(['rm', 'remove'] as const).map((name): CommandSpec => ({
      name, description: 'Remove one or more contexts', usage: 'CONTEXT [CONTEXT...]', args: { min: 1 }, ...(name === 'remove' ? { hidden: true } : { aliases: ['context rm', 'context remove'] }),
      flags: [{ name: 'force', short: 'f', type: 'bool', help: 'Force the removal of a context in use' }],
      run: () => context().then((m) => m.rm),
    })),
    { name: 'show', description: 'Print the name of the current context', usage: '', args: { exact: 0 }, run: () => context().then((m) => m.show) },
    {
      name: 'update', description: 'Update a context', usage: '[OPTIONS] CONTEXT', args: { exact: 1 },
      flags: [description, dockerFlag],
      run: () => context().then((m) => m.update),
    },
    { name: 'use', description: 'Set the current docker context', usage: 'CONTEXT', args: { exact: 1 }, run: () => context().then((m) => m.use) },
  ],
}

/** `berth system dial-stdio`: what ssh:// clients run on the far side. */
export const TOP_LEVEL: CommandSpec[] = [
  {
    name: 'system',
    description: 'Manage Berth',
    subcommands: [
      { name: 'dial-stdio', description: 'Proxy the stdio stream to the daemon connection. Should not be invoked manually.', usage: '', args: { exact: 0 }, hidden: true, run: () => context().then((m) => m.dialStdio) },
      { name: 'ssh-mux', description: 'Hold one SSH connection for the commands to an ssh:// host. Should not be invoked manually.', usage: 'URL', args: { exact: 1 }, hidden: true, run: () => context().then((m) => m.sshMux) },
    ],
  },
]
