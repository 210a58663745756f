// y-websocket reference server: @y/websocket-server@0.1.1 (yjs-13 line), no persistence.
// Same wiring as the package's own src/server.js, but on ws@8 (the package's bin
// would pick up its optional ws@6), bound to 127.0.0.1 and an ephemeral port.
import http from 'node:http'
import { WebSocketServer } from 'ws'
import { setupWSConnection } from '@y/websocket-server/utils'
import { announce } from './announce.js'

const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain' })
  res.end('okay')
})
const wss = new WebSocketServer({ noServer: true })
wss.on('connection', setupWSConnection)
server.on('upgrade', (req, socket, head) => {
  wss.handleUpgrade(req, socket, head, (ws) => {
    wss.emit('connection', ws, req)
  })
})
server.listen(0, '127.0.0.1', () => {
  const addr = server.address()
  if (addr === null || typeof addr === 'string') throw new Error('no port')
  announce(addr.port, { server: '@y/websocket-server@0.1.1' })
})
