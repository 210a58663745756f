/**
 * The client's transport contract (TRANSPORT-3) over RelayCast: the fake engine driven by the
 * real SDK, the host's virtual relay on the far end. Each connection is its own RelayCast
 * agent, as each instance is.
 */
import { runTransportContract } from '@orchard/client/testing'
import { RelayCastWorld } from './harness.js'

runTransportContract(async () => {
  const world = await RelayCastWorld.start()
  let connections = 0
  return {
    connect: () => world.remote(`contract-${++connections}`).transport(),
    credential: world.ownerCredential,
    teardown: () => world.close()
  }
}, 'relaycast')
