/**
 * The `orchard` command.
 *   orchard relay [--port 4455] [--host 127.0.0.1] [--data ./orchard.db] [--json] [--demo] [--durability full|normal]
 *   orchard invite --role editor|viewer [--expires 7d] [--max-uses N]
 *   orchard invites | orchard revoke <inviteId>
 *   orchard members | orchard role <memberId> <owner|editor|viewer> | orchard remove <memberId>
 * Management commands talk to the running relay as the owner (so removals and role
 * changes reach live sockets at once), using the credential saved next to the data file
 * on first start (`<data>.owner.json`, readable only by you), or --relay and --token.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { RelayProvider, webSocketTransport } from '@orchard/client'
import { demoWorkspaceUpdate } from './demo.js'
import { RelayCore } from './RelayCore.js'
import { RelayServer } from './server/RelayServer.js'
import type { Durability } from './storage/SqliteStorage.js'
import { ThreadedSqliteStorage } from './storage/ThreadedSqliteStorage.js'

interface OwnerFile {
  workspaceId: string
  relayUrl: string
  ownerCredential: string
  adminToken: string
}

const USAGE = `Usage:
  orchard relay [--port 4455] [--host 127.0.0.1] [--data ./orchard.db] [--json] [--demo] [--durability full|normal]
  orchard invite --role editor|viewer [--expires 7d] [--max-uses N]
  orchard invites
  orchard revoke <inviteId>
  orchard members
  orchard role <memberId> owner|editor|viewer
  orchard remove <memberId>
Management commands use <data>.owner.json (written on the relay's first start), or --relay <ws-url> --token <owner credential>.`

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      data: { type: 'string' },
      json: { type: 'boolean' },
      demo: { type: 'boolean' },
      durability: { type: 'string' },
      role: { type: 'string' },
      expires: { type: 'string' },
      'max-uses': { type: 'string' },
      relay: { type: 'string' },
      token: { type: 'string' },
      help: { type: 'boolean' }
    }
  })
  const dataPath = resolve(values.data ?? './orchard.db')
  if (values.help || !command) {
    console.log(USAGE)
    return command ? 0 : 2
  }
  if (command === 'relay') return runRelay({ ...values, dataPath })
  const manage = ['invite', 'invites', 'revoke', 'members', 'role', 'remove']
  if (!manage.includes(command)) {
    console.error(`Unknown command "${command}".\n${USAGE}`)
    return 2
  }
  return runManagement(command, positionals, { ...values, dataPath })
}

async function runRelay(options: { port?: string; host?: string; json?: boolean; demo?: boolean; durability?: string; dataPath: string }): Promise<number> {
  const durability = (options.durability ?? 'full') as Durability
  if (durability !== 'full' && durability !== 'normal') {
    console.error('--durability must be "full" (survives power loss) or "normal" (survives a crash of the relay process).')
    return 2
  }
  mkdirSync(dirname(options.dataPath), { recursive: true })
  // Doc writes (and their fsyncs) on a worker thread, off the event loop (STORE-SQL-8).
  const storage = new ThreadedSqliteStorage({ path: options.dataPath, durability })
  storage.onFatal = (error) => {
    // A relay that cannot store must not keep acknowledging: stop, loudly.
    console.error(`orchard relay: storage failed, stopping: ${error.message}`)
    process.exit(1)
  }
  const core = new RelayCore({ storage })
  const ownerPath = `${options.dataPath}.owner.json`
  const previous = existsSync(ownerPath) ? (JSON.parse(readFileSync(ownerPath, 'utf8')) as OwnerFile) : null
  const server = new RelayServer(core, {
    port: Number(options.port ?? 4455),
    host: options.host ?? '127.0.0.1',
    ...(previous ? { adminToken: previous.adminToken } : {})
  })
  const url = await server.listen()

  const existing = await core.listWorkspaces()
  let owner: OwnerFile
  let invites: { editor: string; viewer: string } | null = null
  let firstStart = false
  if (existing.length === 0) {
    firstStart = true
    const created = await core.createWorkspace(options.demo ? 'Demo workspace' : 'Workspace', 'Owner', options.demo ? demoWorkspaceUpdate() : undefined)
    owner = { workspaceId: created.workspace.id, relayUrl: url, ownerCredential: created.credential, adminToken: server.adminToken }
    const editor = await core.auth.createInvite(owner.workspaceId, { role: 'editor', createdBy: created.member.id, relayUrl: url })
    const viewer = await core.auth.createInvite(owner.workspaceId, { role: 'viewer', createdBy: created.member.id, relayUrl: url })
    invites = { editor: editor.token, viewer: viewer.token }
  } else if (previous) {
    owner = { ...previous, relayUrl: url }
  } else {
    owner = { workspaceId: (existing[0] as { id: string }).id, relayUrl: url, ownerCredential: '', adminToken: server.adminToken }
  }
  writeFileSync(ownerPath, JSON.stringify(owner, null, 2) + '\n', { mode: 0o600 })
  chmodSync(ownerPath, 0o600)

  if (options.json) {
    console.log(
      JSON.stringify({
        workspaceId: owner.workspaceId,
        url,
        ownerToken: owner.ownerCredential,
        editorInvite: invites?.editor ?? null,
        viewerInvite: invites?.viewer ?? null,
        adminToken: server.adminToken,
        data: options.dataPath
      })
    )
  } else {
    console.log(`Orchard relay listening on ${url} (data: ${options.dataPath})`)
    if (firstStart && invites) {
      console.log(`Created ${options.demo ? 'the demo workspace, with 3 Pear projects' : 'a workspace'} (id ${owner.workspaceId}).`)
      console.log(`  Owner credential (keep it secret; also saved in ${ownerPath}):\n    ${owner.ownerCredential}`)
      console.log(`  Invite for an editor:\n    ${invites.editor}`)
      console.log(`  Invite for a viewer:\n    ${invites.viewer}`)
      console.log('Next:')
      console.log('  - Join from an app:  WorkspaceSession.join("<invite>", { name: "Ben", file: "projects.json" })  (@orchard/client)')
      console.log('  - See two instances share it:  npx -y pnpm@10.34.8 example:two-instances')
      console.log(`  - More invites:  npx -y pnpm@10.34.8 orchard invite --role viewer --data ${options.dataPath}`)
    } else {
      console.log(`Serving workspace ${owner.workspaceId}. Make invites with: npx -y pnpm@10.34.8 orchard invite --role editor --data ${options.dataPath}`)
    }
    console.log('Health: ' + url.replace('ws://', 'http://') + '/healthz   Metrics: ' + url.replace('ws://', 'http://') + '/metrics   Stop: Ctrl-C')
  }

  await new Promise<void>((resolvePromise) => {
    const stop = (signal: string) => {
      if (!options.json) console.log(`\n${signal}: storing everything and stopping...`)
      void server.close().then(() => resolvePromise())
    }
    process.once('SIGINT', () => stop('SIGINT'))
    process.once('SIGTERM', () => stop('SIGTERM'))
  })
  return 0
}

async function runManagement(
  command: string,
  positionals: string[],
  options: { role?: string; expires?: string; 'max-uses'?: string; relay?: string; token?: string; json?: boolean; dataPath: string }
): Promise<number> {
  const ownerPath = `${options.dataPath}.owner.json`
  const saved = existsSync(ownerPath) ? (JSON.parse(readFileSync(ownerPath, 'utf8')) as OwnerFile) : null
  const relayUrl = options.relay ?? saved?.relayUrl
  const credential = options.token ?? saved?.ownerCredential
  if (!relayUrl || !credential) {
    console.error(`No relay to talk to: start one with "orchard relay --data ${options.dataPath}", or pass --relay <ws-url> --token <owner credential>.`)
    return 2
  }
  const provider = new RelayProvider({ transport: webSocketTransport(relayUrl), credential, instanceId: `cli-${process.pid}`, label: 'orchard cli', docs: {} })
  try {
    await new Promise<void>((resolvePromise, reject) => {
      const timer = setTimeout(() => reject(new Error(`The relay at ${relayUrl} did not answer. Is it running?`)), 10_000)
      provider.on('welcome', () => {
        clearTimeout(timer)
        resolvePromise()
      })
      provider.on('stopped', (reason) => {
        clearTimeout(timer)
        reject(new Error(reason.message))
      })
    })
    const result = await manage(provider, command, positionals, options)
    console.log(options.json ? JSON.stringify(result) : typeof result === 'string' ? result : JSON.stringify(result, null, 2))
    return 0
  } catch (error) {
    console.error((error as Error).message)
    return 1
  } finally {
    provider.destroy()
  }
}

async function manage(provider: RelayProvider, command: string, positionals: string[], options: { role?: string; expires?: string; 'max-uses'?: string }): Promise<unknown> {
  switch (command) {
    case 'invite': {
      if (options.role !== 'editor' && options.role !== 'viewer') throw new Error('Say which role the invite gives: --role editor or --role viewer.')
      const expiresInMs = options.expires ? parseDuration(options.expires) : undefined
      const maxUses = options['max-uses'] ? Number(options['max-uses']) : undefined
      const result = await provider.request<{ token: string }>('invite.create', { role: options.role, ...(expiresInMs ? { expiresInMs } : {}), ...(maxUses ? { maxUses } : {}) })
      return result.token
    }
    case 'invites':
      return provider.request('invite.list')
    case 'revoke':
      return provider.request('invite.revoke', { inviteId: required(positionals[0], 'the invite id') })
    case 'members':
      return provider.request('member.list')
    case 'role':
      return provider.request('member.setRole', { memberId: required(positionals[0], 'the member id'), role: required(positionals[1], 'the role') })
    case 'remove':
      return provider.request('member.remove', { memberId: required(positionals[0], 'the member id') })
    default:
      throw new Error(USAGE)
  }
}

function required(value: string | undefined, what: string): string {
  if (!value) throw new Error(`Missing ${what}.\n${USAGE}`)
  return value
}

/** 30s, 15m, 12h, 7d -> ms. */
export function parseDuration(text: string): number {
  const match = /^(\d+)\s*(s|m|h|d)$/.exec(text.trim())
  if (!match) throw new Error(`"${text}" is not a duration; use e.g. 30m, 12h or 7d.`)
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd']
  return Number(match[1]) * unit
}


if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : String(error))
      process.exit(1)
    }
  )
}
