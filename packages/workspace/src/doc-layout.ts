/**
 * Where everything lives in the workspace Y.Doc. One place names the keys so the model,
 * the view and the tests agree. See SPEC.md "Workspace doc layout" (DOC-n).
 *
 *   meta             Y.Map   schemaMajor, schemaMinor                      (DOC-1)
 *   projects         Y.Map   projectId -> Y.Map (project record)           (DOC-2)
 *   projectOrder     Y.Array projectId, appended on add; read deduped       (MERGE-5)
 *   removedProjects  Y.Map   projectId -> true (tombstones)                 (MERGE-4)
 *
 * A project record (Y.Map). Its nested types are created with the record and never
 * later (DOC-3): two replicas creating the same nested type concurrently would each make
 * their own, and one would silently lose its contents. Sparse per-item data is therefore
 * stored as prefixed keys of the record itself, each last-writer-wins:
 *   name, relayWorkspaceId, rootPath                 strings
 *   cloudAgentWorkspaceMode, proactiveAgents, host   JSON
 *   roots         Y.Array<{id, name, path}>          path as created on the adding machine
 *   channels      Y.Array<string>                    slugs; read deduped (MERGE-2)
 *   integrations  Y.Array<Y.Map>                     one map per integration, keys LWW
 *   people:<slug>        string[]                    channelPeople entry
 *   rootRemoved:<rootId> true                        root tombstone (MERGE-7)
 *   x:<key>              JSON                        a key Orchard does not know (PEAR-11)
 */
import * as Y from 'yjs'

export const SCHEMA_MAJOR = 1
export const SCHEMA_MINOR = 0

export const KEY = {
  meta: 'meta',
  projects: 'projects',
  projectOrder: 'projectOrder',
  removedProjects: 'removedProjects'
} as const

export const PROJECT_KEY = {
  name: 'name',
  relayWorkspaceId: 'relayWorkspaceId',
  rootPath: 'rootPath',
  cloudAgentWorkspaceMode: 'cloudAgentWorkspaceMode',
  proactiveAgents: 'proactiveAgents',
  host: 'host',
  roots: 'roots',
  channels: 'channels',
  integrations: 'integrations'
} as const

export const PREFIX = {
  people: 'people:',
  rootRemoved: 'rootRemoved:',
  extra: 'x:'
} as const

/** Project fields stored as plain JSON values, last writer wins. */
export const SCALAR_FIELDS = [
  PROJECT_KEY.name,
  PROJECT_KEY.relayWorkspaceId,
  PROJECT_KEY.cloudAgentWorkspaceMode,
  PROJECT_KEY.proactiveAgents,
  PROJECT_KEY.host
] as const
export type ScalarField = (typeof SCALAR_FIELDS)[number]

/** Keys of Pear's Project that Orchard models itself; any other key is an extra. */
export const KNOWN_PROJECT_KEYS = new Set<string>([
  'id',
  'name',
  'relayWorkspaceId',
  'rootPath',
  'roots',
  'channels',
  'channelPeople',
  'integrations',
  'cloudAgent',
  'cloudAgentWorkspaceMode',
  'proactiveAgents',
  'host'
])

export interface DocParts {
  meta: Y.Map<unknown>
  projects: Y.Map<Y.Map<unknown>>
  projectOrder: Y.Array<string>
  removedProjects: Y.Map<boolean>
}

export function docParts(doc: Y.Doc): DocParts {
  return {
    meta: doc.getMap(KEY.meta),
    projects: doc.getMap(KEY.projects),
    projectOrder: doc.getArray(KEY.projectOrder),
    removedProjects: doc.getMap(KEY.removedProjects)
  }
}

/** A root as the shared doc keeps it: the path is the one it had where it was added. */
export interface RootRecord {
  id: string
  name: string
  path: string
}

export interface ProjectParts {
  map: Y.Map<unknown>
  roots: Y.Array<RootRecord>
  channels: Y.Array<string>
  integrations: Y.Array<Y.Map<unknown>>
}

/**
 * The nested types of a project record. A missing one means the record is damaged; it
 * reads as empty (and is not written to) rather than throwing.
 */
export function projectParts(map: Y.Map<unknown>): ProjectParts {
  return {
    map,
    roots: arrayAt<RootRecord>(map, PROJECT_KEY.roots),
    channels: arrayAt<string>(map, PROJECT_KEY.channels),
    integrations: arrayAt<Y.Map<unknown>>(map, PROJECT_KEY.integrations)
  }
}

function arrayAt<T>(map: Y.Map<unknown>, key: string): Y.Array<T> {
  const value = map.get(key)
  return value instanceof Y.Array ? (value as Y.Array<T>) : new Y.Array<T>()
}

export interface SchemaVersion {
  major: number
  minor: number
}

export function readSchemaVersion(doc: Y.Doc): SchemaVersion | undefined {
  const meta = doc.getMap(KEY.meta)
  const major = meta.get('schemaMajor')
  if (typeof major !== 'number') return undefined
  const minor = meta.get('schemaMinor')
  return { major, minor: typeof minor === 'number' ? minor : 0 }
}
