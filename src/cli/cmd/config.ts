/** `berth config create|ls|inspect|rm`, as the docker CLI 28 (shared with secret.ts). */
import type { CliContext } from '../context.js'
import { createObject, inspectObjects, listObjects, removeObjects } from './secret.js'

export const create = (ctx: CliContext) => createObject(ctx, 'config')
export const ls = (ctx: CliContext) => listObjects(ctx, 'config')
export const inspect = (ctx: CliContext) => inspectObjects(ctx, 'config')
export const rm = (ctx: CliContext) => removeObjects(ctx, 'config')
