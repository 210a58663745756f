// Hocuspocus 3's stock Server (in memory), as its README starts it.
import { Server } from '@hocuspocus/server'

const server = new Server({ port: 0, address: '127.0.0.1', quiet: true, stopOnSignals: false })
await server.listen()
console.log(JSON.stringify({ port: /** @type {import('node:net').AddressInfo} */ (server.httpServer.address()).port }))
