/** The default transport: a WebSocket to the relay's /orchard endpoint (node: the `ws` package). */
import WebSocket from 'ws'
import { CloseLatch } from './CloseLatch.js'
import { orchardEndpoint, type Transport, type TransportFactory } from './transport.js'

export class WebSocketTransport implements Transport {
  private readonly ws: WebSocket
  private readonly closing = new CloseLatch()

  constructor(url: string) {
    this.ws = new WebSocket(url, { perMessageDeflate: false })
    this.ws.binaryType = 'nodebuffer'
    this.ws.on('close', (code, reason) => this.closing.close(code, reason.toString()))
    // 'error' always precedes 'close' in ws; the close carries the outcome.
    this.ws.on('error', () => undefined)
  }

  send(data: Uint8Array): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(data, { binary: true })
  }

  close(code = 1000, reason = ''): void {
    if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate()
    else this.ws.close(code, reason)
  }

  onOpen(listener: () => void): void {
    this.ws.on('open', listener)
  }

  onMessage(listener: (data: Uint8Array) => void): void {
    this.ws.on('message', (data: Buffer) => listener(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)))
  }

  onClose(listener: (code: number, reason: string) => void): void {
    this.closing.listen(listener)
  }
}

/** `ws://host:port` or `ws://host:port/orchard` -> a factory for Orchard connections. */
export function webSocketTransport(relayUrl: string): TransportFactory {
  const url = orchardEndpoint(relayUrl)
  return () => new WebSocketTransport(url)
}
