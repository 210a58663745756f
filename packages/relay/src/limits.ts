/** The relay's limits (LIMIT-n). Over a limit is a clear error or close code, never a crash. */
export interface RelayLimits {
  /** Largest frame accepted; larger ones get ERROR too-large and close 4413. */
  maxFrameBytes: number
  /** Largest stored size of one document; updates beyond it are refused (the doc is unchanged). */
  maxDocBytes: number
  /** Sustained frames per second per connection (burst: twice this); over it closes with 4429. */
  framesPerSecond: number
  /** Sustained bytes per second per connection (burst: twice this). */
  bytesPerSecond: number
  /** Sustained terminal-output bytes per second from a host connection (burst: twice this). */
  outputBytesPerSecond: number
  /** A socket that has not said HELLO by then is closed (4400). */
  helloTimeoutMs: number
  /** Malformed frames tolerated before the socket is closed (4400). */
  maxBadFrames: number
  /** Minimum time between presence broadcasts per workspace (coalescing). */
  awarenessIntervalMs: number
  /** A workspace with no connections is unloaded from memory after this long. */
  unloadAfterMs: number
  /** Activity entries kept in the control doc. */
  activityLimit: number
  /** Stored updates per doc before the compactor merges them. */
  compactAfterUpdates: number
  /** How long an agent's input lease lasts unless renewed (holders renew at a third of it). */
  leaseTtlMs: number
  /** How long the relay waits for a host instance to spawn or stop an agent. */
  hostTimeoutMs: number
  /** Output kept per terminal for viewers to resume from (TERM-2). */
  terminalRingBytes: number
  /** A viewer whose socket has more than this queued is skipped ahead, not buffered (TERM-3). */
  viewerHighWaterBytes: number
  /** Largest keystroke frame accepted (TERM-6). */
  maxInputBytes: number
  /** Sustained terminal-output frames per second per connection (burst: twice this) (LIMIT-4). */
  outputFramesPerSecond: number
  /**
   * A connection held at an inbound budget (its socket paused, LIMIT-5) for this long without
   * easing off is closed with 4429. Terminal output is only ever paused, never closed for.
   */
  maxThrottledMs: number
  /**
   * Above this many bytes queued to a socket, further sync step-1 answers wait and presence
   * broadcasts are skipped until it drains (LIMIT-6).
   */
  sendPauseBytes: number
  /**
   * Bytes queued to a socket beyond the sync answer in flight; past it the connection is
   * closed with 1013 (it reconnects and resyncs from its state vector) (LIMIT-6).
   */
  maxSendBufferBytes: number
  /** New WebSocket upgrades per remote address: burst, then per second (LIMIT-7). */
  addressConnectBurst: number
  addressConnectsPerSecond: number
  /** Authenticated connections per member: burst, then per second (LIMIT-8). */
  memberConnectBurst: number
  memberConnectsPerSecond: number
  /** A TCP connection must send a complete upgrade (or HTTP request) within this (SERVER-6). */
  upgradeTimeoutMs: number
  /** A socket told to close that has not finished the close handshake by then is dropped (SERVER-6). */
  closeGraceMs: number
  /** Output kept across all terminals of the relay; the largest rings give way first (TERM-9). */
  terminalRingBudgetBytes: number
  /** Deepest JSON value, and deepest nesting of shared types, accepted in one update (VALID-1). */
  maxUpdateDepth: number
  /** Largest presence state, as JSON (PRESENCE-6). */
  maxPresenceStateBytes: number
  /** Deepest JSON in a presence state (PRESENCE-6). */
  maxPresenceDepth: number
  /** Presence client ids one connection may hold (PRESENCE-6); stock clients use one. */
  maxPresenceStatesPerConnection: number
}

export const DEFAULT_LIMITS: RelayLimits = {
  maxFrameBytes: 16 * 1024 * 1024,
  maxDocBytes: 64 * 1024 * 1024,
  framesPerSecond: 2_000,
  bytesPerSecond: 32 * 1024 * 1024,
  outputBytesPerSecond: 256 * 1024 * 1024,
  helloTimeoutMs: 10_000,
  maxBadFrames: 20,
  awarenessIntervalMs: 20,
  unloadAfterMs: 5_000,
  activityLimit: 200,
  compactAfterUpdates: 500,
  leaseTtlMs: 30_000,
  hostTimeoutMs: 30_000,
  // TERM-9: the ring is 32 times the window, so a viewer that stops reading for a while
  // (a stalled event loop, a GC pause) catches up from the ring: at the 58 MB/s a host's
  // xterm mirror can publish, 32 MiB is over half a second; at realistic agent rates, minutes.
  terminalRingBytes: 32 * 1024 * 1024,
  viewerHighWaterBytes: 1024 * 1024,
  maxInputBytes: 64 * 1024,
  // Hosts send one output frame per agent per event-loop turn: a busy host with several
  // chatty agents stays well inside this (and is only slowed if not, LIMIT-5).
  outputFramesPerSecond: 20_000,
  maxThrottledMs: 30_000,
  sendPauseBytes: 1024 * 1024,
  maxSendBufferBytes: 8 * 1024 * 1024,
  // Generous on purpose: one address can be a whole office behind NAT, and the sync bench
  // opens 1,000 rooms (and 200 clients of one member) from loopback within seconds.
  addressConnectBurst: 2_000,
  addressConnectsPerSecond: 100,
  memberConnectBurst: 300,
  memberConnectsPerSecond: 5,
  upgradeTimeoutMs: 10_000,
  closeGraceMs: 5_000,
  terminalRingBudgetBytes: 256 * 1024 * 1024,
  maxUpdateDepth: 64,
  maxPresenceStateBytes: 32 * 1024,
  maxPresenceDepth: 32,
  maxPresenceStatesPerConnection: 16
}
