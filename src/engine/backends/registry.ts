import { credentialsOf, type AuthConfigWire } from '../../distribution/auth-header.js'
import { domainOfServerAddress, type RegistrySettings } from '../../distribution/hosts.js'
import { RegistryClient } from '../../distribution/registry-client.js'
import { parseNormalizedNamed, withTag, type Reference } from '../../distribution/reference.js'
import { Filters } from '../../lib/filters.js'
import { parsePlatform, type ImageService } from '../images/service.js'
import { pullImage } from '../images/pull.js'
import { pushImage } from '../images/push.js'
import { distributionInspect, searchRegistry } from '../images/search.js'

/** The daemon's registry configuration (daemon.json / flags). */
export interface RegistryConfig {
  insecureRegistries?: string[]
  registryMirrors?: string[]
  maxConcurrentDownloads?: number
  maxConcurrentUploads?: number
}

/** Registry settings with dockerd's defaults (3 downloads, 5 uploads at a time). */
export function registrySettingsOf(c: RegistryConfig): RegistrySettings {
  return {
    insecureRegistries: c.insecureRegistries ?? [],
    mirrors: c.registryMirrors ?? [],
    maxConcurrentDownloads: c.maxConcurrentDownloads ?? 3,
    maxConcurrentUploads: c.maxConcurrentUploads ?? 5,
  }
}

const DIGEST_TAG = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-f0-9]{32,}$/

/** The API's RegistryBackend: pull, push, login, search, distribution inspect with the daemon's settings. */
export function registryBackend(d: { images: ImageService; config: RegistryConfig }) {
  const settings = () => registrySettingsOf(d.config)
  const creds = (auth: AuthConfigWire | undefined) => {
    const c = credentialsOf(auth)
    return c ? { credentials: c } : {}
  }
  return {
    async pull(req: { image: string; tag: string; platform?: string; auth?: AuthConfigWire; progress: (m: object) => void; signal: AbortSignal }) {
      let ref: Reference = parseNormalizedNamed(req.image)
      if (req.tag) {
        // The "tag" may be a digest (docker pull x@sha256:...).
        ref = DIGEST_TAG.test(req.tag) ? parseNormalizedNamed(`${ref.name}@${req.tag}`) : withTag(ref, req.tag)
      }
      const allTags = ref.tag === undefined && ref.digest === undefined
      const platform = req.platform ? parsePlatform(req.platform) : undefined
      const c = creds(req.auth)
      await pullImage(d.images.deps, ref, { allTags, ...(platform ? { platform } : {}), ...c, settings: settings(), progress: req.progress, signal: req.signal })
    },

    async push(req: { name: string; tag: string; auth?: AuthConfigWire; progress: (m: object) => void; signal: AbortSignal }) {
      await pushImage(d.images.deps, req.name, req.tag, { ...creds(req.auth), settings: settings(), progress: req.progress, signal: req.signal })
    },

    async login(auth: AuthConfigWire, signal: AbortSignal) {
      const client = new RegistryClient({ domain: domainOfServerAddress(auth.serveraddress ?? ''), settings: settings(), ...creds(auth), signal })
      await client.checkLogin()
      return { status: 'Login Succeeded', identityToken: '' }
    },

    async search(term: string, opts: { limit: number; filters: { isOfficial?: boolean; isAutomated?: boolean; stars?: number[] }; auth?: AuthConfigWire; signal: AbortSignal }) {
      const f = opts.filters
      const filters = new Filters([
        ...(f.isOfficial !== undefined ? [['is-official', [String(f.isOfficial)]] as [string, string[]]] : []),
        ...(f.isAutomated !== undefined ? [['is-automated', [String(f.isAutomated)]] as [string, string[]]] : []),
        ...(f.stars ? [['stars', f.stars.map(String)] as [string, string[]]] : []),
      ])
      return searchRegistry(term, { limit: opts.limit, filters, settings: settings(), ...creds(opts.auth), signal: opts.signal })
    },

    distributionInspect: (name: string, opts: { auth?: AuthConfigWire; signal: AbortSignal }) =>
      distributionInspect(name, { settings: settings(), ...creds(opts.auth), signal: opts.signal }),
  }
}
