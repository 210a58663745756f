/**
 * STORE-2: turning a whole-store write into the few edits it really makes.
 *
 * Pear code does `data = loadStore(); mutate(data); saveStore(data)`. Writing `data`
 * wholesale would overwrite every edit that arrived between the load and the save. So a
 * save is a three-way merge: compare `data` with the view the caller loaded (`base`) and
 * apply only what the caller changed, as the same small edits the API functions make.
 * Fields the caller did not touch are not written, so concurrent edits to them survive.
 */
import { canonicalJson, isRecord, parseProject } from './pear-rules.js'
import type { DuplicateEntry, LocalState } from './local-state.js'
import { KNOWN_PROJECT_KEYS, SCALAR_FIELDS, docParts, type RootRecord } from './doc-layout.js'
import type { NewProjectRecord, WorkspaceModel } from './WorkspaceModel.js'
import type { JsonValue, Project, ProjectIntegration } from './types.js'

export interface DiffResult {
  /** Raw entries Pear's rules reject; the caller decides whether to quarantine them. */
  rejected: Array<{ raw: unknown; reason: string }>
  /** True if machine-local state (overlays, cloud agents) changed. */
  localChanged: boolean
  /** PEAR-14: valid entries whose id an earlier entry has; the doc holds the first. */
  duplicates: DuplicateEntry[]
}

/**
 * Applies `target` (raw project entries) onto the model as the edits that turn `base`
 * into it. `base` is the local view the caller started from. Entries at the positions in
 * `skip` are duplicates kept beside the doc (PEAR-14, see duplicate-entries.ts): not edits.
 */
export function applyProjectsDiff(
  model: WorkspaceModel,
  local: LocalState,
  base: ReadonlyArray<Readonly<Project>>,
  target: readonly unknown[],
  currentView: (id: string) => Readonly<Project> | undefined,
  skip: ReadonlySet<number> = new Set()
): DiffResult {
  const result: DiffResult = { rejected: [], localChanged: false, duplicates: [] }
  const before = new Map(base.map((project) => [project.id, project]))
  // Unchanged entries (most of a whole-store save) are recognized by their JSON and never
  // re-parsed: parsing every project is what made a 10,000-project saveStore slow.
  const unchanged = new Set<string>()
  const next = new Map<string, Readonly<Project>>()
  for (const [index, raw] of target.entries()) {
    if (skip.has(index)) continue
    const id = isRecord(raw) && typeof raw.id === 'string' ? raw.id : undefined
    const was = id === undefined ? undefined : before.get(id)
    if (id !== undefined && was && !next.has(id) && JSON.stringify(raw) === jsonOf(was)) {
      unchanged.add(id)
      next.set(id, was)
      continue
    }
    const parsed = parseProject(raw)
    if (!parsed.ok) {
      result.rejected.push({ raw, reason: parsed.reason })
      continue
    }
    if (!next.has(parsed.project.id)) next.set(parsed.project.id, parsed.project)
    else result.duplicates.push({ index, entry: raw })
  }
  const added: Project[] = []

  model.transact(() => {
    for (const id of before.keys()) {
      if (next.has(id) || !holdsProject(model, id)) continue
      model.removeProject(id)
      if (local.projects[id]) {
        delete local.projects[id]
        result.localChanged = true
      }
    }
    for (const [id, project] of next) {
      if (unchanged.has(id)) continue
      const was = before.get(id) ?? currentView(id)
      if (was) {
        if (model.getProject(id)) result.localChanged = diffProject(model, local, was, project) || result.localChanged
      } else if (!model.isRemoved(id)) {
        added.push(project as Project)
      }
    }
    if (added.length > 0) {
      addWholeProjects(model, local, added)
      result.localChanged = true
    }
  })
  return result
}

/**
 * Whether the doc holds a record for this project, even one it cannot show right now (an
 * edit of its name that arrived before the edit it depends on leaves no readable name
 * until that one arrives): a removal must still remove it, or it comes back (MERGE-4).
 */
export function holdsProject(model: WorkspaceModel, id: string): boolean {
  return !model.isRemoved(id) && (model.getProject(id) !== undefined || docParts(model.doc).projects.has(id))
}

const jsonCache = new WeakMap<object, string>()

/** The JSON of a view; shared views are immutable, so each is stringified once. */
function jsonOf(project: Readonly<Project>): string {
  let json = jsonCache.get(project)
  if (json === undefined) {
    json = JSON.stringify(project)
    jsonCache.set(project, json)
  }
  return json
}

/** Adds projects no replica had (in one push of their ids: a push per project walks the order array each time). */
export function addWholeProjects(model: WorkspaceModel, local: LocalState, projects: readonly Project[]): void {
  model.addProjects(projects.map((project) => toRecord(local, project)))
}

/** Adds a project that no replica had: its paths are this machine's, so they are the as-created ones. */
export function addWholeProject(model: WorkspaceModel, local: LocalState, project: Project): void {
  model.addProject(toRecord(local, project))
}

function toRecord(local: LocalState, project: Project): NewProjectRecord {
  const scalars: Partial<Record<(typeof SCALAR_FIELDS)[number], JsonValue>> = {}
  for (const field of SCALAR_FIELDS) {
    if (field === 'name' || field === 'relayWorkspaceId') continue
    const value = project[field]
    if (value !== undefined) scalars[field] = value as JsonValue
  }
  if (project.cloudAgent !== undefined) {
    local.projects[project.id] = { ...local.projects[project.id], cloudAgent: project.cloudAgent }
  }
  return {
    id: project.id,
    name: project.name,
    relayWorkspaceId: project.relayWorkspaceId,
    rootPath: project.rootPath,
    roots: project.roots.map(toRootRecord),
    channels: project.channels,
    channelPeople: project.channelPeople,
    integrations: project.integrations,
    scalars,
    extra: extraKeys(project)
  }
}

/** Field-by-field edits from `was` to `now`. Returns true if local state changed. */
function diffProject(model: WorkspaceModel, local: LocalState, was: Readonly<Project>, now: Readonly<Project>): boolean {
  if (JSON.stringify(was) === JSON.stringify(now)) return false
  const id = now.id
  let localChanged = false

  for (const field of SCALAR_FIELDS) {
    if (!sameJson(was[field], now[field])) model.setField(id, field, now[field] as JsonValue | undefined)
  }

  const shared = model.getProject(id)
  const wasRoots = new Map(was.roots.map((root) => [root.id, root]))
  const nowRoots = new Map(now.roots.map((root) => [root.id, root]))
  for (const rootId of wasRoots.keys()) if (!nowRoots.has(rootId)) model.removeRoot(id, rootId)
  for (const [rootId, root] of nowRoots) {
    const before = wasRoots.get(rootId)
    if (!before) {
      model.addRoot(id, toRootRecord(root))
      continue
    }
    if (before.name !== root.name) model.renameRoot(id, rootId, root.name)
    if (before.path !== root.path) {
      // LOCAL-2: a root's path is this machine's business; the shared record keeps the
      // path it was created with and this machine remembers where it really is.
      const sharedPath = shared?.roots.find((entry) => entry.id === rootId)?.path
      const state = (local.projects[id] ??= {})
      const roots = (state.roots ??= {})
      if (sharedPath === root.path) delete roots[rootId]
      else roots[rootId] = root.path
      localChanged = true
    }
  }
  if (was.rootPath !== now.rootPath) {
    const primary = now.roots.find((root) => root.path === now.rootPath)
    const sharedPrimary = primary && shared?.roots.find((entry) => entry.id === primary.id)
    model.setRootPath(id, sharedPrimary ? sharedPrimary.path : now.rootPath)
  }

  const wasChannels = new Set(was.channels)
  const nowChannels = new Set(now.channels)
  for (const channel of wasChannels) if (!nowChannels.has(channel)) model.removeChannel(id, channel)
  for (const channel of nowChannels) if (!wasChannels.has(channel)) model.addChannel(id, channel)
  const peopleKeys = new Set([...Object.keys(was.channelPeople), ...Object.keys(now.channelPeople)])
  for (const channel of peopleKeys) {
    if (!nowChannels.has(channel)) continue
    const people = now.channelPeople[channel] ?? []
    const added = !wasChannels.has(channel)
    if (added ? people.length > 0 : !sameJson(was.channelPeople[channel] ?? [], people)) {
      model.setChannelPeople(id, channel, people)
    }
  }

  diffIntegrations(model, id, was.integrations, now.integrations)

  const wasExtra = extraKeys(was)
  const nowExtra = extraKeys(now)
  for (const key of new Set([...Object.keys(wasExtra), ...Object.keys(nowExtra)])) {
    if (!sameJson(wasExtra[key], nowExtra[key])) model.setExtra(id, key, nowExtra[key])
  }

  if (!sameJson(was.cloudAgent, now.cloudAgent)) {
    const state = (local.projects[id] ??= {})
    if (now.cloudAgent !== undefined) state.cloudAgent = now.cloudAgent
    else delete state.cloudAgent
    localChanged = true
  }
  return localChanged
}

function diffIntegrations(
  model: WorkspaceModel,
  projectId: string,
  was: readonly ProjectIntegration[],
  now: readonly ProjectIntegration[]
): void {
  const before = new Map(was.map((entry) => [entry.id, entry]))
  const after = new Map(now.map((entry) => [entry.id, entry]))
  for (const id of before.keys()) if (!after.has(id)) model.removeIntegration(projectId, id)
  for (const [id, entry] of after) {
    const old = before.get(id)
    if (!old) {
      model.addIntegration(projectId, entry)
      continue
    }
    for (const key of new Set([...Object.keys(old), ...Object.keys(entry)])) {
      if (key === 'id') continue
      if (!sameJson(old[key], entry[key])) {
        model.setIntegrationField(projectId, id, key, entry[key] as JsonValue | undefined)
      }
    }
  }
}

function extraKeys(project: Readonly<Project>): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {}
  for (const [key, value] of Object.entries(project)) {
    if (!KNOWN_PROJECT_KEYS.has(key) && value !== undefined) out[key] = value as JsonValue
  }
  return out
}

function toRootRecord(root: { id: string; name: string; path: string }): RootRecord {
  return { id: root.id, name: root.name, path: root.path }
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (a === undefined || b === undefined) return false
  return canonicalJson(a) === canonicalJson(b)
}
