/**
 * The relay's storage layer. The contract suites are not exported here because they import
 * vitest; they live in ./contract/index.ts for the package's ./testing export.
 */
export type { DocStorage, RecordStorage, RelayStorage, StoredDoc } from './types.js'
export { StorageError, isStorageError, type StorageErrorCode } from './errors.js'
export { MemoryStorage } from './MemoryStorage.js'
export { ThreadedSqliteStorage } from './ThreadedSqliteStorage.js'
export { SqliteStorage, type SqliteStorageOptions, type SqliteStorageStatus, type CheckpointResult, type Durability, type StartupCheck } from './SqliteStorage.js'
export { SCHEMA_VERSION, APPLICATION_ID } from './sqlite-schema.js'
export { DataFileLock } from './DataFileLock.js'
