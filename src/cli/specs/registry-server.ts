import type { CommandSpec } from '../commands.js'
import type { FlagSpec } from '../flags.js'

const cmd = () => import('../cmd/registry-server.js')
const root: FlagSpec[] = [
  { name: 'data-root', type: 'string', help: 'Root directory of the registry storage (default "/var/lib/berth-registry")', valueName: 'string' },
  { name: 'config', type: 'string', help: 'Registry config file (YAML); its storage root and users file are used', valueName: 'string' },
]

/** `berth registry ...`: the registry server and its accounts. */
export const GROUP: CommandSpec = {
  name: 'registry',
  description: 'Run a registry server and manage its users, organisations and namespaces',
  subcommands: [
    {
      name: 'serve', description: 'Run the registry server (OCI distribution API with its own token server)', usage: '[OPTIONS]', args: { exact: 0 },
      flags: [
        { name: 'listen', type: 'string', help: 'Address to listen on (default "127.0.0.1:5000")', valueName: 'host:port' },
        ...root,
        { name: 'log-level', type: 'string', help: 'Log level ("debug", "info", "warn", "error")', valueName: 'string' },
      ],
      run: () => cmd().then((m) => m.serve),
    },
    {
      name: 'gc', description: 'Delete blobs and manifests nothing references (safe while the server runs)', usage: '[OPTIONS]', args: { exact: 0 },
      flags: [...root,
        { name: 'dry-run', type: 'bool', help: 'Only print what would be deleted' },
        { name: 'grace', type: 'string', help: 'Keep anything younger than this (default "1h", or gc.grace)', valueName: 'duration' },
      ],
      run: () => cmd().then((m) => m.gc),
    },
    // The command table has two levels: `user`, `org` and `namespace` take their verb as first argument.
    {
      name: 'user', description: 'Manage registry users: add NAME --password-stdin, passwd NAME --password-stdin, rm NAME, ls',
      usage: 'add|passwd|rm|ls [NAME] [OPTIONS]', args: { min: 1, max: 2 },
      flags: [...root, { name: 'password-stdin', type: 'bool', help: 'Take the password from stdin (add, passwd)' }],
      run: () => cmd().then((m) => m.user),
    },
    {
      name: 'org', description: 'Manage organisations: create ORG, add-member ORG USER --role owner|push|pull, rm-member ORG USER, rm ORG, ls',
      usage: 'create|add-member|rm-member|rm|ls [ORG] [USER] [OPTIONS]', args: { min: 1, max: 3 },
      flags: [...root, { name: 'role', type: 'string', help: 'Role of a member: owner, push or pull (default "pull")', valueName: 'string' }],
      run: () => cmd().then((m) => m.org),
    },
    {
      name: 'namespace', description: 'Manage namespaces: set-public NAME, set-private NAME, ls',
      usage: 'set-public|set-private|ls [NAME] [OPTIONS]', args: { min: 1, max: 2 }, flags: root,
      run: () => cmd().then((m) => m.namespace),
    },
  ],
}
