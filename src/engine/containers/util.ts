import { stat } from 'node:fs/promises'
import { isNotFoundErrno } from '../../lib/errors.js'

export async function exists(p: string): Promise<boolean> {
  try {
    await stat(p)
    return true
  } catch (err) {
    if (isNotFoundErrno(err)) return false
    throw err
  }
}
