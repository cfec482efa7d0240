import { BERTH_VERSION } from '../../lib/version.js'
import { CLIENT_API_VERSION, ConnectError, ApiError } from '../../client/client.js'
import { CliExit, type CliContext } from '../context.js'

interface ServerVersion {
  Platform?: { Name?: string }
  Components?: Array<{ Name: string; Version: string; Details?: Record<string, string> }>
  Version: string
  ApiVersion: string
  MinAPIVersion?: string
  [k: string]: unknown
}

/** `berth version`: docker's layout, the client part without the daemon if it is down. */
export async function version(ctx: CliContext): Promise<number> {
  const client = ctx.client()
  let server: ServerVersion | undefined
  let serverErr: Error | undefined
  try {
    server = await client.json<ServerVersion>('GET', '/version')
  } catch (err) {
    if (!(err instanceof ConnectError || err instanceof ApiError)) throw err
    serverErr = err
  }
  const a = process.arch === 'x64' ? 'amd64' : process.arch
  const clientInfo = {
    Platform: { Name: '' },
    Version: BERTH_VERSION,
    ApiVersion: client.apiVersion,
    DefaultAPIVersion: CLIENT_API_VERSION,
    GoVersion: `node ${process.version}`,
    GitCommit: '',
    BuildTime: '',
    Os: process.platform,
    Arch: a,
    Context: 'default',
  }
  const format = ctx.flags.format as string | undefined
  if (format) {
    const { executeTemplate } = await import('../format.js')
    ctx.out.write(`${executeTemplate(format, { Client: clientInfo, Server: server ?? null })}\n`)
  } else {
    const rows: Array<[string, string] | string> = [
      'Client:',
      [' Version:', clientInfo.Version],
      [' API version:', clientInfo.ApiVersion + (clientInfo.ApiVersion !== CLIENT_API_VERSION ? ` (downgraded from ${CLIENT_API_VERSION})` : '')],
      [' Node version:', process.version],
      [' OS/Arch:', `${clientInfo.Os}/${clientInfo.Arch}`],
      [' Context:', 'default'],
    ]
    if (server) {
      rows.push('', `Server:${server.Platform?.Name ? ` ${server.Platform.Name}` : ''}`)
      for (const c of server.Components ?? []) {
        rows.push(` ${c.Name}:`)
        const d = c.Details ?? {}
        if (c.Name === 'Engine') {
          rows.push(['  Version:', c.Version], ['  API version:', `${d.ApiVersion} (minimum version ${d.MinAPIVersion})`], ['  Go version:', d.GoVersion ?? ''],
            ['  Git commit:', d.GitCommit ?? ''], ['  Built:', d.BuildTime ?? ''], ['  OS/Arch:', `${d.Os}/${d.Arch}`], ['  Experimental:', d.Experimental ?? 'false'])
          if (d.KernelVersion) rows.push(['  Kernel Version:', d.KernelVersion])
        } else {
          rows.push(['  Version:', c.Version])
          for (const k of Object.keys(d).sort()) rows.push([`  ${k}:`, d[k] ?? ''])
        }
      }
    }
    // Go's tabwriter with minwidth 20, padding 1, as docker version prints.
    ctx.out.write(rows.map((r) => (typeof r === 'string' ? r : `${r[0].padEnd(Math.max(20, r[0].length + 1))}${r[1]}`)).join('\n') + '\n')
  }
  if (serverErr) throw new CliExit(1, serverErr instanceof ApiError ? `Error response from daemon: ${serverErr.message}` : serverErr.message)
  return 0
}
