import type { Readable } from 'node:stream'
import { ApiError, EngineClient, readAll, type ClientOptions, type Response } from './client.js'
import type {
  ContainerCreateRequest, ContainerInspect, ContainerSummary, ContainerTop, ContainerWaitResponse, EndpointSettings, EventMessage,
  ExecCreateRequest, ExecInspect, Filters, ImageInspect, ImageSummary, NetworkCreateRequest, NetworkInspect, ProgressMessage,
  VersionInfo, Volume, VolumeCreateRequest,
} from './types.js'

/** Whether an error is the daemon's 404 answer. */
export function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.status === 404
}

/** Whether an error is the daemon's 409 answer. */
export function isConflict(err: unknown): boolean {
  return err instanceof ApiError && err.status === 409
}

const enc = (s: string) => encodeURIComponent(s)
const filtersQuery = (f?: Filters) => (f && Object.keys(f).length ? JSON.stringify(f) : undefined)

export interface CallOpts { signal?: AbortSignal }
export type OnProgress = (msg: ProgressMessage) => void

async function drain(res: Response): Promise<void> {
  for await (const _ of res) { /* discard */ }
}

/**
 * The Docker Engine API as typed methods, grouped as dockerode and the Go SDK group them
 * (`containers.create`, `images.pull`, `networks.*`, `volumes.*`, `exec.*`, `system.*`). Every
 * method maps one endpoint; an error status throws `ApiError` with Docker's message.
 */
export class Docker {
  readonly engine: EngineClient

  constructor(opts: ClientOptions | EngineClient) {
    this.engine = opts instanceof EngineClient ? opts : new EngineClient(opts)
  }

  readonly containers = {
    list: (o: { all?: boolean; filters?: Filters; limit?: number; size?: boolean } & CallOpts = {}) =>
      this.engine.json<ContainerSummary[]>('GET', '/containers/json', { query: { all: o.all, filters: filtersQuery(o.filters), limit: o.limit, size: o.size }, signal: o.signal }),
    inspect: (id: string, o: CallOpts = {}) => this.engine.json<ContainerInspect>('GET', `/containers/${enc(id)}/json`, o),
    create: (body: ContainerCreateRequest, o: { name?: string; platform?: string } & CallOpts = {}) =>
      this.engine.json<{ Id: string; Warnings: string[] | null }>('POST', '/containers/create', { query: { name: o.name, platform: o.platform }, body, signal: o.signal }),
    start: async (id: string, o: CallOpts = {}): Promise<'started' | 'already-running'> => {
      const res = await this.engine.call('POST', `/containers/${enc(id)}/start`, o)
      await drain(res)
      return res.statusCode === 304 ? 'already-running' : 'started'
    },
    stop: async (id: string, o: { t?: number; signal?: string } & CallOpts = {}) => {
      await drain(await this.engine.call('POST', `/containers/${enc(id)}/stop`, { query: { t: o.t, signal: o.signal } }))
    },
    restart: async (id: string, o: { t?: number } = {}) => { await drain(await this.engine.call('POST', `/containers/${enc(id)}/restart`, { query: { t: o.t } })) },
    kill: async (id: string, o: { signal?: string } = {}) => { await drain(await this.engine.call('POST', `/containers/${enc(id)}/kill`, { query: { signal: o.signal } })) },
    pause: async (id: string) => { await drain(await this.engine.call('POST', `/containers/${enc(id)}/pause`)) },
    unpause: async (id: string) => { await drain(await this.engine.call('POST', `/containers/${enc(id)}/unpause`)) },
    remove: async (id: string, o: { force?: boolean; v?: boolean; link?: boolean } = {}) => {
      await drain(await this.engine.call('DELETE', `/containers/${enc(id)}`, { query: { force: o.force, v: o.v, link: o.link } }))
    },
    rename: async (id: string, name: string) => { await drain(await this.engine.call('POST', `/containers/${enc(id)}/rename`, { query: { name } })) },
    wait: (id: string, o: { condition?: 'not-running' | 'next-exit' | 'removed' } & CallOpts = {}) =>
      this.engine.json<ContainerWaitResponse>('POST', `/containers/${enc(id)}/wait`, { query: { condition: o.condition }, signal: o.signal }),
    top: (id: string, o: { psArgs?: string } = {}) => this.engine.json<ContainerTop>('GET', `/containers/${enc(id)}/top`, { query: { ps_args: o.psArgs } }),
    /** The log stream: stdcopy-framed without a TTY (split it with `demuxer`), raw with one. */
    logs: (id: string, o: { follow?: boolean; stdout?: boolean; stderr?: boolean; since?: string; until?: string; timestamps?: boolean; tail?: string } & CallOpts = {}) =>
      this.engine.call('GET', `/containers/${enc(id)}/logs`, {
        query: { follow: o.follow, stdout: o.stdout ?? true, stderr: o.stderr ?? true, since: o.since, until: o.until, timestamps: o.timestamps, tail: o.tail },
        signal: o.signal,
      }),
    /** Attach (hijacked connection): write to the socket for stdin, read the (framed) output. */
    attach: (id: string, o: { stream?: boolean; stdin?: boolean; stdout?: boolean; stderr?: boolean; logs?: boolean; detachKeys?: string } = {}) =>
      this.engine.hijack('POST', `/containers/${enc(id)}/attach`, {
        query: { stream: o.stream ?? true, stdin: o.stdin, stdout: o.stdout ?? true, stderr: o.stderr ?? true, logs: o.logs, detachKeys: o.detachKeys },
      }),
    resize: async (id: string, h: number, w: number) => { await drain(await this.engine.call('POST', `/containers/${enc(id)}/resize`, { query: { h, w } })) },
    /** A tar stream of `path` in the container. */
    getArchive: (id: string, path: string) => this.engine.call('GET', `/containers/${enc(id)}/archive`, { query: { path } }),
    putArchive: async (id: string, path: string, tar: Readable | Buffer, o: { noOverwriteDirNonDir?: boolean; copyUIDGID?: boolean } = {}) => {
      await drain(await this.engine.call('PUT', `/containers/${enc(id)}/archive`, { query: { path, noOverwriteDirNonDir: o.noOverwriteDirNonDir, copyUIDGID: o.copyUIDGID }, body: tar, headers: { 'Content-Type': 'application/x-tar' } }))
    },
    statPath: async (id: string, path: string): Promise<{ name: string; size: number; mode: number; mtime: string; linkTarget: string } | undefined> => {
      const res = await this.engine.call('HEAD', `/containers/${enc(id)}/archive`, { query: { path } })
      await drain(res)
      const h = res.headers['x-docker-container-path-stat']
      return typeof h === 'string' ? JSON.parse(Buffer.from(h, 'base64').toString('utf8')) : undefined
    },
  }

  readonly images = {
    list: (o: { all?: boolean; filters?: Filters } = {}) => this.engine.json<ImageSummary[]>('GET', '/images/json', { query: { all: o.all, filters: filtersQuery(o.filters) } }),
    inspect: (ref: string) => this.engine.json<ImageInspect>('GET', `/images/${enc(ref)}/json`),
    /** Pull `ref` (a tag defaults to latest), reporting each progress line; resolves when done. */
    pull: async (ref: string, o: { platform?: string; auth?: string; onProgress?: OnProgress } & CallOpts = {}) => {
      const { repo, tag, digest } = splitRef(ref)
      const res = await this.engine.call('POST', '/images/create', {
        query: { fromImage: repo, tag: digest ?? tag ?? 'latest', platform: o.platform },
        headers: o.auth ? { 'X-Registry-Auth': o.auth } : {},
        signal: o.signal,
      })
      for await (const m of this.engine.jsonStream<ProgressMessage>(res)) o.onProgress?.(m)
    },
    push: async (ref: string, o: { auth?: string; onProgress?: OnProgress } = {}) => {
      const { repo, tag } = splitRef(ref)
      const res = await this.engine.call('POST', `/images/${enc(repo)}/push`, { query: { tag }, headers: { 'X-Registry-Auth': o.auth ?? 'e30=' } })
      for await (const m of this.engine.jsonStream<ProgressMessage>(res)) o.onProgress?.(m)
    },
    tag: async (ref: string, repo: string, tag?: string) => { await drain(await this.engine.call('POST', `/images/${enc(ref)}/tag`, { query: { repo, tag } })) },
    remove: (ref: string, o: { force?: boolean; noprune?: boolean } = {}) =>
      this.engine.json<Array<{ Untagged?: string; Deleted?: string }>>('DELETE', `/images/${enc(ref)}`, { query: { force: o.force, noprune: o.noprune } }),
    /**
     * POST /build with a tar context; resolves with the built image ID. Build output lines
     * (`stream`) and progress go to onProgress; a build error throws.
     */
    build: async (context: Readable | Buffer, o: {
      t?: string[]; dockerfile?: string; buildargs?: Record<string, string>; labels?: Record<string, string>; target?: string; cachefrom?: string[];
      networkmode?: string; extrahosts?: string[]; shmsize?: number; pull?: boolean; nocache?: boolean; platform?: string; onProgress?: OnProgress
    } = {}): Promise<string | undefined> => {
      const res = await this.engine.call('POST', '/build', {
        query: {
          t: o.t, dockerfile: o.dockerfile, buildargs: o.buildargs ? JSON.stringify(o.buildargs) : undefined, labels: o.labels ? JSON.stringify(o.labels) : undefined,
          target: o.target, cachefrom: o.cachefrom ? JSON.stringify(o.cachefrom) : undefined, networkmode: o.networkmode,
          extrahosts: o.extrahosts?.join(','), shmsize: o.shmsize, pull: o.pull, nocache: o.nocache, platform: o.platform,
        },
        body: context,
        headers: { 'Content-Type': 'application/x-tar' },
      })
      let id: string | undefined
      for await (const m of this.engine.jsonStream<ProgressMessage>(res)) {
        if (m.aux?.ID) id = m.aux.ID
        const built = /^Successfully built ([0-9a-f]+)/.exec(m.stream ?? '')
        if (built && !id) id = built[1]
        o.onProgress?.(m)
      }
      return id
    },
  }

  readonly networks = {
    list: (o: { filters?: Filters } = {}) => this.engine.json<NetworkInspect[]>('GET', '/networks', { query: { filters: filtersQuery(o.filters) } }),
    inspect: (id: string) => this.engine.json<NetworkInspect>('GET', `/networks/${enc(id)}`),
    create: (body: NetworkCreateRequest) => this.engine.json<{ Id: string; Warning?: string }>('POST', '/networks/create', { body }),
    remove: async (id: string) => { await drain(await this.engine.call('DELETE', `/networks/${enc(id)}`)) },
    connect: async (id: string, container: string, endpoint?: EndpointSettings) => {
      await drain(await this.engine.call('POST', `/networks/${enc(id)}/connect`, { body: { Container: container, EndpointConfig: endpoint ?? {} } }))
    },
    disconnect: async (id: string, container: string, o: { force?: boolean } = {}) => {
      await drain(await this.engine.call('POST', `/networks/${enc(id)}/disconnect`, { body: { Container: container, Force: o.force ?? false } }))
    },
  }

  readonly volumes = {
    list: async (o: { filters?: Filters } = {}) => (await this.engine.json<{ Volumes: Volume[] | null }>('GET', '/volumes', { query: { filters: filtersQuery(o.filters) } })).Volumes ?? [],
    inspect: (name: string) => this.engine.json<Volume>('GET', `/volumes/${enc(name)}`),
    create: (body: VolumeCreateRequest) => this.engine.json<Volume>('POST', '/volumes/create', { body }),
    remove: async (name: string, o: { force?: boolean } = {}) => { await drain(await this.engine.call('DELETE', `/volumes/${enc(name)}`, { query: { force: o.force } })) },
  }

  readonly exec = {
    create: (container: string, body: ExecCreateRequest) => this.engine.json<{ Id: string }>('POST', `/containers/${enc(container)}/exec`, { body }),
    /** Start detached: resolves once the process runs. */
    startDetached: async (id: string) => { await drain(await this.engine.call('POST', `/exec/${enc(id)}/start`, { body: { Detach: true, Tty: false } })) },
    /** Start attached: the hijacked connection (framed output unless tty). */
    start: (id: string, o: { tty?: boolean } = {}) => this.engine.hijack('POST', `/exec/${enc(id)}/start`, { body: { Detach: false, Tty: o.tty ?? false } }),
    inspect: (id: string) => this.engine.json<ExecInspect>('GET', `/exec/${enc(id)}/json`),
    resize: async (id: string, h: number, w: number) => { await drain(await this.engine.call('POST', `/exec/${enc(id)}/resize`, { query: { h, w } })) },
  }

  readonly system = {
    ping: async () => (await readAll(await this.engine.call('GET', '/_ping'))).toString(),
    version: () => this.engine.json<VersionInfo>('GET', '/version'),
    info: () => this.engine.json<Record<string, unknown>>('GET', '/info'),
    /** The event stream until `signal` aborts (or `until` passes). */
    events: async function* (this: Docker, o: { since?: string; until?: string; filters?: Filters } & CallOpts = {}): AsyncGenerator<EventMessage> {
      const res = await this.engine.call('GET', '/events', { query: { since: o.since, until: o.until, filters: filtersQuery(o.filters) }, signal: o.signal })
      try {
        for await (const m of this.engine.jsonStream<EventMessage>(res)) yield m
      } catch (err) {
        if (o.signal?.aborted) return
        throw err
      }
    }.bind(this) as (o?: { since?: string; until?: string; filters?: Filters } & CallOpts) => AsyncGenerator<EventMessage>,
  }
}

/** `repo[:tag][@digest]`, with a registry port not mistaken for a tag. */
export function splitRef(ref: string): { repo: string; tag?: string; digest?: string } {
  let rest = ref
  let digest: string | undefined
  const at = rest.indexOf('@')
  if (at >= 0) { digest = rest.slice(at + 1); rest = rest.slice(0, at) }
  const slash = rest.lastIndexOf('/')
  const colon = rest.lastIndexOf(':')
  if (colon > slash) return { repo: rest.slice(0, colon), tag: rest.slice(colon + 1), ...(digest ? { digest } : {}) }
  return { repo: rest, ...(digest ? { digest } : {}) }
}
