/**
 * A plain Yjs app on the Orchard relay: two stock y-websocket `WebsocketProvider`s (the
 * y-websocket package, unchanged) sync a Y.Doc through the relay at
 * ws://127.0.0.1:<port>/<workspaceId>?token=<credential>, and an Orchard WorkspaceSession
 * on the same workspace sees their edits (and they see Orchard's).
 * Run: npx -y pnpm@10.34.8 example:plain-yjs
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { WorkspaceSession } from '@orchard/client'

const repoRoot = fileURLToPath(new URL('..', import.meta.url))
// The `orchard` command as built (what `pnpm orchard` and `pnpm start` run; `pnpm install`
// builds it): the relay is a program of its own, started on plain Node.
const relayBin = fileURLToPath(new URL('../packages/cli/dist/bin.mjs', import.meta.url))
/** Every wait is bounded: a step, the relay's start, the whole run. */
const STEP_TIMEOUT_MS = 10_000
const BOOT_TIMEOUT_MS = 15_000
const WHOLE_RUN_TIMEOUT_MS = 25_000

interface RelayInfo {
  workspaceId: string
  url: string
  ownerToken: string
}

function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** Resolves once `holds()` is true, re-checking after every update of `doc`. */
function until(doc: Y.Doc, what: string, holds: () => boolean): Promise<void> {
  return within(
    STEP_TIMEOUT_MS,
    what,
    new Promise<void>((resolve) => {
      if (holds()) return resolve()
      const onUpdate = () => {
        if (!holds()) return
        doc.off('update', onUpdate)
        resolve()
      }
      doc.on('update', onUpdate)
    })
  )
}

function stockSynced(provider: WebsocketProvider, what: string): Promise<void> {
  return within(
    STEP_TIMEOUT_MS,
    what,
    new Promise<void>((resolve) => {
      if (provider.synced) return resolve()
      const onSync = (synced: boolean) => {
        if (!synced) return
        provider.off('sync', onSync)
        resolve()
      }
      provider.on('sync', onSync)
    })
  )
}

/** Project names straight from the raw doc (the layout @orchard/workspace writes). */
function projectNames(doc: Y.Doc): string[] {
  const order = doc.getArray<string>('projectOrder').toArray()
  const projects = doc.getMap<Y.Map<unknown>>('projects')
  return [...new Set(order)].flatMap((id) => {
    const name = projects.get(id)?.get('name')
    return typeof name === 'string' ? [name] : []
  })
}

function startRelay(dataFile: string): Promise<{ child: ChildProcess; info: RelayInfo; stderr: () => string }> {
  if (!existsSync(relayBin)) return Promise.reject(new Error(`the orchard command is not built (${relayBin}): run \`npx -y pnpm@10.34.8 build\` first`))
  const child = spawn(process.execPath, [relayBin, 'relay', '--json', '--demo', '--host', '127.0.0.1', '--port', '0', '--data', dataFile], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const started = new Promise<RelayInfo>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('{')) resolve(JSON.parse(line) as RelayInfo)
    })
    child.once('exit', (code) => reject(new Error(`the relay exited (code ${code}) before starting: ${stderr}`)))
  })
  return within(BOOT_TIMEOUT_MS, 'the relay to start', started).then(
    (info) => ({ child, info, stderr: () => stderr }),
    (error: unknown) => {
      child.kill('SIGKILL')
      throw error
    }
  )
}

const started = Date.now()
const dir = mkdtempSync(join(tmpdir(), 'orchard-plain-yjs-'))
let relay: Awaited<ReturnType<typeof startRelay>> | null = null
let step = 'starting the relay'
const providers: WebsocketProvider[] = []
let session: WorkspaceSession | null = null

function fail(error: unknown): never {
  console.log(`\nFAILED: ${step}: ${error instanceof Error ? error.message : String(error)}`)
  if (relay?.stderr().trim()) console.log(`--- relay stderr ---\n${relay.stderr().trimEnd()}`)
  for (const provider of providers) provider.destroy()
  relay?.child.kill('SIGKILL')
  process.exit(1)
}
setTimeout(() => fail(new Error(`the whole run took longer than ${WHOLE_RUN_TIMEOUT_MS} ms`)), WHOLE_RUN_TIMEOUT_MS).unref()

try {
  relay = await startRelay(join(dir, 'relay.db'))
  const { info } = relay
  relay.child.once('exit', (code) => {
    if (step !== 'stopping the relay') fail(new Error(`the relay exited unexpectedly (code ${code})`))
  })
  console.log(`Relay started (pid ${relay.child.pid}) at ${info.url}, workspace ${info.workspaceId} (3 demo projects).`)
  console.log(`Stock clients connect to ${info.url}/${info.workspaceId}?token=<owner credential>\n`)

  step = '1. Two stock y-websocket clients connect'
  console.log(step)
  const stock = (doc: Y.Doc): WebsocketProvider => {
    const provider = new WebsocketProvider(info.url, info.workspaceId, doc, {
      WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
      params: { token: info.ownerToken },
      disableBc: true
    })
    providers.push(provider)
    return provider
  }
  const doc1 = new Y.Doc()
  const doc2 = new Y.Doc()
  const plain1 = stock(doc1)
  const plain2 = stock(doc2)
  await Promise.all([stockSynced(plain1, 'plain client 1 to sync'), stockSynced(plain2, 'plain client 2 to sync')])
  console.log(`   plain client 1 synced; projects in its doc: ${projectNames(doc1).join(', ')}`)
  console.log(`   plain client 2 synced; projects in its doc: ${projectNames(doc2).join(', ')}\n`)

  step = '2. Plain client 1 writes; plain client 2 sees it'
  console.log(step)
  doc1.getMap('notes').set('greeting', 'hello from a plain Yjs app')
  console.log(`   client 1: doc.getMap('notes').set('greeting', 'hello from a plain Yjs app')`)
  await until(doc2, 'plain client 2 to see the greeting', () => doc2.getMap('notes').get('greeting') === 'hello from a plain Yjs app')
  console.log(`   client 2: doc.getMap('notes').get('greeting') = ${JSON.stringify(doc2.getMap('notes').get('greeting'))}\n`)

  step = '3. An Orchard WorkspaceSession sees the plain clients\' edits'
  console.log(step)
  session = await WorkspaceSession.open({ credential: info.ownerToken, relayUrl: info.url, label: 'orchard example' })
  const orchard = session
  await within(STEP_TIMEOUT_MS, 'the Orchard session to sync', orchard.provider.whenSynced())
  const notes = orchard.store.doc.getMap('notes')
  console.log(`   Orchard (${orchard.role}) synced: session.store.doc.getMap('notes').get('greeting') = ${JSON.stringify(notes.get('greeting'))}`)
  console.log(`   Orchard's store API on the same doc: ${orchard.store.loadStore().projects.map((p) => p.name).join(', ')}`)
  if (notes.get('greeting') !== 'hello from a plain Yjs app') throw new Error('the Orchard session does not have the plain client\'s greeting')
  doc2.getMap('notes').set('live', 'written by plain client 2 while Orchard is connected')
  await until(orchard.store.doc, 'Orchard to see plain client 2\'s live edit', () => notes.get('live') === 'written by plain client 2 while Orchard is connected')
  console.log(`   client 2 wrote notes.live; Orchard sees it live: ${JSON.stringify(notes.get('live'))}\n`)

  step = '4. Orchard edits through Pear\'s store API; the plain clients see it'
  console.log(step)
  orchard.store.updateProject('website', { name: 'Website (renamed in Orchard)' })
  console.log(`   Orchard: store.updateProject('website', { name: 'Website (renamed in Orchard)' })`)
  await Promise.all([
    until(doc1, 'plain client 1 to see the rename', () => projectNames(doc1).includes('Website (renamed in Orchard)')),
    until(doc2, 'plain client 2 to see the rename', () => projectNames(doc2).includes('Website (renamed in Orchard)'))
  ])
  console.log(`   plain client 1 projects: ${projectNames(doc1).join(', ')}`)
  console.log(`   plain client 2 projects: ${projectNames(doc2).join(', ')}\n`)

  step = '5. Closing'
  console.log(step)
  // y-websocket's destroy() leaves the Awareness it created running (its timer would keep
  // node alive), so a plain Yjs app destroys it too.
  for (const provider of providers) {
    provider.destroy()
    provider.awareness.destroy()
  }
  await orchard.close()
  console.log('   stock providers destroyed, Orchard session closed')
  step = 'stopping the relay'
  const relayChild = relay.child
  const exited = new Promise<number | null>((resolve) => relayChild.once('exit', (code) => resolve(code)))
  relayChild.kill('SIGTERM')
  const code = await within(STEP_TIMEOUT_MS, 'the relay to stop', exited)
  if (code !== 0) throw new Error(`the relay exited with ${code} after SIGTERM`)
  console.log('   relay stopped gracefully on SIGTERM (exit code 0)')
  rmSync(dir, { recursive: true, force: true })
  console.log(`\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s: plain Yjs and Orchard share one doc through the relay.`)
} catch (error) {
  fail(error)
}
