/**
 * What belongs to this machine and never enters the shared doc (SPEC LOCAL-1..LOCAL-5):
 * the active project, the relay credential record, where each root is on this disk,
 * cloud agents attached from here, top-level keys Orchard does not know, and projects
 * quarantined because Pear's rules reject them.
 */
import { dedupeRoots, type SharedProject } from './project-view.js'
import type { Project, ProjectCloudAgent } from './types.js'

export interface LocalProjectState {
  /** rootId -> this machine's path, where it differs from the path as created. */
  roots?: Record<string, string>
  /** Pear keeps `cloudAgent: null` as written, so null is a value here, not an absence. */
  cloudAgent?: ProjectCloudAgent | null
}

/** A project entry whose id an earlier entry of projects.json already has (Pear shows both). */
export interface DuplicateEntry {
  /** Its position in the `projects` array, where Pear would show it. */
  index: number
  /** The entry as found, kept whole. */
  entry: unknown
}

export interface LocalState {
  activeProjectId: string | null
  /** As found in the file or given by the caller: Pear returns it raw (API-10). */
  relayWorkspace?: unknown
  projects: Record<string, LocalProjectState>
  /** Top-level keys of projects.json that Pear's shape does not name; kept verbatim. */
  topLevel: Record<string, unknown>
  /** Project entries Pear's rules reject, kept verbatim so a save never loses them (PEAR-12). */
  quarantine: unknown[]
  /**
   * PEAR-14: entries whose id repeats an earlier project's. The doc holds one project per
   * id, so the extra ones stay here, whole, and are shown where Pear shows them.
   */
  duplicates: DuplicateEntry[]
}

export function emptyLocalState(): LocalState {
  return { activeProjectId: null, projects: {}, topLevel: {}, quarantine: [], duplicates: [] }
}

/**
 * LOCAL-2/LOCAL-3: the shared project as this machine sees it, without copying: the
 * shared view itself when this machine has nothing of its own for it. Read-only; hand
 * callers `cloneProject` of it.
 */
export function viewProject(shared: SharedProject, local: LocalProjectState | undefined): Readonly<Project> {
  if (!local || (local.cloudAgent === undefined && (!local.roots || Object.keys(local.roots).length === 0))) return shared
  const overlay = local.roots
  const roots = overlay ? dedupeRoots(shared.roots.map((root) => ({ ...root, path: overlay[root.id] ?? root.path }))) : shared.roots
  let rootPath = shared.rootPath
  if (overlay) {
    const primary = shared.roots.find((root) => root.path === shared.rootPath)
    if (primary) rootPath = overlay[primary.id] ?? rootPath
  }
  const out: Project = { ...(shared as Project), rootPath, roots }
  if (local.cloudAgent !== undefined) out.cloudAgent = local.cloudAgent
  return out
}

/** The local view as a fresh object the caller may mutate (API-1). */
export function localProject(shared: SharedProject, local: LocalProjectState | undefined): Project {
  return cloneProject(viewProject(shared, local))
}

/**
 * A deep copy that knows a project's shape: the known fields are copied directly (an
 * order of magnitude faster than structuredClone at 10,000 projects) and only values of
 * unknown shape go through structuredClone.
 */
export function cloneProject(project: Readonly<Project>): Project {
  const out = { ...project } as Project
  out.roots = project.roots.map((root) => ({ id: root.id, name: root.name, path: root.path }))
  out.channels = [...project.channels]
  const people: Record<string, string[]> = {}
  for (const [channel, list] of Object.entries(project.channelPeople)) people[channel] = [...list]
  out.channelPeople = people
  out.integrations = project.integrations.map(cloneRecord) as Project['integrations']
  for (const [key, value] of Object.entries(out)) {
    if (COPIED_ABOVE.has(key) || value === null || typeof value !== 'object') continue
    out[key] = structuredClone(value)
  }
  return out
}

const COPIED_ABOVE = new Set(['roots', 'channels', 'channelPeople', 'integrations'])

function cloneRecord(record: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(record)) out[key] = value !== null && typeof value === 'object' ? structuredClone(value) : value
  return out
}

