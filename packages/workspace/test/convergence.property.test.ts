/**
 * Convergence: 2-5 replicas apply random sequences of Pear's store API (including the
 * loadStore -> mutate -> saveStore pattern, also with stale loads), over a network that
 * delays, reorders and duplicates updates and takes replicas offline. After everything is
 * delivered, every replica's loadStore() is identical and satisfies Pear's rules.
 * A failure prints fast-check's seed and path; replay with ORCHARD_SEED=<seed>.
 */
import fc from 'fast-check'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parseProject, type StoreData } from '@orchard/workspace'
import { fuzzParams } from '@orchard/protocol/testing'
import { tempDir } from '@orchard/workspace/testing'
import { ReplicaNetwork, type Replica } from './harness/replica-network.js'

const word = fc.constantFrom('general', 'Frontend', 'ops', 'Release Notes', 'ops', 'ÄRGER', '', 'ana', 'Ben', 'ben ')
const path = fc.constantFrom('/src/a', '/src/b', '/src/c/', '/src/a', '/home/x')

type Op =
  | { t: 'addProject'; name: string; path: string }
  | { t: 'removeProject'; p: number }
  | { t: 'rename'; p: number; name: string }
  | { t: 'mode'; p: number; mode: 'git' | 'git-overlay' | 'relayfile' }
  | { t: 'addChannel'; p: number; name: string }
  | { t: 'removeChannel'; p: number; c: number }
  | { t: 'people'; p: number; c: number; people: string[] }
  | { t: 'addRoot'; p: number; path: string }
  | { t: 'removeRoot'; p: number; r: number }
  | { t: 'addIntegration'; p: number; name: string }
  | { t: 'removeIntegration'; p: number; i: number }
  | { t: 'host'; p: number; host: string | null }
  | { t: 'rmw'; p: number; field: 'name' | 'channel' | 'extra' | 'integrationField' | 'dropChannel'; value: string }
  | { t: 'loadForLater' }
  | { t: 'saveStale'; p: number; value: string }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constant('addProject' as const), name: word, path }),
  fc.record({ t: fc.constant('removeProject' as const), p: fc.nat() }),
  fc.record({ t: fc.constant('rename' as const), p: fc.nat(), name: word }),
  fc.record({ t: fc.constant('mode' as const), p: fc.nat(), mode: fc.constantFrom('git' as const, 'git-overlay' as const, 'relayfile' as const) }),
  fc.record({ t: fc.constant('addChannel' as const), p: fc.nat(), name: word }),
  fc.record({ t: fc.constant('removeChannel' as const), p: fc.nat(), c: fc.nat() }),
  fc.record({ t: fc.constant('people' as const), p: fc.nat(), c: fc.nat(), people: fc.array(word, { maxLength: 3 }) }),
  fc.record({ t: fc.constant('addRoot' as const), p: fc.nat(), path }),
  fc.record({ t: fc.constant('removeRoot' as const), p: fc.nat(), r: fc.nat() }),
  fc.record({ t: fc.constant('addIntegration' as const), p: fc.nat(), name: word }),
  fc.record({ t: fc.constant('removeIntegration' as const), p: fc.nat(), i: fc.nat() }),
  fc.record({ t: fc.constant('host' as const), p: fc.nat(), host: fc.option(fc.constantFrom('inst-a', 'inst-b'), { nil: null }) }),
  fc.record({
    t: fc.constant('rmw' as const),
    p: fc.nat(),
    field: fc.constantFrom('name' as const, 'channel' as const, 'extra' as const, 'integrationField' as const, 'dropChannel' as const),
    value: word
  }),
  fc.record({ t: fc.constant('loadForLater' as const) }),
  fc.record({ t: fc.constant('saveStale' as const), p: fc.nat(), value: word })
)

type Step =
  | { s: 'op'; r: number; op: Op }
  | { s: 'deliver'; r: number; pick: number; keep: boolean }
  | { s: 'offline'; r: number }
  | { s: 'online'; r: number }

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ s: fc.constant('op' as const), r: fc.nat(4), op: opArb }) },
  { weight: 4, arbitrary: fc.record({ s: fc.constant('deliver' as const), r: fc.nat(4), pick: fc.nat(), keep: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ s: fc.constant('offline' as const), r: fc.nat(4) }) },
  { weight: 1, arbitrary: fc.record({ s: fc.constant('online' as const), r: fc.nat(4) }) }
)

const later = new WeakMap<Replica, StoreData>()

function applyOp(replica: Replica, op: Op): void {
  const store = replica.store
  const projects = store.loadStore().projects
  const pick = <T>(list: readonly T[], n: number): T | undefined => (list.length === 0 ? undefined : list[n % list.length])
  const project = 'p' in op ? pick(projects, op.p) : undefined
  try {
    switch (op.t) {
      case 'addProject':
        store.addProject(op.name, op.path)
        return
      case 'removeProject':
        if (project) store.removeProject(project.id)
        return
      case 'rename':
        if (project) store.updateProject(project.id, { name: op.name })
        return
      case 'mode':
        if (project) store.updateProject(project.id, { cloudAgentWorkspaceMode: op.mode })
        return
      case 'addChannel':
        if (project) store.addProjectChannel(project.id, op.name)
        return
      case 'removeChannel': {
        const channel = project && pick(project.channels, op.c)
        if (project && channel) store.removeProjectChannel(project.id, channel)
        return
      }
      case 'people': {
        const channel = project && pick(project.channels, op.c)
        if (project && channel) store.setProjectChannelPeople(project.id, channel, op.people)
        return
      }
      case 'addRoot':
        if (project) store.addProjectRoot(project.id, op.path)
        return
      case 'removeRoot': {
        const root = project && pick(project.roots, op.r)
        if (project && root && project.roots.length > 1) store.removeProjectRoot(project.id, root.id)
        return
      }
      case 'addIntegration':
        if (project && op.name.trim()) store.addProjectIntegration(project.id, op.name)
        return
      case 'removeIntegration': {
        const integration = project && pick(project.integrations, op.i)
        if (project && integration) store.removeProjectIntegration(project.id, integration.id)
        return
      }
      case 'host':
        if (project) store.setProjectHost(project.id, op.host ? { instanceId: op.host } : null)
        return
      case 'rmw': {
        const data = store.loadStore()
        mutate(data, op.p, op.field, op.value)
        store.saveStore(data)
        return
      }
      case 'loadForLater':
        later.set(replica, store.loadStore())
        return
      case 'saveStale': {
        const data = later.get(replica)
        if (!data) return
        later.delete(replica)
        mutate(data, op.p, 'name', op.value)
        store.saveStore(data)
        return
      }
    }
  } catch (error) {
    // Pear's own refusals are legitimate outcomes of a random op; anything else fails.
    if (!(error instanceof Error) || !/Project not found|at least one root|integration name/.test(error.message)) throw error
  }
}

function mutate(data: StoreData, p: number, field: string, value: string): void {
  const project = data.projects.length === 0 ? undefined : data.projects[p % data.projects.length]
  if (!project) return
  if (field === 'name' && value.trim()) project.name = value
  if (field === 'channel') project.channels.push(value)
  if (field === 'dropChannel') project.channels.pop()
  if (field === 'extra') project.note = value
  if (field === 'integrationField' && project.integrations[0]) project.integrations[0].lastError = value
}

function checkConverged(network: ReplicaNetwork): void {
  const views = network.replicas.map((replica) => replica.store.loadStore().projects)
  for (const view of views.slice(1)) expect(view).toEqual(views[0])
  const ids = new Set<string>()
  for (const project of views[0] ?? []) {
    expect(ids.has(project.id)).toBe(false)
    ids.add(project.id)
    // Normalization is idempotent on the view: it already satisfies every Pear rule.
    const reparsed = parseProject(project)
    expect(reparsed.ok).toBe(true)
    if (reparsed.ok) expect(reparsed.project).toEqual(project)
  }
}

function run(replicaCount: number, steps: Step[]): void {
  const network = new ReplicaNetwork()
  for (let index = 0; index < replicaCount; index++) network.add()
  for (const step of steps) {
    const replica = network.replicas[step.r % replicaCount] as Replica
    if (step.s === 'op') applyOp(replica, step.op)
    else if (step.s === 'deliver') network.deliver(replica, step.pick, step.keep)
    else network.setOnline(replica, step.s === 'online')
  }
  network.deliverAll()
  checkConverged(network)
}

describe('replicas converge', () => {
  it('[MERGE-3] [STORE-1] random API ops, delays, duplicates and offline stretches converge to one valid view', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 5 }), fc.array(stepArb, { minLength: 5, maxLength: 80 }), (count, steps) => run(count, steps)),
      fuzzParams(400)
    )
  })

  const { dir, cleanup } = tempDir('orchard-fuzz-files-')
  afterAll(cleanup)
  let runId = 0

  it('[FILE-5] regression (seed 2040862834): an update still waiting for its dependencies survives a restart', async () => {
    const fileOf = (index: number) => ({ file: join(dir, `pending-${index}.json`), saveDelayMs: 1 })
    const network = new ReplicaNetwork()
    const [a, b] = [network.add(fileOf(0)), network.add(fileOf(1))] as [Replica, Replica]
    const project = a.store.addProject('general', '/src/a')
    a.store.updateProject(project.id, { name: 'ÄRGER' })
    network.deliver(b, 1, false) // the rename arrives before the project it renames
    await network.restart(b, fileOf(1))
    network.deliverAll()
    checkConverged(network)
    expect(b.store.loadStore().projects.map((p) => p.name)).toEqual(['ÄRGER'])
    await Promise.all(network.replicas.map((replica) => replica.store.close()))
  })

  it('[FILE-4] [FILE-2] replicas restarting from their own projects.json keep offline edits and converge', async () => {
    const restartArb = fc.record({ s: fc.constant('restart' as const), r: fc.nat(4) })
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 4 }),
        fc.array(fc.oneof({ weight: 8, arbitrary: stepArb }, { weight: 1, arbitrary: restartArb }), { minLength: 5, maxLength: 40 }),
        async (count, steps) => {
          const run = ++runId
          const fileOf = (index: number) => ({ file: join(dir, `run${run}-replica${index}.json`), saveDelayMs: 1 })
          const network = new ReplicaNetwork()
          for (let index = 0; index < count; index++) network.add(fileOf(index))
          for (const step of steps) {
            const replica = network.replicas[step.r % count] as Replica
            if (step.s === 'restart') await network.restart(replica, fileOf(replica.index))
            else if (step.s === 'op') applyOp(replica, step.op)
            else if (step.s === 'deliver') network.deliver(replica, step.pick, step.keep)
            else network.setOnline(replica, step.s === 'online')
          }
          network.deliverAll()
          checkConverged(network)
          for (const replica of network.replicas) expect(replica.store.problems).toEqual([])
          await Promise.all(network.replicas.map((replica) => replica.store.close()))
        }
      ),
      fuzzParams(30)
    )
  }, 120_000)
})
