/**
 * The client's transport seam (TRANSPORT-2): five members, so RelayCast channels or an
 * in-memory pair plug in without touching the provider. A transport is one connection
 * attempt; the provider makes a new one (through a factory) for every reconnect.
 */
export interface Transport {
  send(data: Uint8Array): void
  close(code?: number, reason?: string): void
  onOpen(listener: () => void): void
  onMessage(listener: (data: Uint8Array) => void): void
  /** Called once, when the connection ends or fails to open (code 1006 if there was none). */
  onClose(listener: (code: number, reason: string) => void): void
}

export type TransportFactory = () => Transport

/** `ws(s)://host:port` or `.../orchard` -> the relay's Orchard endpoint (every WebSocket transport). */
export function orchardEndpoint(relayUrl: string): string {
  return /\/orchard\/?$/.test(relayUrl) ? relayUrl : `${relayUrl.replace(/\/+$/, '')}/orchard`
}
