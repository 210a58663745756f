/**
 * A real relay on a real port serving the built observer, on a SQLite file so it can be
 * stopped and started again on the same port with everything kept (the restart test).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RelayCore, RelayServer, SqliteStorage, type RelayLimits } from '@orchard/relay'

export interface ObserverRelay {
  url: string
  /** http://127.0.0.1:port/ — where the page is. */
  page: string
  workspaceId: string
  ownerCredential: string
  core: RelayCore
  /** Stops the relay; start() brings it back on the same port and file. */
  stop(): Promise<void>
  start(): Promise<void>
  close(): Promise<void>
}

export async function startObserverRelay(staticDir: string, limits: Partial<RelayLimits> = {}): Promise<ObserverRelay> {
  const dir = mkdtempSync(join(tmpdir(), 'orchard-observer-'))
  const path = join(dir, 'relay.db')
  let port = 0
  let server: RelayServer | null = null
  const open = async () => {
    const core = new RelayCore({
      storage: new SqliteStorage({ path, durability: 'normal' }),
      limits: { awarenessIntervalMs: 0, ...limits },
      logger: { info: () => {}, error: (message) => (process.env.ORCHARD_DEBUG ? console.error(message) : undefined) }
    })
    server = new RelayServer(core, { port, staticDir })
    const url = await server.listen()
    port = server.port
    return { core, url }
  }
  const first = await open()
  const created = await first.core.createWorkspace('Observer test', 'Ana')
  const relay: ObserverRelay = {
    url: first.url,
    page: `${first.url.replace('ws://', 'http://')}/`,
    workspaceId: created.workspace.id,
    ownerCredential: created.credential,
    core: first.core,
    async stop() {
      await server?.close()
      server = null
    },
    async start() {
      relay.core = (await open()).core
    },
    async close() {
      await server?.close()
      server = null
      rmSync(dir, { recursive: true, force: true })
    }
  }
  return relay
}
