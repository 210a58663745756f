/**
 * The client transport over the browser's own WebSocket (no `ws` package). Same contract
 * as WebSocketTransport: one connection attempt, onClose called exactly once.
 */
import { CloseLatch } from '../CloseLatch.js'
import { orchardEndpoint, type Transport, type TransportFactory } from '../transport.js'

/** The part of the DOM WebSocket this transport uses (typed here so Node typings suffice). */
interface DomSocket {
  binaryType: string
  readyState: number
  send(data: Uint8Array): void
  close(code?: number, reason?: string): void
  addEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (event: { data?: unknown; code?: number; reason?: string }) => void): void
}
type DomSocketConstructor = new (url: string) => DomSocket

const OPEN = 1
const CONNECTING = 0

export class BrowserWebSocketTransport implements Transport {
  private readonly ws: DomSocket
  private readonly closing = new CloseLatch()

  constructor(url: string) {
    const Socket = (globalThis as unknown as { WebSocket?: DomSocketConstructor }).WebSocket
    if (!Socket) throw new Error('This environment has no WebSocket; use the Node entry (@orchard/client) instead.')
    this.ws = new Socket(url)
    this.ws.binaryType = 'arraybuffer'
    this.ws.addEventListener('close', (event) => this.closing.close(event.code ?? 1006, event.reason ?? ''))
  }

  send(data: Uint8Array): void {
    if (this.ws.readyState === OPEN) this.ws.send(data)
  }

  close(code = 1000, reason = ''): void {
    // A browser may only close with 1000 or 3000-4999; a socket still connecting is simply dropped.
    if (this.ws.readyState === CONNECTING) this.ws.close()
    else this.ws.close(code === 1000 || (code >= 3000 && code <= 4999) ? code : 1000, reason)
    // The browser's close event can come late (or never, for a socket still connecting):
    // the caller is told now, once.
    this.closing.close(1000, reason)
  }

  onOpen(listener: () => void): void {
    this.ws.addEventListener('open', () => listener())
  }

  onMessage(listener: (data: Uint8Array) => void): void {
    this.ws.addEventListener('message', (event) => {
      if (event.data instanceof ArrayBuffer) listener(new Uint8Array(event.data))
    })
  }

  onClose(listener: (code: number, reason: string) => void): void {
    this.closing.listen(listener)
  }
}

/**
 * `ws(s)://host:port` or `.../orchard` -> a factory for Orchard connections. In a page the
 * relay served, `relayUrlFor(location)` gives the same origin's socket.
 */
export function browserWebSocketTransport(relayUrl: string): TransportFactory {
  const url = orchardEndpoint(relayUrl)
  return () => new BrowserWebSocketTransport(url)
}

/** The relay that served this page: ws://host/ for http, wss://host/ for https. */
export function relayUrlFor(location: { protocol: string; host: string }): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`
}
