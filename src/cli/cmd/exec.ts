import { CliExit, type CliContext } from '../context.js'

const later = (what: string) => async (_ctx: CliContext): Promise<void> => { throw new CliExit(1, `${what}: not implemented yet`) }
export const exec = later('exec')
export const update = later('update')
