import { CliExit, type CliContext } from '../context.js'

const later = (what: string) => async (_ctx: CliContext): Promise<void> => { throw new CliExit(1, `${what}: not implemented yet`) }
export const cp = later('cp')
export const diff = later('diff')
export const exportCmd = later('export')
export const commit = later('commit')
