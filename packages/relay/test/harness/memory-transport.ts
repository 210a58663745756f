// The relay's tests use the client's in-memory transport (the relay package never imports the client).
export { memoryTransport } from '@orchard/client/testing'
