import type { DeleteItem, EngineEvent, HistoryItem, ImageDetail, ImageSummary } from './backend.js'
import { compareVersions } from './http.js'

/** Explicit mappers between the engine's camelCase models and Docker's wire names. */

export function toWireImageSummary(s: ImageSummary, version: string): Record<string, unknown> {
  const out: Record<string, unknown> = {
    Containers: s.containers,
    Created: s.created,
    Id: s.id,
    Labels: Object.keys(s.labels).length ? s.labels : null,
    ParentId: s.parentId,
    RepoDigests: s.repoDigests,
    RepoTags: s.repoTags,
    SharedSize: s.sharedSize,
    Size: s.size,
  }
  // VirtualSize was removed in API 1.44.
  if (compareVersions(version, '1.44') < 0) out.VirtualSize = s.size
  // Before 1.43? Older clients expected <none> placeholders for dangling images.
  if (compareVersions(version, '1.43') < 0 && s.repoTags.length === 0 && s.repoDigests.length === 0) {
    out.RepoTags = ['<none>:<none>']
    out.RepoDigests = ['<none>@<none>']
  }
  return out
}

export function toWireImageInspect(d: ImageDetail, version: string): Record<string, unknown> {
  const img = d.image
  const opts = { graphDriverData: d.graphDriver, version }
  const c = img.config
  const cfg = c.config ?? {}
  const out: Record<string, unknown> = {
    Id: img.record.id,
    RepoTags: d.repoTags,
    RepoDigests: d.repoDigests,
    Parent: img.record.parent ?? '',
    Comment: c.comment ?? '',
    Created: c.created ?? img.record.loadedAt,
    DockerVersion: c.docker_version ?? '',
    Author: c.author ?? '',
    Config: toWireImageConfig(cfg, opts.version),
    Architecture: c.architecture ?? '',
    ...(c.variant ? { Variant: c.variant } : {}),
    Os: c.os ?? '',
    ...(c['os.version'] ? { OsVersion: c['os.version'] } : {}),
    Size: img.record.size,
    GraphDriver: { Data: opts.graphDriverData, Name: 'overlay2' },
    RootFS: { Type: 'layers', Layers: c.rootfs?.diff_ids ?? [] },
    Metadata: { LastTagTime: img.record.lastTagTime ?? '0001-01-01T00:00:00Z' },
  }
  if (compareVersions(opts.version, '1.44') < 0) out.VirtualSize = img.record.size
  if (compareVersions(opts.version, '1.45') < 0) {
    out.Container = ''
    out.ContainerConfig = emptyContainerConfig()
  }
  return out
}

function emptyContainerConfig(): Record<string, unknown> {
  return {
    Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false,
    Tty: false, OpenStdin: false, StdinOnce: false, Env: null, Cmd: null, Image: '', Volumes: null,
    WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: null,
  }
}

/** The image's container config as Docker reports it (OCI fields; older APIs get the full legacy shape). */
function toWireImageConfig(cfg: Record<string, unknown>, version: string): Record<string, unknown> {
  const base: Record<string, unknown> = compareVersions(version, '1.46') < 0
    ? { ...emptyContainerConfig(), ...cfg }
    : {
        ...(cfg.User !== undefined ? { User: cfg.User } : {}),
        ...(cfg.ExposedPorts ? { ExposedPorts: cfg.ExposedPorts } : {}),
        Env: cfg.Env ?? null,
        Cmd: cfg.Cmd ?? null,
        ...(cfg.Healthcheck ? { Healthcheck: cfg.Healthcheck } : {}),
        ...(cfg.ArgsEscaped ? { ArgsEscaped: cfg.ArgsEscaped } : {}),
        Volumes: cfg.Volumes ?? null,
        WorkingDir: cfg.WorkingDir ?? '',
        Entrypoint: cfg.Entrypoint ?? null,
        OnBuild: cfg.OnBuild ?? null,
        Labels: cfg.Labels ?? null,
        ...(cfg.StopSignal ? { StopSignal: cfg.StopSignal } : {}),
        ...(cfg.Shell ? { Shell: cfg.Shell } : {}),
      }
  return base
}

export function toWireHistory(h: HistoryItem): Record<string, unknown> {
  return { Id: h.id, Created: h.created, CreatedBy: h.createdBy, Tags: h.tags.length ? h.tags : null, Size: h.size, Comment: h.comment }
}

export function toWireDeleteItems(items: DeleteItem[]): Array<Record<string, string>> {
  return items.map((i): Record<string, string> => (i.untagged !== undefined ? { Untagged: i.untagged } : { Deleted: i.deleted! }))
}

export function toWireEvent(e: EngineEvent): Record<string, unknown> {
  const time = Number(e.timeNano / 1_000_000_000n)
  const out: Record<string, unknown> = {}
  // Deprecated fields kept for API < 1.52 clients.
  if (e.type === 'container' || e.type === 'image' || e.type === 'plugin') {
    out.status = e.action
    out.id = e.actor.id
    if (e.actor.attributes.image) out.from = e.actor.attributes.image
  }
  return {
    ...out,
    Type: e.type,
    Action: e.action,
    Actor: { ID: e.actor.id, Attributes: e.actor.attributes },
    scope: e.scope,
    time,
  }
}

/** One event as a JSON line; timeNano is written exactly (it does not fit a JS number). */
export function eventJson(e: EngineEvent): string {
  const body = JSON.stringify(toWireEvent(e))
  return `${body.slice(0, -1)},"timeNano":${e.timeNano.toString()}}`
}
