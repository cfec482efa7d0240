export type { ContainerConfigFields as ContainerConfigFile } from './types.js'
