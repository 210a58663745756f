export { MemoryEnd, MemoryPair } from './MemoryTransport.js'
export { runTransportContract, type TransportCapabilities, type TransportSetup } from './transport-contract.js'
