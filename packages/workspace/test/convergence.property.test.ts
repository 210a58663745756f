/**
 * Convergence: 2-5 replicas apply random sequences of Pear's store API (including the
 * loadStore -> mutate -> saveStore pattern, also with stale loads), over a network that
 * delays, reorders and duplicates updates and takes replicas offline. After everything is
 * delivered, every replica's loadStore() is identical, satisfies Pear's rules, and holds
 * exactly what a reference model of the merge rules says survived (harness/merge-model.ts),
 * so an operation that does nothing fails.
 * A failure prints fast-check's seed and path; replay with ORCHARD_SEED=<seed>.
 */
import fc from 'fast-check'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parseProject, type PearStore, type Project, type StoreData } from '@orchard/workspace'
import { fuzzParams } from '@orchard/protocol/testing'
import { tempDir } from '@orchard/workspace/testing'
import { MergeModel } from './harness/merge-model.js'
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

// Weighted toward the edits whose survival the model checks (projects, channels, names).
const w = <T>(weight: number, arbitrary: fc.Arbitrary<T>) => ({ weight, arbitrary })
const opArb: fc.Arbitrary<Op> = fc.oneof(
  w(3, fc.record({ t: fc.constant('addProject' as const), name: word, path })),
  w(1, fc.record({ t: fc.constant('removeProject' as const), p: fc.nat() })),
  w(2, fc.record({ t: fc.constant('rename' as const), p: fc.nat(), name: word })),
  w(1, fc.record({ t: fc.constant('mode' as const), p: fc.nat(), mode: fc.constantFrom('git' as const, 'git-overlay' as const, 'relayfile' as const) })),
  w(4, fc.record({ t: fc.constant('addChannel' as const), p: fc.nat(), name: word })),
  w(3, fc.record({ t: fc.constant('removeChannel' as const), p: fc.nat(), c: fc.nat() })),
  w(1, fc.record({ t: fc.constant('people' as const), p: fc.nat(), c: fc.nat(), people: fc.array(word, { maxLength: 3 }) })),
  w(1, fc.record({ t: fc.constant('addRoot' as const), p: fc.nat(), path })),
  w(1, fc.record({ t: fc.constant('removeRoot' as const), p: fc.nat(), r: fc.nat() })),
  w(2, fc.record({ t: fc.constant('addIntegration' as const), p: fc.nat(), name: word })),
  w(1, fc.record({ t: fc.constant('removeIntegration' as const), p: fc.nat(), i: fc.nat() })),
  w(1, fc.record({ t: fc.constant('host' as const), p: fc.nat(), host: fc.option(fc.constantFrom('inst-a', 'inst-b'), { nil: null }) })),
  w(
    2,
    fc.record({
      t: fc.constant('rmw' as const),
      p: fc.nat(),
      field: fc.constantFrom('name' as const, 'channel' as const, 'extra' as const, 'integrationField' as const, 'dropChannel' as const),
      value: word
    })
  ),
  w(1, fc.record({ t: fc.constant('loadForLater' as const) })),
  w(1, fc.record({ t: fc.constant('saveStale' as const), p: fc.nat(), value: word }))
)

type ForeignStep = { s: 'foreign'; r: number; p: number; kind: 'rename' | 'channel' | 'duplicate'; value: string }

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

/** Applies one op to a replica and tells the model what it did (MergeModel). */
function applyOp(replica: Replica, op: Op, model: MergeModel): void {
  const store = replica.store
  const projects = store.loadStore().projects
  const pick = <T>(list: readonly T[], n: number): T | undefined => (list.length === 0 ? undefined : list[n % list.length])
  const project = 'p' in op ? pick(projects, op.p) : undefined
  const at = model.stamp(store)
  try {
    switch (op.t) {
      case 'addProject': {
        const added = store.addProject(op.name, op.path)
        if (parseProject(added).ok) model.addProject(added)
        return
      }
      case 'removeProject':
        if (project) {
          store.removeProject(project.id)
          model.removeProject(project.id, replica.index)
        }
        return
      case 'rename':
        if (project) {
          store.updateProject(project.id, { name: op.name })
          if (op.name.trim()) model.rename(project.id, op.name.trim())
        }
        return
      case 'mode':
        if (project) store.updateProject(project.id, { cloudAgentWorkspaceMode: op.mode })
        return
      case 'addChannel':
        if (project) {
          store.addProjectChannel(project.id, op.name)
          model.addChannel(project.id, op.name, project.channels, at)
        }
        return
      case 'removeChannel': {
        const channel = project && pick(project.channels, op.c)
        if (project && channel) {
          store.removeProjectChannel(project.id, channel)
          model.removeChannel(project.id, channel, store)
        }
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
        if (project && op.name.trim()) model.addIntegration(project.id, store.addProjectIntegration(project.id, op.name).id)
        return
      case 'removeIntegration': {
        const integration = project && pick(project.integrations, op.i)
        if (project && integration) {
          store.removeProjectIntegration(project.id, integration.id)
          model.removeIntegration(project.id, integration.id)
        }
        return
      }
      case 'host':
        if (project) store.setProjectHost(project.id, op.host ? { instanceId: op.host } : null)
        return
      case 'rmw': {
        const data = store.loadStore()
        mutate(data, op.p, op.field, op.value, store, model, replica.index)
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
        mutate(data, op.p, 'name', op.value, store, model, replica.index)
        store.saveStore(data)
        return
      }
    }
  } catch (error) {
    // Pear's own refusals are legitimate outcomes of a random op; anything else fails.
    if (!(error instanceof Error) || !/Project not found|at least one root|integration name/.test(error.message)) throw error
  }
}

function mutate(data: StoreData, p: number, field: string, value: string, store: PearStore, model: MergeModel, replica: number): void {
  const index = data.projects.length === 0 ? -1 : p % data.projects.length
  const project = data.projects[index]
  if (!project) return
  const at = model.stamp(store)
  if (!isSharedEntry(data.projects, index, store)) {
    // A duplicate entry (PEAR-14) is this machine's copy: editing it edits only that copy.
    if (field === 'name' && value.trim()) {
      model.renameDuplicate(replica, project.id, project.name, value)
      project.name = value
    }
    return
  }
  if (field === 'name' && value.trim()) {
    project.name = value
    // A stale save of a project removed since is dropped with it (MERGE-4).
    model.rename(project.id, value)
  }
  if (field === 'channel') {
    model.addChannel(project.id, value, project.channels, at)
    project.channels.push(value)
  }
  if (field === 'dropChannel') {
    const dropped = project.channels.pop()
    if (dropped !== undefined) model.removeChannel(project.id, dropped, store)
  }
  if (field === 'extra') project.note = value
  if (field === 'integrationField' && project.integrations[0]) project.integrations[0].lastError = value
}

/**
 * PEAR-14: an entry of a view or file is the shared project of its id if it is the first
 * entry of that id and this replica's doc has that project; every other entry is a
 * duplicate this machine keeps (after the shared project was removed, all of them are).
 */
function isSharedEntry(projects: ReadonlyArray<{ id?: unknown }>, index: number, store: PearStore): boolean {
  const id = projects[index]?.id
  return typeof id === 'string' && projects.findIndex((entry) => entry.id === id) === index && store.model.getProject(id) !== undefined
}

/**
 * FILE-12/PEAR-14: another process (an older Pear, an editor) rewrites the replica's
 * projects.json in its plain shape; the replica's next call merges it, as edits.
 */
async function foreignWrite(replica: Replica, step: ForeignStep, model: MergeModel): Promise<void> {
  const file = replica.store.file
  if (!file) return
  await replica.store.flush()
  if (!existsSync(file)) return
  const data = JSON.parse(readFileSync(file, 'utf8')) as { projects: Array<Record<string, unknown>> }
  // The shared entries only: an edit of a duplicate entry is an edit of that local copy.
  const shared = data.projects.filter((_, index) => isSharedEntry(data.projects, index, replica.store))
  const target = shared.length === 0 ? undefined : shared[step.p % shared.length]
  if (!target || typeof target.id !== 'string') return
  const id = target.id
  const at = model.stamp(replica.store)
  if (step.kind === 'rename') {
    if (!step.value.trim()) return
    target.name = step.value
    model.rename(id, step.value)
  } else if (step.kind === 'channel') {
    const channels = Array.isArray(target.channels) ? (target.channels as string[]) : []
    const shown = parseProject(target)
    model.addChannel(id, step.value, shown.ok ? shown.project.channels : channels, at)
    target.channels = [...channels, step.value]
  } else {
    const name = `dup ${step.value} ${id}`
    data.projects.push({ ...target, name })
    model.addDuplicate(replica.index, id, name)
  }
  writeFileSync(file, JSON.stringify(data, null, 2))
  // The replica's next call notices and merges it (FILE-12); make that call now, so the
  // model's stamp above is where the merged edit lands.
  replica.store.loadStore()
}

function checkConverged(network: ReplicaNetwork, model: MergeModel): void {
  // Any call merges what another process wrote (FILE-12); the views below are then current.
  for (const replica of network.replicas) replica.store.loadStore()
  const views = network.replicas.map((replica) => replica.store.model.listProjects().map((shared) => ({ ...shared })))
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
  // Every replica shows what the merge rules say survived, not just the same thing.
  for (const replica of network.replicas) {
    const all = replica.store.loadStore().projects
    expect(model.check(views[replica.index] as Project[], replica.index, all), `replica ${replica.index}`).toEqual([])
  }
}

function run(replicaCount: number, steps: Step[]): void {
  const network = new ReplicaNetwork()
  const model = new MergeModel()
  for (let index = 0; index < replicaCount; index++) network.add()
  for (const step of steps) {
    const replica = network.replicas[step.r % replicaCount] as Replica
    if (step.s === 'op') applyOp(replica, step.op, model)
    else if (step.s === 'deliver') network.deliver(replica, step.pick, step.keep)
    else network.setOnline(replica, step.s === 'online')
  }
  network.deliverAll()
  checkConverged(network, model)
}

describe('replicas converge', () => {
  it('[MERGE-3] [STORE-1] [MERGE-1] [MERGE-4] random API ops, delays, duplicates and offline stretches converge to the view the merge model predicts', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 5 }), fc.array(stepArb, { minLength: 5, maxLength: 80, size: 'max' }), (count, steps) => run(count, steps)),
      fuzzParams(150)
    )
  })

  const { dir, cleanup } = tempDir('orchard-fuzz-files-')
  afterAll(cleanup)
  let runId = 0

  type FileStep = Step | ForeignStep | { s: 'restart'; r: number }

  /** The file-backed run: replicas with their own projects.json, restarts and foreign writes. */
  async function runFiles(count: number, steps: FileStep[]): Promise<void> {
    const run = ++runId
    const fileOf = (index: number) => ({ file: join(dir, `run${run}-replica${index}.json`), saveDelayMs: 1 })
    const network = new ReplicaNetwork()
    const model = new MergeModel()
    for (let index = 0; index < count; index++) network.add(fileOf(index))
    for (const step of steps) {
      const replica = network.replicas[step.r % count] as Replica
      if (step.s === 'restart') {
        // A load from before the restart did not come from the new store: saving it would
        // be a whole-store write (STORE-2), not the stale read-modify-write modelled here.
        later.delete(replica)
        await network.restart(replica, fileOf(replica.index))
      } else if (step.s === 'foreign') await foreignWrite(replica, step, model)
      else if (step.s === 'op') applyOp(replica, step.op, model)
      else if (step.s === 'deliver') network.deliver(replica, step.pick, step.keep)
      else network.setOnline(replica, step.s === 'online')
    }
    network.deliverAll()
    checkConverged(network, model)
    // Duplicate ids written by the foreign process are reported (PEAR-14); nothing else is wrong.
    for (const replica of network.replicas) expect(replica.store.problems.filter((problem) => problem.kind !== 'duplicate-ids')).toEqual([])
    await Promise.all(network.replicas.map((replica) => replica.store.close()))
  }

  it('[PEAR-14] regression (seed -1169463501): another process renaming the shared entry of a duplicated id renames the shared project', async () => {
    await runFiles(2, [
      { s: 'op', r: 1, op: { t: 'addProject', name: 'general', path: '/src/a' } },
      { s: 'foreign', r: 1, p: 0, kind: 'duplicate', value: 'general' },
      { s: 'op', r: 0, op: { t: 'removeRoot', p: 0, r: 0 } },
      { s: 'deliver', r: 0, pick: 0, keep: false },
      { s: 'online', r: 0 },
      { s: 'foreign', r: 1, p: 239510809, kind: 'rename', value: 'general' },
      { s: 'op', r: 0, op: { t: 'addChannel', p: 0, name: 'general' } }
    ])
  })

  it('[PEAR-14] regression (seed -1849387065): a loadStore/saveStore that renames a duplicate entry keeps it, renamed, through restarts', async () => {
    await runFiles(2, [
      { s: 'op', r: 0, op: { t: 'addProject', name: 'general', path: '/src/a' } },
      { s: 'foreign', r: 0, p: 0, kind: 'duplicate', value: 'general' },
      { s: 'op', r: 0, op: { t: 'rmw', p: 367895721, field: 'name', value: 'general' } },
      { s: 'op', r: 0, op: { t: 'removeChannel', p: 0, c: 0 } },
      { s: 'deliver', r: 0, pick: 0, keep: false },
      { s: 'restart', r: 0 },
      { s: 'restart', r: 0 },
      { s: 'online', r: 0 }
    ])
  })

  it('[PEAR-14] regression (seed 895554370): a duplicate entry whose shared project another replica removed stays in loadStore through a saveStore, a restart and another process\'s write', async () => {
    await runFiles(2, [
      { s: 'op', r: 1, op: { t: 'addProject', name: 'general', path: '/src/a' } },
      { s: 'op', r: 1, op: { t: 'removeProject', p: 0 } },
      { s: 'deliver', r: 0, pick: 0, keep: false },
      { s: 'foreign', r: 0, p: 0, kind: 'duplicate', value: 'general' },
      { s: 'deliver', r: 0, pick: 0, keep: false },
      { s: 'offline', r: 0 },
      { s: 'op', r: 0, op: { t: 'rmw', p: 0, field: 'name', value: 'general' } },
      { s: 'restart', r: 0 },
      { s: 'foreign', r: 0, p: 0, kind: 'rename', value: 'general' }
    ])
  })

  it('[PEAR-14] regression (seed -1909815999): a duplicate entry stays in loadStore after another process renames the shared entry and the replica restarts', async () => {
    await runFiles(3, [
      { s: 'op', r: 0, op: { t: 'addProject', name: 'general', path: '/src/a' } },
      { s: 'foreign', r: 0, p: 0, kind: 'duplicate', value: 'general' },
      { s: 'deliver', r: 2, pick: 0, keep: false },
      { s: 'op', r: 2, op: { t: 'rmw', p: 0, field: 'extra', value: 'general' } },
      { s: 'op', r: 2, op: { t: 'rmw', p: 0, field: 'name', value: 'ben ' } },
      { s: 'deliver', r: 0, pick: 1879048185, keep: false },
      { s: 'op', r: 0, op: { t: 'removeRoot', p: 0, r: 0 } },
      { s: 'foreign', r: 0, p: 0, kind: 'rename', value: 'general' },
      { s: 'op', r: 0, op: { t: 'rmw', p: 0, field: 'name', value: 'general' } },
      { s: 'restart', r: 0 },
      { s: 'op', r: 0, op: { t: 'addChannel', p: 0, name: 'general' } }
    ])
  })

  it('[PEAR-14] regression (seed 521994740): a saveStore of data loaded before another process wrote a duplicate entry keeps that duplicate', async () => {
    await runFiles(3, [
      { s: 'op', r: 1, op: { t: 'addProject', name: 'general', path: '/src/a' } },
      { s: 'op', r: 4, op: { t: 'loadForLater' } },
      { s: 'foreign', r: 4, p: 0, kind: 'duplicate', value: 'general' },
      { s: 'op', r: 1, op: { t: 'saveStale', p: 0, value: 'general' } },
      { s: 'op', r: 0, op: { t: 'removeProject', p: 0 } },
      { s: 'op', r: 0, op: { t: 'rmw', p: 0, field: 'name', value: 'general' } },
      { s: 'op', r: 0, op: { t: 'rename', p: 0, name: 'general' } },
      { s: 'op', r: 0, op: { t: 'addChannel', p: 0, name: 'general' } },
      { s: 'deliver', r: 0, pick: 0, keep: false }
    ])
  })

  it('[MERGE-4] regression (seed 841230041): a project removed here stays removed through restarts and another process\'s write of the file', async () => {
    await runFiles(3, [
      { s: 'op', r: 0, op: { t: 'addProject', name: 'general', path: '/src/a' } },
      { s: 'op', r: 1, op: { t: 'addProject', name: 'general', path: '/src/a' } },
      { s: 'foreign', r: 0, p: 0, kind: 'duplicate', value: 'general' },
      { s: 'deliver', r: 4, pick: 0, keep: false },
      { s: 'op', r: 4, op: { t: 'rename', p: 0, name: 'general' } },
      { s: 'deliver', r: 0, pick: 561248301, keep: false },
      { s: 'op', r: 0, op: { t: 'removeProject', p: 0 } },
      { s: 'restart', r: 0 },
      { s: 'foreign', r: 0, p: 0, kind: 'rename', value: 'general' },
      { s: 'deliver', r: 0, pick: 0, keep: false },
      { s: 'op', r: 0, op: { t: 'removeChannel', p: 0, c: 0 } },
      { s: 'restart', r: 0 }
    ])
  })

  it('[FILE-14] regression (seed -982102226): a channel merged from another process\'s write is saved, so a restart and a removal of it converge', async () => {
    await runFiles(2, [
      { s: 'op', r: 0, op: { t: 'addProject', name: 'general', path: '/src/a' } },
      { s: 'deliver', r: 0, pick: 0, keep: false },
      { s: 'foreign', r: 0, p: 0, kind: 'channel', value: 'ops' },
      { s: 'restart', r: 0 },
      { s: 'op', r: 0, op: { t: 'removeChannel', p: 0, c: 1311513307 } },
      { s: 'deliver', r: 0, pick: 0, keep: false }
    ])
  })

  it('[FILE-12] regression (seed -1507460179): a write by another process just after our save is merged at the next call', async () => {
    await runFiles(3, [
      { s: 'op', r: 2, op: { t: 'addProject', name: 'general', path: '/src/a' } },
      { s: 'foreign', r: 2, p: 0, kind: 'rename', value: 'Ben' },
      { s: 'restart', r: 0 },
      { s: 'deliver', r: 0, pick: 0, keep: false },
      { s: 'offline', r: 0 },
      { s: 'deliver', r: 0, pick: 0, keep: false }
    ])
  })

  it('[FILE-5] regression (seed 2040862834): an update still waiting for its dependencies survives a restart', async () => {
    const fileOf = (index: number) => ({ file: join(dir, `pending-${index}.json`), saveDelayMs: 1 })
    const network = new ReplicaNetwork()
    const [a, b] = [network.add(fileOf(0)), network.add(fileOf(1))] as [Replica, Replica]
    const project = a.store.addProject('general', '/src/a')
    a.store.updateProject(project.id, { name: 'ÄRGER' })
    network.deliver(b, 1, false) // the rename arrives before the project it renames
    await network.restart(b, fileOf(1))
    network.deliverAll()
    const model = new MergeModel()
    model.addProject(project)
    model.rename(project.id, 'ÄRGER')
    checkConverged(network, model)
    expect(b.store.loadStore().projects.map((p) => p.name)).toEqual(['ÄRGER'])
    await Promise.all(network.replicas.map((replica) => replica.store.close()))
  })

  it('[FILE-4] [FILE-2] [FILE-12] replicas restarting from their own projects.json, changed by another process, keep what the merge rules keep', async () => {
    const restartArb = fc.record({ s: fc.constant('restart' as const), r: fc.nat(4) })
    const foreignArb: fc.Arbitrary<ForeignStep> = fc.record({
      s: fc.constant('foreign' as const),
      r: fc.nat(4),
      p: fc.nat(),
      kind: fc.constantFrom('rename' as const, 'channel' as const, 'duplicate' as const),
      value: word
    })
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 4 }),
        fc.array(fc.oneof({ weight: 8, arbitrary: stepArb }, { weight: 1, arbitrary: restartArb }, { weight: 1, arbitrary: foreignArb }), { minLength: 5, maxLength: 40, size: 'max' }),
        (count, steps) => runFiles(count, steps)
      ),
      // A run that hangs fails with its seed instead of timing the whole test out.
      { ...fuzzParams(30), timeout: 20_000 }
    )
  }, 300_000)
})
