// The Orchard relay from the library with in-memory storage (no SQLite, no writer thread):
// what the relay itself costs, comparable with the in-memory peers.
import { RelayCore, RelayServer, MemoryStorage } from '@orchard/relay'

const core = new RelayCore({ storage: new MemoryStorage(), logger: { info() {}, error: (message) => console.error(message) } })
const server = new RelayServer(core, { port: 0, host: '127.0.0.1' })
const url = await server.listen()
await core.createWorkspace('Demo', 'Owner')
console.log(JSON.stringify({ url }))
