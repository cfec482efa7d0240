import { invalid } from '../../lib/errors.js'
import { familiarString, parseNormalizedNamed, referenceString, tagNameOnly, withTag, isValidTag, type Reference } from '../../distribution/reference.js'
import type { ImageDeps } from './deps.js'
import { labelsOf } from './load.js'
import { noSuchImage } from './store.js'

/** `docker tag`: point `repo[:tag]` (default tag `latest`) at the image `source` names. */
export async function tagImage(deps: ImageDeps, source: string, repo: string, tag?: string): Promise<void> {
  const img = deps.store.resolve(source)
  let ref: Reference
  if (tag !== undefined && tag !== '') {
    if (!isValidTag(tag)) throw invalid('ERR_INVALID_TAG', `invalid tag format`)
    ref = withTag(parseNormalizedNamed(repo), tag)
  } else {
    ref = tagNameOnly(parseNormalizedNamed(repo))
  }
  if (ref.digest !== undefined) throw invalid('ERR_INVALID_REFERENCE', 'refusing to create a tag with a digest reference')
  if (ref.path === 'library/scratch' && ref.domain === 'docker.io') throw invalid('ERR_INVALID_REFERENCE', "'scratch' is a reserved name")
  const canonical = referenceString(ref)
  // The image lock too: an rmi running meanwhile must not delete the image under the new tag.
  await using _ = await deps.store.locks.acquireAll([`ref:${canonical}`, `img:${img.record.id}`])
  if (!deps.store.get(img.record.id)) throw noSuchImage(source)
  deps.store.setRef(canonical, img.record.id)
  await deps.store.persistRefs()
  deps.events.emit('image', 'tag', img.record.id, { name: familiarString(ref), ...labelsOf(img.config) })
}
