import { EngineError, invalid } from '../../lib/errors.js'
import type { Ctx } from './deps.js'

/** `docker rename`: the new name reserved first (a taken one is Docker's conflict), then recorded. */
export async function renameContainer(ctx: Ctx, ref: string, newName: string): Promise<void> {
  const { store } = ctx
  const rec = store.resolve(ref)
  const name = newName.replace(/^\//, '')
  if (!name) throw invalid('ERR_INVALID_NAME', 'Neither old nor new names may be empty')
  if (name === rec.name) throw invalid('ERR_SAME_NAME', 'Renaming a container with the same name as its current name')
  const old = rec.name
  try {
    store.reserveName(name, rec.id)
  } catch (err) {
    // Docker's words, which Compose looks for when it renames during a recreate.
    if (err instanceof EngineError) throw new EngineError(err.kind, err.code, `Error when allocating new name: ${err.message}`, err)
    throw err
  }
  rec.name = name
  store.releaseName(old, rec.id)
  await store.save(rec)
  ctx.state.emit(rec, 'rename', { oldName: `/${old}` })
}
