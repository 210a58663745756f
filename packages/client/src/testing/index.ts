export { MemoryEnd, MemoryPair } from './MemoryTransport.js'
export { memoryTransport, type MemoryAcceptor } from './memory-transport.js'
export { runTransportContract, type TransportCapabilities, type TransportSetup } from './transport-contract.js'
