export * from './types.js'
export { WorkspaceModel, type WorkspaceChange, type WorkspaceModelEvents, type NewProjectRecord } from './WorkspaceModel.js'
export { PearStore, createPearStore, FILE_ORIGIN } from './PearStore.js'
export type { PearStoreOptions, PearStoreEvents, StoreChange, StoreProblem, StoreProblemKind, StoreLogger } from './PearStore.js'
export { ReadOnlyWorkspaceError, WriteRefusedError, PROJECT_NOT_FOUND, LAST_ROOT } from './errors.js'
export { SCHEMA_MAJOR, SCHEMA_MINOR, readSchemaVersion } from './doc-layout.js'
export type { SharedProject } from './project-view.js'
export {
  normalizeChannelName,
  normalizeChannels,
  normalizePeopleList,
  normalizeRelayWorkspace,
  parseProject,
  stableIntegrationId,
  canonicalJson
} from './pear-rules.js'
export { parseSnapshot, renderSnapshot, viewHash, FILE_FORMAT } from './snapshot-format.js'
