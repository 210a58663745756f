// Hocuspocus 4.7.0 (npm alias hocuspocus-server-4), in memory, its stock Server
// (crossws node adapter), default flushDelay 0 = updates of a document merged per
// event-loop turn before broadcasting. No extensions, no onAuthenticate hook.
import { Server } from 'hocuspocus-server-4'
import { announce } from './announce.js'

const server = new Server({ port: 0, address: '127.0.0.1', quiet: true, stopOnSignals: false })
await server.listen()
announce(server.address.port, { server: '@hocuspocus/server@4.7.0', node: process.version })
