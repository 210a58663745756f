/**
 * The provider and its Node WebSocket transport alone: enough for a tool that only talks to
 * a relay (the `orchard` CLI's management commands). The main entry also loads the session,
 * the projects.json store and the terminal mirror (@xterm/headless), most of its load time
 * (issue 12: `orchard invite` <= 500 ms). Same classes as the main entry, not copies.
 */
export type { Transport, TransportFactory } from './transport.js'
export { WebSocketTransport, webSocketTransport } from './WebSocketTransport.js'
export { RelayProvider, RelayRequestError, PROVIDER_ORIGIN } from './RelayProvider.js'
export type { ProviderStatus, RelayErrorInfo, RelayProviderEvents, RelayProviderOptions, RequestHandler, StopReason } from './RelayProvider.js'
