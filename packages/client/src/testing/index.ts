export { MemoryEnd, MemoryPair } from './MemoryTransport.js'
