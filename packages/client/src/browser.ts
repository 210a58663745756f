/**
 * @orchard/client for browsers: no node: imports, no `ws`, no projects.json, no headless
 * xterm. The browser's WebSocket and crypto are used; the workspace lives in memory and
 * the seat (credential) in a SeatStore. The web observer is built on this entry.
 */
import { installImmediate } from './browser/immediate.js'

// The provider and terminal streams schedule with setImmediate (Node); give browsers one.
installImmediate()

export type { Transport, TransportFactory } from './transport.js'
export { BrowserWebSocketTransport, browserWebSocketTransport, relayUrlFor } from './browser/BrowserWebSocketTransport.js'
export { BrowserSession, SessionError } from './browser/BrowserSession.js'
export type { BrowserSessionEvents, BrowserSessionOptions } from './browser/BrowserSession.js'
export { LocalSeatStore, MemorySeatStore } from './browser/SeatStore.js'
export type { BrowserSeat, SeatStore } from './browser/SeatStore.js'
export { RelayProvider, RelayRequestError, PROVIDER_ORIGIN } from './RelayProvider.js'
export type { ProviderStatus, RelayErrorInfo, RelayProviderEvents, RelayProviderOptions, StopReason } from './RelayProvider.js'
export { LeaseKeeper } from './LeaseKeeper.js'
export type { LeaseLost } from './LeaseKeeper.js'
export { PresenceView } from './PresenceView.js'
export type { PresenceEntry } from './PresenceView.js'
export { ACK_INTERVAL_MS, TerminalStream } from './terminal/TerminalStream.js'
export type { TerminalStreamEvents } from './terminal/TerminalStream.js'
export { OutputReassembler } from './terminal/OutputReassembler.js'
export type { Delivery } from './terminal/OutputReassembler.js'
export type { ActivityEntry, AgentRecord, AgentStatus, LeaseRecord, ControlInstance, ControlMember, MemberRole } from '@orchard/protocol'
export { WorkspaceModel, WriteRefusedError } from '@orchard/workspace/browser'
export type { SharedProject, Project, ProjectHost } from '@orchard/workspace/browser'
