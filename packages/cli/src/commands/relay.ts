/**
 * `orchard relay`: the relay on SQLite, its workspace created on the first start (with the
 * demo projects under --demo). Prints what a new user needs (or one JSON line with --json),
 * stores everything and exits 0 on Ctrl-C / SIGTERM.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs'
import { dirname } from 'node:path'
import { findObserverDist, observerLink, observerPage } from '../observer-assets.js'
import { DEFAULT_LIMITS, RelayCore, RelayServer, ThreadedSqliteStorage, type Durability } from '@orchard/relay'
import { createLogger, relayLogger } from '../logger.js'
import { createOwnerFile, ownerFilePath, readOwnerFile, writeRelayUrl, type OwnerFile } from '../owner-file.js'
import { assertPortFree, portInUse } from '../port-check.js'
import { relayLimitsFromFlags, type RelayLimitFlags } from './relay-limit-options.js'

export interface RelayOptions extends RelayLimitFlags {
  port: number
  host: string
  data: string
  json?: boolean
  demo?: boolean
  durability: Durability
  logLevel: string
}

/** What a script reads from `orchard relay --json` (one line). */
export interface RelayJsonLine {
  workspaceId: string
  url: string
  ownerToken: string
  editorInvite: string | null
  viewerInvite: string | null
  /** The web observer's page, or null when its build is missing (CLI-10). */
  observer: string | null
  /** The page with the viewer invite in its fragment: open it to watch (CLI-10). */
  observerLink: string | null
  adminToken: string
  data: string
}

export async function runRelay(options: RelayOptions): Promise<number> {
  // Everything that can be refused is refused before the data file exists.
  const limits = relayLimitsFromFlags(options, DEFAULT_LIMITS)
  const previous = readOwnerFile(options.data)
  await assertPortFree(options.host, options.port)
  const dataExisted = existsSync(options.data)
  mkdirSync(dirname(options.data), { recursive: true })

  // Listen for Ctrl-C / SIGTERM before anything starts: until a listener exists the default
  // action kills the process, so a signal sent right after the JSON line (or during
  // start-up) would skip the graceful stop.
  const stopSignal = waitForStopSignal()
  const log = createLogger(options.logLevel)
  // Doc writes (and their fsyncs) on a worker thread, off the event loop (STORE-SQL-8).
  const storage = new ThreadedSqliteStorage({ path: options.data, durability: options.durability })
  storage.onFatal = (error) => {
    // A relay that cannot store must not keep acknowledging: stop, loudly.
    log.fatal({ err: error }, 'storage failed, stopping')
    console.error(`orchard relay: storage failed, stopping: ${error.message}`)
    process.exit(1)
  }
  const core = new RelayCore({ storage, logger: relayLogger(log), limits })
  const observerDir = findObserverDist()
  const server = new RelayServer(core, {
    port: options.port,
    host: options.host,
    ...(previous ? { adminToken: previous.adminToken } : {}),
    ...(observerDir ? { staticDir: observerDir } : {})
  })
  let url: string
  try {
    url = await server.listen()
  } catch (error) {
    await core.close().catch(() => undefined)
    if (!dataExisted) for (const suffix of ['', '-wal', '-shm']) rmSync(options.data + suffix, { force: true })
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw portInUse(options.host, options.port)
    throw error
  }

  const existing = await core.listWorkspaces()
  let owner: OwnerFile | undefined = previous
  let invites: { editor: string; viewer: string } | null = null
  if (existing.length === 0) {
    // Imported only for --demo: the workspace package's file I/O half is not needed to serve (issue 12: start time).
    const seed = options.demo ? (await import('../demo.js')).demoWorkspaceUpdate() : undefined
    const created = await core.createWorkspace(options.demo ? 'Demo workspace' : 'Workspace', 'Owner', seed)
    owner = { workspaceId: created.workspace.id, relayUrl: url, ownerCredential: created.credential, adminToken: server.adminToken }
    const editor = await core.auth.createInvite(owner.workspaceId, { role: 'editor', createdBy: created.member.id, relayUrl: url })
    const viewer = await core.auth.createInvite(owner.workspaceId, { role: 'viewer', createdBy: created.member.id, relayUrl: url })
    invites = { editor: editor.token, viewer: viewer.token }
    if (!previous) createOwnerFile(options.data, owner)
  }
  writeRelayUrl(options.data, url)
  const workspaceId = owner?.workspaceId ?? (existing[0] as { id: string }).id
  log.info({ url, data: options.data, workspaceId }, 'listening')

  if (options.json) {
    const line: RelayJsonLine = {
      workspaceId,
      url,
      ownerToken: owner?.ownerCredential ?? '',
      editorInvite: invites?.editor ?? null,
      viewerInvite: invites?.viewer ?? null,
      observer: observerDir ? observerPage(url) : null,
      observerLink: observerDir && invites ? observerLink(url, invites.viewer) : null,
      adminToken: server.adminToken,
      data: options.data
    }
    console.log(JSON.stringify(line))
  } else {
    printBanner(options, url, workspaceId, owner, invites, observerDir !== null)
  }

  const signal = await stopSignal
  if (!options.json) console.log(`\n${signal}: storing everything and stopping...`)
  await server.close()
  return 0
}

function printBanner(options: RelayOptions, url: string, workspaceId: string, owner: OwnerFile | undefined, invites: { editor: string; viewer: string } | null, observer: boolean): void {
  const ownerPath = ownerFilePath(options.data)
  console.log(`Orchard relay listening on ${url} (data: ${options.data})`)
  if (invites && owner) {
    console.log(`Created ${options.demo ? 'the demo workspace, with 3 Pear projects' : 'a workspace'} (id ${workspaceId}).`)
    console.log(`  Owner credential (keep it secret; also saved in ${ownerPath}):\n    ${owner.ownerCredential}`)
    console.log(`  Invite for an editor:\n    ${invites.editor}`)
    console.log(`  Invite for a viewer:\n    ${invites.viewer}`)
    if (observer) console.log(`  Watch in a browser (the web observer, as that viewer):\n    ${observerLink(url, invites.viewer)}`)
    console.log('Next:')
    console.log('  - Join from an app:  WorkspaceSession.join("<invite>", { name: "Ben", file: "projects.json" })  (@orchard/client)')
    console.log('  - See two instances share it:  npx -y pnpm@10.34.8 example:two-instances')
    console.log(`  - More invites:  npx -y pnpm@10.34.8 orchard invite --role viewer --data ${options.data}`)
  } else if (owner) {
    console.log(`Serving workspace ${workspaceId}. Make invites with: npx -y pnpm@10.34.8 orchard invite --role editor --data ${options.data}`)
  } else {
    console.log(`Serving workspace ${workspaceId}. No owner credential is saved (${ownerPath} is missing): management commands need --token <owner credential>.`)
  }
  const http = url.replace('ws://', 'http://')
  if (observer) console.log(`Web observer: ${observerPage(url)}`)
  else console.log('Web observer: not built (run `npx -y pnpm@10.34.8 build`), so not served.')
  console.log(`Health: ${http}/healthz   Metrics: ${http}/metrics   Stop: Ctrl-C`)
}

/**
 * Resolves with the first SIGINT or SIGTERM. Repeats are ignored: a package manager forwards
 * the terminal's Ctrl-C a second time (pnpm does), and a second default-action signal would
 * kill the relay mid-store, ending `pnpm start` in "ELIFECYCLE Command failed".
 */
function waitForStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let stopping = false
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return
      stopping = true
      resolve(signal)
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
}
