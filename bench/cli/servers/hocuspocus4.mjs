// Hocuspocus 4's stock Server (in memory).
import { Server } from 'hocuspocus-server-4'

const server = new Server({ port: 0, address: '127.0.0.1', quiet: true, stopOnSignals: false })
await server.listen()
console.log(JSON.stringify({ port: server.address.port }))
