/** The in-memory transport (client testing) passes the transport contract against a relay core. */
import { runTransportContract } from '@orchard/client/testing'
import { MemoryStorage, RelayCore } from '@orchard/relay'
import { memoryTransport } from '@orchard/client/testing'

runTransportContract(async () => {
  const core = new RelayCore({ storage: new MemoryStorage(), logger: { info: () => {}, error: () => {} } })
  const { credential } = await core.createWorkspace('Contract', 'Owner')
  return { connect: memoryTransport(core), credential, teardown: () => core.close() }
}, 'memory pair')
