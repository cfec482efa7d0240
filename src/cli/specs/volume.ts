import type { CommandSpec } from '../commands.js'

/**
 * The volume commands, as named in the command table (top level and under their group).
 * Scaffold: filled in by the volume work.
 */
export const TOP_LEVEL: CommandSpec[] = []
export const GROUP: CommandSpec | undefined = undefined
