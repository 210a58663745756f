export { NodePtyBroker } from './NodePtyBroker.js'
export type { PtySpawnOptions } from './NodePtyBroker.js'
