// Hocuspocus 3.4.4, in memory (no extensions, no onAuthenticate hook: every token passes).
// Hocuspocus 3's own Server.listen() passes `address` where node expects `host`, so it
// would bind every interface; this replicates its Server (http + ws upgrade ->
// hocuspocus.handleConnection) bound to 127.0.0.1 instead. Same ws@8, same hooks.
import http from 'node:http'
import { WebSocketServer } from 'ws'
import { Hocuspocus } from '@hocuspocus/server'
import { announce } from './announce.js'

const hocuspocus = new Hocuspocus({ quiet: true })
const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain' })
  res.end('Welcome to Hocuspocus!')
})
const wss = new WebSocketServer({ noServer: true })
wss.on('connection', (ws, req) => {
  ws.setMaxListeners(Number.POSITIVE_INFINITY)
  ws.on('error', (err) => console.error('ws error', err))
  hocuspocus.handleConnection(ws, req)
})
server.on('upgrade', (req, socket, head) => {
  wss.handleUpgrade(req, socket, head, (ws) => {
    wss.emit('connection', ws, req)
  })
})
server.listen(0, '127.0.0.1', () => {
  const addr = server.address()
  if (addr === null || typeof addr === 'string') throw new Error('no port')
  announce(addr.port, { server: '@hocuspocus/server@3.4.4' })
})
