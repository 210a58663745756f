/**
 * The WebSocket front for the relay core: HTTP + ws on one port.
 *   ws   /orchard                           Orchard protocol (HELLO first)
 *   ws   /<workspaceId>?token=<credential>  a stock y-websocket client, one doc per socket
 *   GET  /healthz                           liveness and a few gauges (JSON)
 *   GET  /metrics                           Prometheus text
 *   POST /v1/workspaces                     create a workspace (Authorization: Bearer <admin token>)
 * Bad credentials are refused after the upgrade with a 44xx close code: an HTTP 401 at
 * the upgrade reaches clients as a bare 1006 and they retry forever (SERVER-2).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocketServer, type RawData, type WebSocket } from 'ws'
import { secretMatches, hashSecret, randomId } from '../auth/tokens.js'
import type { RelayPeerHandle } from '../connection/types.js'
import type { RelayCore } from '../RelayCore.js'
import { checkOrigin } from './origin-check.js'
import { StaticAssets } from './static-assets.js'

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
  private readonly wss: WebSocketServer
  private readonly adminHash: string
  private readonly sockets = new Set<WebSocket>()
  private readonly assets: StaticAssets | null

  constructor(
    readonly core: RelayCore,
    private readonly options: RelayServerOptions = {}
  ) {
    this.adminToken = options.adminToken ?? randomId(24)
    this.adminHash = hashSecret(this.adminToken)
    this.assets = options.staticDir ? new StaticAssets(options.staticDir) : null
    this.http = createServer((req, res) => void this.onRequest(req, res))
    // ws would close an over-limit frame with 1009 before our code sees it; it gets
    // room up to twice the limit so the relay itself answers 4413 with a reason (LIMIT-1).
    this.wss = new WebSocketServer({ noServer: true, maxPayload: core.limits.maxFrameBytes * 2, perMessageDeflate: false })
    this.http.on('upgrade', (req, socket, head) => {
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        const refused = checkOrigin(req.headers, options)
        if (refused) ws.close(4403, refused.slice(0, 120))
        else this.onSocket(ws, req)
      })
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
    await new Promise<void>((resolve) => this.http.close(() => resolve()))
  }

  private onSocket(ws: WebSocket, req: IncomingMessage): void {
    this.sockets.add(ws)
    const url = new URL(req.url ?? '/', 'http://relay')
    const socket = {
      send: (data: Uint8Array) => {
        if (ws.readyState === ws.OPEN) ws.send(data, { binary: true })
      },
      close: (code: number, reason: string) => ws.close(code, reason.slice(0, 120)),
      get bufferedAmount() {
        return ws.bufferedAmount
      }
    }
    let handle: RelayPeerHandle
    const path = url.pathname.replace(/\/+$/, '')
    if (path === '/orchard') {
      handle = this.core.acceptOrchard(socket)
    } else {
      const workspaceId = decodeURIComponent(path.slice(1))
      const token = url.searchParams.get('token') ?? ''
      if (!workspaceId || workspaceId.includes('/')) {
        ws.close(4404, 'no such endpoint: use /orchard or /<workspaceId>?token=')
        this.sockets.delete(ws)
        return
      }
      handle = this.core.acceptYws(socket, workspaceId, token)
    }
    ws.on('message', (data: RawData) => handle.receive(toBytes(data)))
    ws.on('close', () => {
      this.sockets.delete(ws)
      handle.closed()
    })
    ws.on('error', () => ws.terminate())
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
