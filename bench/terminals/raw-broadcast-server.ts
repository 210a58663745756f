// The physical ceiling for terminal fan-out: a plain `ws` server with no persistence, no
// framing beyond ws and no flow control. One publisher socket (/pub) sends binary
// messages; each message is sent, as the same Buffer, to every viewer socket (/view).
// Viewers that stop reading are not detected: their bytes queue in this process without
// bound (that is what the benchmark's stalled-viewer case shows).
//   node --import tsx bench/terminals/raw-broadcast-server.ts [--port 0]
// Prints one JSON line {"ready":true,"url":"ws://127.0.0.1:<port>"} when listening.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { parseArgs } from 'node:util'
import { WebSocketServer, type WebSocket } from 'ws'

const { values } = parseArgs({ options: { port: { type: 'string' }, host: { type: 'string' } } })
const http = createServer((_req, res) => {
  res.writeHead(404)
  res.end()
})
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 })
const viewers = new Set<WebSocket>()

http.on('upgrade', (req, socket, head) => {
  const path = new URL(req.url ?? '/', 'http://raw').pathname
  if (path !== '/pub' && path !== '/view') {
    socket.destroy()
    return
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.on('error', () => ws.terminate())
    if (path === '/view') {
      viewers.add(ws)
      ws.on('close', () => viewers.delete(ws))
      return
    }
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      for (const viewer of viewers) viewer.send(data, { binary: isBinary })
    })
  })
})

await new Promise<void>((resolve) => http.listen(Number(values.port ?? 0), values.host ?? '127.0.0.1', resolve))
const { port } = http.address() as AddressInfo
console.log(JSON.stringify({ ready: true, url: `ws://127.0.0.1:${port}` }))

const stop = () => {
  for (const ws of wss.clients) ws.terminate()
  wss.close()
  http.close()
  setTimeout(() => process.exit(0), 200).unref()
}
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
