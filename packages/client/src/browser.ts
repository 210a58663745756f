/**
 * The browser entry (`@orchard/client/browser`): the parts of the client with no `node:`
 * imports and no `ws`, for pages bundled with Vite. A page brings its own transport over
 * the global WebSocket (see Transport).
 */
export type { Transport, TransportFactory } from './transport.js'
export { RelayProvider, RelayRequestError, PROVIDER_ORIGIN } from './RelayProvider.js'
export type { ProviderStatus, RelayErrorInfo, RelayProviderEvents, RelayProviderOptions, RequestHandler, StopReason } from './RelayProvider.js'
export { PresenceView } from './PresenceView.js'
export type { PresenceEntry, PresenceEvents } from './PresenceView.js'
export { ACK_INTERVAL_MS, TerminalStream } from './terminal/TerminalStream.js'
export type { TerminalStreamEvents } from './terminal/TerminalStream.js'
