/**
 * The storage contract suites, for the package's ./testing export. They import vitest, so
 * they are kept out of the runtime index (../index.ts).
 */
export { runDocStorageContract, type DocStorageHarness } from './doc-storage-contract.js'
export { runRecordStorageContract, type RecordStorageHarness } from './record-storage-contract.js'
