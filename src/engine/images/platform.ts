import { arch, platform as osPlatform } from 'node:os'
import { invalid } from '../../lib/errors.js'

/** The platform of this host in OCI terms (`linux/amd64`, `linux/arm64/v8`). */
export function hostPlatform(): { os: string; architecture: string; variant?: string } {
  const a = arch()
  const architecture = a === 'x64' ? 'amd64' : a === 'arm64' ? 'arm64' : a === 'arm' ? 'arm' : a === 'ia32' ? '386' : a
  return { os: osPlatform() === 'linux' ? 'linux' : osPlatform(), architecture, ...(a === 'arm64' ? { variant: 'v8' } : {}) }
}

/** Parse `os[/arch[/variant]]` as `--platform` takes it; the architecture defaults to the host's. */
export function parsePlatform(s: string): { os: string; architecture: string; variant?: string } {
  const parts = s.toLowerCase().split('/')
  if (parts.length < 1 || parts.length > 3 || parts.some((p) => !p)) throw invalid('ERR_INVALID_PLATFORM', `"${s}": unknown operating system or architecture: invalid argument`)
  const [os, architecture = hostPlatform().architecture, variant] = parts as [string, string?, string?]
  const normArch = architecture === 'x86_64' || architecture === 'x86-64' ? 'amd64' : architecture === 'aarch64' ? 'arm64' : architecture
  return { os, architecture: normArch, ...(variant ? { variant } : {}) }
}
