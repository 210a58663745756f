/**
 * The WebSocket front for the relay core: HTTP + ws on one port.
 *   ws   /orchard                           Orchard protocol (HELLO first)
 *   ws   /<workspaceId>?token=<credential>  a stock y-websocket client, one doc per socket
 *   GET  /healthz                           liveness and a few gauges (JSON)
 *   GET  /metrics                           Prometheus text
 *   POST /v1/workspaces                     create a workspace (Authorization: Bearer <admin token>)
 * Bad credentials are refused after the upgrade with a 44xx close code: an HTTP 401 at
 * the upgrade reaches clients as a bare 1006 and they retry forever (SERVER-2). What is
 * refused before the upgrade is what a retry (with backoff) may fix or what no client
 * sends: a connect storm from one address (429, LIMIT-7) and an unreadable path (400,
 * SERVER-5). Nothing a socket sends can throw out of this file (SERVER-5, SERVER-6).
 */
import { STATUS_CODES, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type RawData, type Server as WsServer } from 'ws'
import { secretMatches, hashSecret, randomId } from '../auth/tokens.js'
import { KeyedRateLimiter } from '../connection/KeyedRateLimiter.js'
import type { RelayPeerHandle } from '../connection/types.js'
import type { RelayCore } from '../RelayCore.js'
import { checkOrigin } from './origin-check.js'
import { StaticAssets } from './static-assets.js'
import { RelayWebSocket } from './RelayWebSocket.js'
import { WsRelaySocket } from './WsRelaySocket.js'

type Route = { kind: 'orchard' } | { kind: 'yws'; workspaceId: string; token: string } | { kind: 'unknown' }

export interface RelayServerOptions {
  host?: string
  port?: number
  /** Token for the admin HTTP API; random if omitted (read it from `adminToken`). */
  adminToken?: string
  /** A built web app (the observer's dist/) served at GET / with a strict CSP (STATIC-1). */
  staticDir?: string
  /** Pages from these origins may open sockets besides the relay's own; '*' allows any (ORIGIN-1). */
  allowedOrigins?: string[]
}

export class RelayServer {
  readonly http: Server
  readonly adminToken: string
  private readonly wss: WsServer<typeof RelayWebSocket>
  private readonly adminHash: string
  private readonly sockets = new Set<RelayWebSocket>()
  /** TCP connections that have not yet sent a complete upgrade or request (SERVER-6). */
  private readonly pendingUpgrade = new WeakMap<Duplex, NodeJS.Timeout>()
  private readonly connects: KeyedRateLimiter
  private readonly assets: StaticAssets | null
  /**
   * One 'close' listener shared by every pending socket (`this` is the socket), removed once
   * it has upgraded: a per-socket closure would hold its timer for the connection's life.
   */
  private readonly clearPendingUpgrade: (this: Duplex) => void

  constructor(
    readonly core: RelayCore,
    private readonly options: RelayServerOptions = {}
  ) {
    this.adminToken = options.adminToken ?? randomId(24)
    this.adminHash = hashSecret(this.adminToken)
    this.assets = options.staticDir ? new StaticAssets(options.staticDir) : null
    const server = this
    this.clearPendingUpgrade = function (this: Duplex) {
      server.upgradeDone(this)
    }
    const limits = core.limits
    this.connects = new KeyedRateLimiter(limits.addressConnectsPerSecond, limits.addressConnectBurst)
    this.http = createServer((req, res) => {
      this.upgradeDone(req.socket)
      void this.onRequest(req, res)
    })
    // ws refuses a frame over maxPayload before buffering it; RelayWebSocket turns that
    // refusal into the relay's own ERROR + 4413 (LIMIT-1), so no frame over the limit is
    // ever held in memory.
    this.wss = new WebSocketServer<typeof RelayWebSocket>({ noServer: true, maxPayload: limits.maxFrameBytes, perMessageDeflate: false, WebSocket: RelayWebSocket })
    this.http.on('connection', (socket: Socket) => {
      // SERVER-6: a connection that never completes its upgrade (or request) costs a socket
      // and a parser until Node's own 60 s header timeout; this bound is the relay's.
      const timer = setTimeout(() => socket.destroy(), limits.upgradeTimeoutMs)
      timer.unref?.()
      this.pendingUpgrade.set(socket, timer)
      socket.on('close', this.clearPendingUpgrade)
    })
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      try {
        this.onUpgrade(req, socket, head)
      } catch (error) {
        // Whatever a socket sent, it costs that socket only (SERVER-5).
        this.core.logError('upgrade', error)
        refuseUpgrade(socket, 500, 'internal', 'The relay failed handling this upgrade; it was logged.')
      }
    })
  }

  /** Starts listening; resolves with the ws:// URL (also set as the core's public URL). */
  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject)
      this.http.listen(this.options.port ?? 4455, this.options.host ?? '127.0.0.1', () => {
        this.http.off('error', reject)
        resolve()
      })
    })
    const address = this.http.address() as AddressInfo
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
    this.core.publicUrl = `ws://${host}:${address.port}`
    return this.core.publicUrl
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port
  }

  /** Graceful: stop accepting, let the core store everything and close sockets, then stop. */
  async close(): Promise<void> {
    await this.core.close()
    for (const ws of this.sockets) ws.terminate()
    await new Promise<void>((resolve) => this.wss.close(() => resolve()))
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()))
    // Half-open connections that never upgraded would otherwise hold close() open.
    this.http.closeAllConnections()
    await closed
  }

  private upgradeDone(socket: Duplex): void {
    const timer = this.pendingUpgrade.get(socket)
    if (timer) clearTimeout(timer)
    this.pendingUpgrade.delete(socket)
    socket.off('close', this.clearPendingUpgrade)
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.upgradeDone(socket)
    // Shared, not a closure here: one would keep this request (headers and all) alive for
    // as long as the connection lasts.
    socket.on('error', destroySocket)
    const route = parseRoute(req.url ?? '/')
    if (!route) {
      refuseUpgrade(socket, 400, 'bad-request', 'The request path is not valid percent-encoding; connect to /orchard or /<workspaceId>?token=<credential>.')
      return
    }
    const waitMs = this.connects.take(req.socket.remoteAddress ?? 'unknown')
    if (waitMs > 0) {
      // LIMIT-7: before the upgrade, so a storm costs no WebSocket; clients see a failed
      // connect and retry with backoff, which is what a rate limit asks of them.
      refuseUpgrade(socket, 429, 'rate-limited', 'Too many connections from this address; try again later.', { 'Retry-After': String(Math.ceil(waitMs / 1000)) })
      return
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      // ORIGIN-1: another page's socket is closed before anything is read from it.
      const refused = checkOrigin(req.headers, this.options)
      if (refused) ws.close(4403, refused.slice(0, 120))
      else this.onSocket(ws, route)
    })
  }

  private onSocket(ws: RelayWebSocket, route: Route): void {
    this.sockets.add(ws)
    const socket = new WsRelaySocket(ws, this.core.limits.closeGraceMs)
    if (route.kind === 'unknown') {
      ws.close(4404, 'no such endpoint: use /orchard or /<workspaceId>?token=')
      this.sockets.delete(ws)
      return
    }
    const handle: RelayPeerHandle = route.kind === 'orchard' ? this.core.acceptOrchard(socket) : this.core.acceptYws(socket, route.workspaceId, route.token)
    ws.onTooLarge = () => (handle.tooLarge ? handle.tooLarge() : ws.close(4413, 'too-large'))
    ws.on('message', (data: RawData) => handle.receive(toBytes(data)))
    ws.on('close', () => {
      this.sockets.delete(ws)
      handle.closed()
    })
    // ws has already started a closing handshake with the right code (1002, 1007, or our
    // 4413); terminating here would turn it into a bare 1006 that clients retry.
    ws.on('error', () => undefined)
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://relay')
    try {
      if (req.method === 'GET' && url.pathname === '/healthz') {
        return json(res, 200, { ok: true, workspacesLoaded: this.core.loadedRooms, connections: this.core.metrics.connections })
      }
      if (req.method === 'GET' && url.pathname === '/metrics') {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
        void this.core.metricsText().then((text) => res.end(text))
        return
      }
      if (req.method === 'POST' && url.pathname === '/v1/workspaces') {
        const bearer = (req.headers.authorization ?? '').replace(/^Bearer\s+/i, '')
        if (!bearer || !secretMatches(bearer, this.adminHash)) {
          return json(res, 401, { error: 'unauthorized', message: 'Send the relay admin token as "Authorization: Bearer <token>".' })
        }
        const body = await readJson(req)
        const name = typeof body.name === 'string' && body.name.trim() ? body.name.trim() : 'Workspace'
        const ownerName = typeof body.ownerName === 'string' && body.ownerName.trim() ? body.ownerName.trim() : 'Owner'
        const created = await this.core.createWorkspace(name, ownerName)
        return json(res, 201, { workspaceId: created.workspace.id, ownerCredential: created.credential, url: this.core.publicUrl })
      }
      if (this.assets?.serve(req, res)) return
      json(res, 404, { error: 'not-found', message: 'Endpoints: GET /healthz, GET /metrics, POST /v1/workspaces, ws /orchard, ws /<workspaceId>?token=' })
    } catch (error) {
      this.core.logError('http', error)
      json(res, 500, { error: 'internal', message: 'The relay failed handling this request; it was logged.' })
    }
  }
}

function destroySocket(this: Duplex): void {
  this.destroy()
}

/** Where an upgrade goes; null if its path cannot be read at all (SERVER-5). */
function parseRoute(rawUrl: string): Route | null {
  let url: URL
  let path: string
  try {
    url = new URL(rawUrl, 'http://relay')
    path = decodeURIComponent(url.pathname).replace(/\/+$/, '')
  } catch {
    return null
  }
  if (path === '/orchard') return { kind: 'orchard' }
  const workspaceId = path.slice(1)
  if (!workspaceId || workspaceId.includes('/')) return { kind: 'unknown' }
  return { kind: 'yws', workspaceId, token: url.searchParams.get('token') ?? '' }
}

/** An HTTP answer on a socket that asked to upgrade, then the socket is closed. */
function refuseUpgrade(socket: Duplex, status: number, error: string, message: string, headers: Record<string, string> = {}): void {
  if (socket.destroyed) return
  const body = JSON.stringify({ error, message })
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    'Connection: close',
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)
  ]
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`)
}

function toBytes(data: RawData): Uint8Array {
  if (data instanceof Buffer) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data))
  return new Uint8Array(data)
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > 64 * 1024) throw new Error('request body too large')
    chunks.push(chunk as Buffer)
  }
  if (chunks.length === 0) return {}
  const value = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {}
}
