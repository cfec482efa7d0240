import type { CommandSpec } from '../commands.js'

const build: CommandSpec = {
  name: 'build',
  description: 'Build an image from a Dockerfile',
  usage: '[OPTIONS] PATH | URL | -',
  aliases: ['image build', 'build'],
  args: { exact: 1 },
  flags: [
    { name: 'add-host', type: 'list', help: 'Add a custom host-to-IP mapping ("host:ip")', valueName: 'list' },
    { name: 'build-arg', type: 'list', help: 'Set build-time variables', valueName: 'list' },
    { name: 'cache-from', type: 'list', help: 'Images to consider as cache sources', valueName: 'strings' },
    { name: 'explain-cache', type: 'bool', help: 'Say why each step missed the build cache (berth)' },
    { name: 'file', short: 'f', type: 'string', help: 'Name of the Dockerfile (Default is "PATH/Dockerfile")', valueName: 'string' },
    { name: 'force-rm', type: 'bool', help: 'Always remove intermediate containers' },
    { name: 'iidfile', type: 'string', help: 'Write the image ID to the file', valueName: 'string' },
    { name: 'label', type: 'list', help: 'Set metadata for an image', valueName: 'list' },
    { name: 'memory', short: 'm', type: 'string', help: 'Memory limit', valueName: 'bytes' },
    { name: 'memory-swap', type: 'string', help: 'Swap limit equal to memory plus swap: -1 to enable unlimited swap', valueName: 'bytes' },
    { name: 'network', type: 'string', help: 'Set the networking mode for the RUN instructions during build', valueName: 'string', default: 'default' },
    { name: 'no-cache', type: 'bool', help: 'Do not use cache when building the image' },
    { name: 'platform', type: 'string', help: 'Set platform if server is multi-platform capable', valueName: 'string' },
    { name: 'pull', type: 'bool', help: 'Always attempt to pull a newer version of the image' },
    { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress the build output and print image ID on success' },
    { name: 'rm', type: 'bool', help: 'Remove intermediate containers after a successful build', default: true },
    { name: 'shm-size', type: 'string', help: 'Size of /dev/shm', valueName: 'bytes' },
    { name: 'tag', short: 't', type: 'list', help: 'Name and optionally a tag in the "name:tag" format', valueName: 'list' },
    { name: 'target', type: 'string', help: 'Set the target build stage to build.', valueName: 'string' },
  ],
  run: () => import('../cmd/build.js').then((m) => m.build),
}

/** The build commands, as named in the command table (top level and under their group). */
export const TOP_LEVEL: CommandSpec[] = [build]
export const GROUP: CommandSpec | undefined = { name: 'image', description: 'Manage images', subcommands: [build] }
