export { MemoryEnd, MemoryPair } from './MemoryTransport.js'
export { memoryTransport, type MemoryAcceptor } from './memory-transport.js'
