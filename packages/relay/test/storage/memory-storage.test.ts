/** The in-memory reference runs both contract suites. It is not durable, so it offers no reopen. */
import { MemoryStorage } from '../../src/storage/index.js'
import { runDocStorageContract, runRecordStorageContract } from '../../src/storage/contract/index.js'

function setup() {
  return async () => {
    const storage = new MemoryStorage()
    return { storage, teardown: () => storage.close() }
  }
}

runDocStorageContract('MemoryStorage', setup())
runRecordStorageContract('MemoryStorage', setup())
