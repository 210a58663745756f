/**
 * One relay and three Pear instances, each a separate process with its own projects.json,
 * sharing one workspace. Run: npx -y pnpm@10.34.8 example:two-instances
 *
 * This file plays two parts:
 *   - with no argument it is the *director*: it starts `orchard relay --demo` and the
 *     instance processes, drives them step by step and checks what each one sees;
 *   - with `instance <name>` it is an *instance*: a WorkspaceSession (what Pear runs) that
 *     reads one JSON command per line on stdin and answers one JSON line on stdout.
 *
 * Commands (director -> instance):  {"id":1,"cmd":"open"|"join"|"invite"|"store"|"view"|
 *   "waitFor"|"offline"|"online"|"close", ...params}
 * Replies (instance -> director):    {"id":1,"ok":true,"result":...}
 *                                    {"id":1,"ok":false,"error":{"name","code","message"}}
 * ORCHARD_DEBUG=1 also shows what the relay and the instances log (their stderr).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { WorkspaceSession } from '@orchard/client'
import { canonicalJson, type Project } from '@orchard/workspace'

const repoRoot = fileURLToPath(new URL('..', import.meta.url))
const thisFile = fileURLToPath(import.meta.url)
// The `orchard` command as built (what `pnpm orchard` and `pnpm start` run; `pnpm install`
// builds it): the relay is a program of its own, started on plain Node.
const relayBin = fileURLToPath(new URL('../packages/cli/dist/bin.mjs', import.meta.url))

/** Every wait is bounded: a step, a process's start and its first answer, the whole run. */
const STEP_TIMEOUT_MS = 10_000
const BOOT_TIMEOUT_MS = 15_000
const WHOLE_RUN_TIMEOUT_MS = 25_000

// ---------------------------------------------------------------- the protocol

type Command =
  | { cmd: 'open'; credential: string; relayUrl: string; file: string; label: string }
  | { cmd: 'join'; invite: string; name: string; file: string; label: string }
  | { cmd: 'invite'; role: 'editor' | 'viewer' }
  | { cmd: 'store'; fn: StoreFunction; args: unknown[] }
  | { cmd: 'view' }
  | { cmd: 'waitFor'; checks: Check[] }
  | { cmd: 'offline' }
  | { cmd: 'online' }
  | { cmd: 'close' }

/** The Pear store functions the director may call (session.store.<fn>(...args)). */
const STORE_FUNCTIONS = ['addProject', 'updateProject', 'addProjectChannel', 'addProjectIntegration'] as const
type StoreFunction = (typeof STORE_FUNCTIONS)[number]

/** "Project <project> (id or name) exists / has <field> equal to / including <value>." */
interface Check {
  project: string
  field?: 'name' | 'channels' | 'integrations' | 'cloudAgentWorkspaceMode'
  equals?: string
  includes?: string
}

interface View {
  instance: string
  role: string
  status: string
  projects: Project[]
}

type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: { name: string; code?: string; message: string } }

// ---------------------------------------------------------------- shared helpers

function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

function findProject(projects: Project[], key: string): Project | undefined {
  return projects.find((project) => project.id === key) ?? projects.find((project) => project.name === key)
}

function checkHolds(projects: Project[], check: Check): boolean {
  const project = findProject(projects, check.project)
  if (!project) return false
  if (!check.field) return true
  const value = project[check.field]
  const values = Array.isArray(value) ? value.map((entry) => (typeof entry === 'string' ? entry : (entry as { name: string }).name)) : [value]
  if (check.equals !== undefined && value !== check.equals) return false
  if (check.includes !== undefined && !values.includes(check.includes)) return false
  return true
}

function describeCheck(check: Check): string {
  if (!check.field) return `project "${check.project}" exists`
  if (check.equals !== undefined) return `${check.project}.${check.field} = "${check.equals}"`
  return `${check.project}.${check.field} includes "${check.includes}"`
}

// ================================================================ instance mode

async function runInstance(name: string): Promise<void> {
  // stdout carries the protocol only; anything a library logs goes to stderr.
  console.log = console.error
  console.info = console.error
  let session: WorkspaceSession | null = null

  const need = (): WorkspaceSession => {
    if (!session) throw new Error(`instance ${name} has no session yet (send "open" or "join" first)`)
    return session
  }
  const view = (): View => {
    const current = need()
    return { instance: name, role: current.role, status: current.provider.status, projects: current.store.loadStore().projects }
  }
  const settled = async (current: WorkspaceSession): Promise<void> => {
    // Sent edits are stored by the relay before we answer (nothing is sent while offline).
    if (current.provider.status === 'connected') await within(STEP_TIMEOUT_MS, 'the relay to store our edits', current.provider.whenPersisted())
  }
  const waitForStatus = (current: WorkspaceSession, status: string): Promise<void> =>
    within(
      STEP_TIMEOUT_MS,
      `status "${status}"`,
      new Promise<void>((resolve) => {
        if (current.provider.status === status) return resolve()
        const listener = (next: string) => {
          if (next !== status) return
          current.provider.off('status', listener)
          resolve()
        }
        current.provider.on('status', listener)
      })
    )

  const handle = async (command: Command): Promise<unknown> => {
    switch (command.cmd) {
      case 'open':
        session = await WorkspaceSession.open({
          credential: command.credential,
          relayUrl: command.relayUrl,
          file: command.file,
          label: command.label
        })
        await within(STEP_TIMEOUT_MS, 'the first sync', session.provider.whenSynced())
        return view()
      case 'join':
        session = await WorkspaceSession.join(command.invite, {
          name: command.name,
          file: command.file,
          label: command.label
        })
        await within(STEP_TIMEOUT_MS, 'the first sync', session.provider.whenSynced())
        return view()
      case 'invite':
        return need().createInvite(command.role)
      case 'store': {
        if (!STORE_FUNCTIONS.includes(command.fn)) throw new Error(`"${command.fn}" is not a store function this example calls`)
        const current = need()
        const fn = current.store[command.fn] as (...args: unknown[]) => unknown
        const result = fn(...command.args)
        await settled(current)
        return result ?? null
      }
      case 'view':
        return view()
      case 'waitFor': {
        const current = need()
        const holds = () => command.checks.every((check) => checkHolds(current.store.loadStore().projects, check))
        if (!holds()) {
          let stop = () => {}
          try {
            await within(
              STEP_TIMEOUT_MS,
              command.checks.map(describeCheck).join(' and '),
              new Promise<void>((resolve) => {
                const onUpdate = () => {
                  if (holds()) resolve()
                }
                current.store.doc.on('update', onUpdate)
                const unsubscribe = current.store.onChange(onUpdate)
                stop = () => {
                  current.store.doc.off('update', onUpdate)
                  unsubscribe()
                }
              })
            )
          } finally {
            stop()
          }
        }
        return view()
      }
      case 'offline': {
        const current = need()
        current.provider.disconnect()
        await waitForStatus(current, 'disconnected')
        return view()
      }
      case 'online': {
        const current = need()
        current.provider.connect()
        await waitForStatus(current, 'connected')
        await within(STEP_TIMEOUT_MS, 'the re-sync', current.provider.whenSynced())
        return view()
      }
      case 'close': {
        const current = need()
        await current.store.flush()
        await current.close()
        session = null
        return { closed: true }
      }
    }
  }

  const reply = (message: Reply) => process.stdout.write(JSON.stringify(message) + '\n')
  let queue = Promise.resolve()
  const lines = createInterface({ input: process.stdin })
  lines.on('line', (line) => {
    if (!line.trim()) return
    queue = queue.then(async () => {
      let id = 0
      try {
        const message = JSON.parse(line) as Command & { id: number }
        id = message.id
        reply({ id, ok: true, result: await handle(message) })
      } catch (error) {
        const err = error as Error & { code?: string }
        reply({ id, ok: false, error: { name: err.name, ...(typeof err.code === 'string' ? { code: err.code } : {}), message: err.message } })
      }
    })
  })
  // The director closing our stdin means: we are done.
  lines.on('close', () => {
    void queue
      .then(() => session?.close())
      .then(() => undefined, () => process.exit(1))
  })
}

// ================================================================ director mode

interface RelayInfo {
  workspaceId: string
  url: string
  ownerToken: string
  editorInvite: string | null
  viewerInvite: string | null
}

const children: ChildProcess[] = []
let failing = false

function fail(what: string, error: unknown, logs: Array<{ name: string; text: string }> = []): never {
  if (!failing) {
    failing = true
    console.log(`\nFAILED: ${what}: ${error instanceof Error ? error.message : String(error)}`)
    for (const log of logs) if (log.text.trim()) console.log(`--- ${log.name} stderr ---\n${log.text.trimEnd()}`)
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
  process.exit(1)
}

class Instance {
  readonly child: ChildProcess
  stderr = ''
  private nextId = 1
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>()
  readonly exited: Promise<number | null>

  constructor(
    readonly name: string,
    readonly file: string
  ) {
    // The instance runs as this file was run (the same Node flags: tsx's loader, the conditions).
    this.child = spawn(process.execPath, [...process.execArgv, thisFile, 'instance', name], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] })
    children.push(this.child)
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString()
      if (process.env.ORCHARD_DEBUG) process.stderr.write(`[${name}] ${chunk.toString()}`)
    })
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      let message: Reply
      try {
        message = JSON.parse(line) as Reply
      } catch {
        this.stderr += `(stdout) ${line}\n`
        return
      }
      const pending = this.pending.get(message.id)
      if (!pending) return
      this.pending.delete(message.id)
      if (message.ok) pending.resolve(message.result)
      else pending.reject(Object.assign(new Error(message.error.message), { name: message.error.name, code: message.error.code }))
    })
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)))
    void this.exited.then((code) => {
      for (const { reject } of this.pending.values()) reject(new Error(`instance ${name} exited (code ${code}) before answering`))
      this.pending.clear()
    })
  }

  /** The instance bounds its own waits by STEP_TIMEOUT_MS and says what it waited for; this bound is the backstop. */
  call<T = unknown>(command: Command, timeoutMs = STEP_TIMEOUT_MS + 2_000): Promise<T> {
    const id = this.nextId++
    const answer = new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject })
      this.child.stdin!.write(JSON.stringify({ id, ...command }) + '\n')
    })
    return within(timeoutMs, `instance ${this.name} to answer "${command.cmd}"`, answer)
  }

  view(): Promise<View> {
    return this.call<View>({ cmd: 'view' })
  }

  async quit(): Promise<number | null> {
    await this.call({ cmd: 'close' })
    this.child.stdin!.end()
    return within(STEP_TIMEOUT_MS, `instance ${this.name} to exit`, this.exited)
  }
}

function startRelay(dataFile: string): Promise<{ child: ChildProcess; info: RelayInfo; stderr: () => string }> {
  if (!existsSync(relayBin)) return Promise.reject(new Error(`the orchard command is not built (${relayBin}): run \`npx -y pnpm@10.34.8 build\` first`))
  const child = spawn(process.execPath, [relayBin, 'relay', '--json', '--demo', '--host', '127.0.0.1', '--port', '0', '--data', dataFile], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  children.push(child)
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
    if (process.env.ORCHARD_DEBUG) process.stderr.write(`[relay] ${chunk.toString()}`)
  })
  const started = new Promise<RelayInfo>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('{')) resolve(JSON.parse(line) as RelayInfo)
    })
    child.once('exit', (code) => reject(new Error(`the relay exited (code ${code}) before starting: ${stderr}`)))
  })
  return within(BOOT_TIMEOUT_MS, 'the relay to start', started).then((info) => ({ child, info, stderr: () => stderr }))
}

function show(view: View, label: string): void {
  console.log(`   ${label} (${view.role}, ${view.status}) sees ${view.projects.length} projects:`)
  for (const project of view.projects) {
    const integrations = project.integrations.map((integration) => integration.name).join(', ') || '-'
    const mode = project.cloudAgentWorkspaceMode ? `   mode: ${project.cloudAgentWorkspaceMode}` : ''
    console.log(`     - ${project.name.padEnd(21)} channels: ${project.channels.join(', ').padEnd(42)} integrations: ${integrations}${mode}`)
  }
}

function same(a: View, b: View): boolean {
  // Key order is each machine's file's own (PEAR-15), so the content is compared.
  return canonicalJson(a.projects) === canonicalJson(b.projects)
}

function expect(condition: boolean, message: string): void {
  if (!condition) throw new Error(message)
}

async function runDirector(): Promise<void> {
  const started = Date.now()
  const dir = mkdtempSync(join(tmpdir(), 'orchard-two-instances-'))
  for (const name of ['a', 'b', 'c']) mkdirSync(join(dir, name))
  const files = { A: join(dir, 'a', 'projects.json'), B: join(dir, 'b', 'projects.json'), C: join(dir, 'c', 'projects.json') }
  const instances: Instance[] = []
  let relay: Awaited<ReturnType<typeof startRelay>> | null = null
  let step = 'starting'
  const logs = () => [...(relay ? [{ name: 'relay', text: relay.stderr() }] : []), ...instances.map((instance) => ({ name: `instance ${instance.name}`, text: instance.stderr }))]
  const watchdog = setTimeout(() => fail(step, new Error(`the whole run took longer than ${WHOLE_RUN_TIMEOUT_MS} ms`), logs()), WHOLE_RUN_TIMEOUT_MS)
  const startInstance = (name: 'A' | 'B' | 'C') => {
    const instance = new Instance(name, files[name])
    instances.push(instance)
    return instance
  }

  try {
    console.log(`Orchard: one relay, three instances (separate processes, each with its own projects.json in ${dir})\n`)
    // Start the relay and the first two instance processes together (each takes a moment to boot).
    const relayStarting = startRelay(join(dir, 'relay.db'))
    const A = startInstance('A')
    const B = startInstance('B')
    relay = await relayStarting
    const relayProcess = relay
    relayProcess.child.once('exit', (code) => {
      if (step !== 'stopping the relay') fail(step, new Error(`the relay exited unexpectedly (code ${code})`), logs())
    })
    const { info } = relay
    console.log(`Relay started (pid ${relay.child.pid}) at ${info.url}, workspace ${info.workspaceId}, with the 3 demo projects.\n`)

    step = '1. A opens the workspace as its owner'
    console.log(step)
    const a1 = await A.call<View>({ cmd: 'open', credential: info.ownerToken, relayUrl: info.url, file: files.A, label: 'laptop (A)' }, BOOT_TIMEOUT_MS)
    show(a1, 'A')
    expect(a1.role === 'owner', `A should be the owner, is ${a1.role}`)
    expect(a1.projects.length === 3, `A should see the 3 demo projects, sees ${a1.projects.length}`)
    const editorInvite = await A.call<string>({ cmd: 'invite', role: 'editor' })
    console.log(`   A created an editor invite: ${editorInvite.slice(0, 24)}...\n`)

    step = '2. B joins with the editor invite'
    console.log(step)
    const b1 = await B.call<View>({ cmd: 'join', invite: editorInvite, name: 'Ben', file: files.B, label: 'desktop (B)' }, BOOT_TIMEOUT_MS)
    show(b1, 'B')
    expect(b1.role === 'editor', `B should be an editor, is ${b1.role}`)
    expect(same(a1, b1), 'B should see exactly the projects A sees')
    console.log('   B sees the same projects as A.\n')

    step = '3. Live edits both ways'
    console.log(step)
    await A.call({ cmd: 'store', fn: 'updateProject', args: ['website', { name: 'Website 2.0' }] })
    await A.call({ cmd: 'store', fn: 'addProjectChannel', args: ['website', 'launch'] })
    console.log('   A renamed "Website" to "Website 2.0" and added the channel "launch".')
    const b3 = await B.call<View>({ cmd: 'waitFor', checks: [{ project: 'website', field: 'name', equals: 'Website 2.0' }, { project: 'website', field: 'channels', includes: 'launch' }] })
    console.log('   B sees both:')
    show(b3, 'B')
    await B.call({ cmd: 'store', fn: 'addProject', args: ['Mobile', '/home/ben/code/mobile'] })
    console.log('   B added the project "Mobile".')
    const a3 = await A.call<View>({ cmd: 'waitFor', checks: [{ project: 'Mobile' }] })
    console.log('   A sees it:')
    show(a3, 'A')
    console.log()

    step = '4. B goes offline; both edit; B comes back'
    console.log(step)
    const bOffline = await B.call<View>({ cmd: 'offline' })
    console.log(`   B disconnected (provider.disconnect(); status: ${bOffline.status}).`)
    await A.call({ cmd: 'store', fn: 'updateProject', args: ['infra', { name: 'Infra (renamed by A)' }] })
    await A.call({ cmd: 'store', fn: 'addProjectChannel', args: ['pear-app', 'design'] })
    console.log('   A (online): renamed "Infra" to "Infra (renamed by A)", added channel "design" to Pear App.')
    await B.call({ cmd: 'store', fn: 'updateProject', args: ['infra', { cloudAgentWorkspaceMode: 'relayfile' }] })
    await B.call({ cmd: 'store', fn: 'addProjectIntegration', args: ['website', 'Sentry', 'sentry'] })
    console.log('   B (offline): set Infra\'s cloud agent mode to "relayfile", added the integration "Sentry" to Website.')
    const aApart = await A.view()
    const bApart = await B.view()
    console.log('   While apart:')
    show(aApart, 'A')
    show(bApart, 'B')
    expect(!same(aApart, bApart), 'A and B should differ while B is offline')
    expect(findProject(bApart.projects, 'infra')?.name === 'Infra', 'offline B must not see A\'s rename yet')
    const bBack = await B.call<View>({ cmd: 'online' })
    console.log(`   B reconnected (provider.connect(); status: ${bBack.status}).`)
    const edits: Check[] = [
      { project: 'infra', field: 'name', equals: 'Infra (renamed by A)' },
      { project: 'pear-app', field: 'channels', includes: 'design' },
      { project: 'infra', field: 'cloudAgentWorkspaceMode', equals: 'relayfile' },
      { project: 'website', field: 'integrations', includes: 'Sentry' }
    ]
    const [aMerged, bMerged] = await Promise.all([A.call<View>({ cmd: 'waitFor', checks: edits }), B.call<View>({ cmd: 'waitFor', checks: edits })])
    console.log('   After reconnecting, both have all four edits:')
    show(aMerged, 'A')
    show(bMerged, 'B')
    expect(same(aMerged, bMerged), `A and B differ after merging:\nA: ${JSON.stringify(aMerged.projects)}\nB: ${JSON.stringify(bMerged.projects)}`)
    console.log('   A and B views are identical.\n')

    step = '5. A viewer cannot change anything'
    console.log(step)
    const viewerInvite = await A.call<string>({ cmd: 'invite', role: 'viewer' })
    console.log(`   A created a viewer invite: ${viewerInvite.slice(0, 24)}...`)
    const C = startInstance('C')
    const c1 = await C.call<View>({ cmd: 'join', invite: viewerInvite, name: 'Cleo', file: files.C, label: 'tablet (C)' }, BOOT_TIMEOUT_MS)
    show(c1, 'C')
    expect(c1.role === 'viewer', `C should be a viewer, is ${c1.role}`)
    expect(same(c1, aMerged), 'C should see the same projects as A')
    let refusal: (Error & { code?: string }) | null = null
    try {
      await C.call({ cmd: 'store', fn: 'addProjectChannel', args: ['infra', 'from-viewer'] })
    } catch (error) {
      refusal = error as Error & { code?: string }
    }
    expect(refusal !== null, 'C\'s addProjectChannel should have been refused')
    console.log(`   C tried to add the channel "from-viewer" to Infra and was refused:`)
    console.log(`     ${refusal!.name} (${refusal!.code}): ${refusal!.message}`)
    expect(refusal!.name === 'WriteRefusedError', `expected a WriteRefusedError, got ${refusal!.name}`)
    const [aAfter, bAfter, cAfter] = await Promise.all([A.view(), B.view(), C.view()])
    expect(same(cAfter, c1), 'C\'s view changed after the refused edit')
    expect(same(aAfter, aMerged) && same(bAfter, bMerged), 'A or B changed after C\'s refused edit')
    expect(aAfter.status === 'connected' && bAfter.status === 'connected' && cAfter.status === 'connected', 'everyone should still be connected')
    console.log('   C\'s view is unchanged; A and B are unaffected (same projects, still connected).\n')

    step = '6. Everyone closes; the relay stops'
    console.log(step)
    for (const instance of instances) {
      const code = await instance.quit()
      expect(code === 0, `instance ${instance.name} exited with ${code}`)
    }
    const savedB = JSON.parse(readFileSync(files.B, 'utf8')) as { projects: Project[]; relayWorkspace?: { id?: string; authKey?: string } }
    expect(typeof savedB.relayWorkspace?.authKey === 'string', 'B\'s projects.json should hold its member credential')
    expect(JSON.stringify(savedB.projects.map((p) => p.name)) === JSON.stringify(bMerged.projects.map((p) => p.name)), 'B\'s projects.json should hold the merged projects')
    console.log(`   A, B and C closed their sessions and exited (code 0).`)
    console.log(`   B's projects.json has the ${savedB.projects.length} merged projects and its own credential (relayWorkspace.authKey = ${savedB.relayWorkspace!.authKey!.slice(0, 10)}...).`)
    step = 'stopping the relay'
    relay.child.kill('SIGTERM')
    const relayCode = await within(STEP_TIMEOUT_MS, 'the relay to stop', new Promise<number | null>((resolve) => {
      if (relayProcess.child.exitCode !== null) resolve(relayProcess.child.exitCode)
      else relayProcess.child.once('exit', (code) => resolve(code))
    }))
    expect(relayCode === 0, `the relay exited with ${relayCode} after SIGTERM`)
    console.log(`   Relay stopped gracefully on SIGTERM (exit code 0).`)
    clearTimeout(watchdog)
    rmSync(dir, { recursive: true, force: true })
    console.log(`\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s: all steps passed.`)
    process.exit(0)
  } catch (error) {
    fail(step, error, logs())
  }
}

// ---------------------------------------------------------------- entry

if (process.argv[2] === 'instance') {
  await runInstance(process.argv[3] ?? '?')
} else {
  await runDirector()
}
