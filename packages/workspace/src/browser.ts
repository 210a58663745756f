/**
 * The browser-safe part of @orchard/workspace: the shared model and how a project reads,
 * with no node: imports (no projects.json, no file locks). The web observer and any
 * browser app bind a Y.Doc to the relay and read it through WorkspaceModel.
 */
export * from './types.js'
export { WorkspaceModel, type WorkspaceChange, type WorkspaceModelEvents, type NewProjectRecord } from './WorkspaceModel.js'
export { ReadOnlyWorkspaceError, WriteRefusedError } from './errors.js'
export { SCHEMA_MAJOR, SCHEMA_MINOR, readSchemaVersion } from './doc-layout.js'
export type { SharedProject } from './project-view.js'
export { normalizeChannelName, normalizeChannels, normalizePeopleList } from './channel-rules.js'
/** Also what the relay imports (it needs the model, not projects.json or its file lock). */
export { canonicalJson } from './canonical-json.js'
