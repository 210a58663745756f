/**
 * A TCP proxy on 127.0.0.1 port 0 in front of a real relay, so a test can drop every live
 * connection at once as a network would (no close frame: both sides see 1006), while the
 * relay itself keeps running.
 */
import { createConnection, createServer, type Socket } from 'node:net'

export interface CutProxy {
  /** ws://127.0.0.1:<proxy port> */
  url: string
  /** Destroys every connection through the proxy; new ones are let through. */
  cut(): void
  close(): Promise<void>
}

export async function startCutProxy(target: string): Promise<CutProxy> {
  const { hostname, port } = new URL(target)
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    const upstream = createConnection({ host: hostname, port: Number(port) })
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
      socket.on('error', () => undefined)
    }
    client.pipe(upstream)
    upstream.pipe(client)
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port: proxyPort } = server.address() as { port: number }
  return {
    url: `ws://127.0.0.1:${proxyPort}`,
    cut: () => {
      for (const socket of sockets) socket.destroy()
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      })
  }
}
