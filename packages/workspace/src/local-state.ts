/**
 * What belongs to this machine and never enters the shared doc (SPEC LOCAL-1..LOCAL-5):
 * the active project, the relay credential record, where each root is on this disk,
 * cloud agents attached from here, top-level keys Orchard does not know, and projects
 * quarantined because Pear's rules reject them.
 */
import { dedupeRoots, type SharedProject } from './project-view.js'
import type { Project, ProjectCloudAgent, RelayWorkspaceRecord } from './types.js'

export interface LocalProjectState {
  /** rootId -> this machine's path, where it differs from the path as created. */
  roots?: Record<string, string>
  cloudAgent?: ProjectCloudAgent
}

export interface LocalState {
  activeProjectId: string | null
  relayWorkspace?: RelayWorkspaceRecord
  projects: Record<string, LocalProjectState>
  /** Top-level keys of projects.json that Pear's shape does not name; kept verbatim. */
  topLevel: Record<string, unknown>
  /** Project entries Pear's rules reject, kept verbatim so a save never loses them (PEAR-12). */
  quarantine: unknown[]
}

export function emptyLocalState(): LocalState {
  return { activeProjectId: null, projects: {}, topLevel: {}, quarantine: [] }
}

/** LOCAL-2/LOCAL-3: the shared project as this machine sees it. Always a fresh object. */
export function localProject(shared: SharedProject, local: LocalProjectState | undefined): Project {
  const overlay = local?.roots
  const roots = overlay
    ? dedupeRoots(shared.roots.map((root) => ({ ...root, path: overlay[root.id] ?? root.path })))
    : shared.roots.map((root) => ({ ...root }))
  let rootPath = shared.rootPath
  if (overlay) {
    const primary = shared.roots.find((root) => root.path === shared.rootPath)
    if (primary) rootPath = overlay[primary.id] ?? rootPath
  }
  const out: Project = {
    ...structuredClone(shared as Project),
    rootPath,
    roots
  }
  if (local?.cloudAgent) out.cloudAgent = structuredClone(local.cloudAgent)
  return out
}

export function cloneLocalState(state: LocalState): LocalState {
  return structuredClone(state)
}
