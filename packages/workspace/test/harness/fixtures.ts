/**
 * The project records and Pear fixtures the workspace's unit tests build from (src/*.test.ts
 * and test/*.test.ts alike), so each test file states only what it changes.
 */
import { parseProject } from '../../src/pear-rules.js'
import type { Project } from '../../src/types.js'
import type { NewProjectRecord } from '../../src/WorkspaceModel.js'

/** The fields every project record starts with: one root at /src/<id>, the general channel. */
function defaults(id: string) {
  return {
    id,
    name: `Project ${id}`,
    relayWorkspaceId: id,
    rootPath: `/src/${id}`,
    roots: [{ id: `${id}-r1`, name: id, path: `/src/${id}` }],
    channels: ['general'],
    channelPeople: {},
    integrations: []
  }
}

/** A record as WorkspaceModel.addProject takes it. */
export function modelRecord(id: string, extra: Partial<NewProjectRecord> = {}): NewProjectRecord {
  return { ...defaults(id), ...extra }
}

/** A project as the store API hands it out. */
export function storeProject(id: string, extra: Partial<Project> = {}): Project {
  return { ...defaults(id), ...extra }
}

/** A minimal raw Pear project and its root, as projects.json holds them. */
export const pearRoot = { id: 'r1', name: 'app', path: '/home/ana/app' }
export const pearProject = { id: 'p1', name: 'App', roots: [pearRoot] }

/** parseProject on input that must be valid: the project, or a thrown reason. */
export function parseValid(raw: unknown) {
  const result = parseProject(raw)
  if (!result.ok) throw new Error(`expected a valid project: ${result.reason}`)
  return result.project
}
