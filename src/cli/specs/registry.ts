import type { CommandSpec } from '../commands.js'

/** The registry commands (pull, push, login, logout, search), top level and under `image`. */
const cmd = () => import('../cmd/registry.js')

const PULL: CommandSpec = {
  name: 'pull',
  description: 'Download an image from a registry',
  usage: '[OPTIONS] NAME[:TAG|@DIGEST]',
  aliases: ['image pull', 'pull'],
  args: { exact: 1 },
  flags: [
    { name: 'all-tags', short: 'a', type: 'bool', help: 'Download all tagged images in the repository' },
    { name: 'disable-content-trust', type: 'bool', help: 'Skip image verification', default: true },
    { name: 'platform', type: 'string', help: 'Set platform if server is multi-platform capable', valueName: 'string' },
    { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress verbose output' },
  ],
  run: () => cmd().then((m) => m.pull),
}

const PUSH: CommandSpec = {
  name: 'push',
  description: 'Upload an image to a registry',
  usage: '[OPTIONS] NAME[:TAG]',
  aliases: ['image push', 'push'],
  args: { exact: 1 },
  flags: [
    { name: 'all-tags', short: 'a', type: 'bool', help: 'Push all tags of an image to the repository' },
    { name: 'disable-content-trust', type: 'bool', help: 'Skip image signing', default: true },
    { name: 'platform', type: 'string', help: 'Push a platform-specific manifest as a single-platform image to the registry (not supported)', valueName: 'string' },
    { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress verbose output' },
  ],
  run: () => cmd().then((m) => m.push),
}

const LOGIN: CommandSpec = {
  name: 'login',
  description: 'Authenticate to a registry',
  usage: '[OPTIONS] [SERVER]',
  args: { max: 1 },
  flags: [
    { name: 'password', short: 'p', type: 'string', help: 'Password or Personal Access Token (PAT)', valueName: 'string' },
    { name: 'password-stdin', type: 'bool', help: 'Take the Password or Personal Access Token (PAT) from stdin' },
    { name: 'username', short: 'u', type: 'string', help: 'Username', valueName: 'string' },
  ],
  run: () => cmd().then((m) => m.login),
}

const LOGOUT: CommandSpec = {
  name: 'logout',
  description: 'Log out from a registry',
  usage: '[SERVER]',
  args: { max: 1 },
  run: () => cmd().then((m) => m.logout),
}

const SEARCH: CommandSpec = {
  name: 'search',
  description: 'Search Docker Hub for images',
  usage: '[OPTIONS] TERM',
  args: { exact: 1 },
  flags: [
    { name: 'filter', short: 'f', type: 'list', help: 'Filter output based on conditions provided', valueName: 'filter' },
    { name: 'format', type: 'string', help: 'Pretty-print search using a Go template', valueName: 'string' },
    { name: 'limit', type: 'int', help: 'Max number of search results' },
    { name: 'no-trunc', type: 'bool', help: "Don't truncate output" },
  ],
  run: () => cmd().then((m) => m.search),
}

export const TOP_LEVEL: CommandSpec[] = [PULL, PUSH, LOGIN, LOGOUT, SEARCH]
export const GROUP: CommandSpec | undefined = { name: 'image', description: 'Manage images', subcommands: [PULL, PUSH] }
