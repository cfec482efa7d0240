import { CliExit, type CliContext } from '../context.js'

export async function stats(_ctx: CliContext): Promise<void> {
  throw new CliExit(1, 'stats: not implemented yet')
}
