/**
 * A fake RelayCast engine for tests: node:http + ws on 127.0.0.1, everything in memory.
 * Only the routes and socket frames the transport uses, each request and reply checked
 * against @relaycast/types' zod schemas (a mismatch fails the request with a 599 and is
 * recorded in `violations`, so a test notices the transport or the fake drifting from the
 * real API). The knobs inject the faults the transport must survive.
 */
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  AgentSchema,
  ApiErrorSchema,
  ApiSuccessSchema,
  ChannelSchema,
  CreateAgentRequestSchema,
  CreateAgentResponseSchema,
  CreateChannelRequestSchema,
  FleetBrokerToRelaycastMessageSchema,
  FleetRelaycastToBrokerMessageSchema,
  JoinChannelResponseSchema,
  MessageWithMetaSchema,
  PostMessageRequestSchema,
  SendDmRequestSchema,
  SendDmResponseSchema,
  TokenRotateResponseSchema
} from '@relaycast/types'
import { WebSocketServer, type WebSocket } from 'ws'
import { z } from 'zod'

/** The node-token reply has no schema in @relaycast/types; this is its shape as the SDK reads it. */
const NodeTokenSchema = z.object({ token: z.string(), node_id: z.string(), node_name: z.string() })
const EmptySchema = z.object({}).passthrough()

export interface FakeKnobs {
  /** Deliver channel posts to their sender too (older engine paths did). */
  echo: boolean
  /** Chance that a delivery is sent twice (same message: the SDK drops it by event id). */
  duplicateDelivery: number
  /** Chance that a post is stored twice under two message ids (a retry the engine did not dedupe). */
  duplicatePost: number
  /** Chance that a delivery is held back and sent after the next one. */
  reorder: number
  /** Delay before each delivery, ms (the fan-out runs in the background). */
  delayMs: number
  /** Requests answered 429 with Retry-After before the route runs. */
  rateLimitNext: number
  retryAfterSeconds: number
  /** Requests answered 500 before the route runs (the SDK retries them). */
  failNext: number
  /** Posts and DMs per workspace per minute window (the real free plan: 150; 0 = no limit). */
  postsPerMinute: number
  /** Longest message text accepted (0 = no cap). */
  maxTextLength: number
}

export const DEFAULT_KNOBS: FakeKnobs = {
  echo: false,
  duplicateDelivery: 0,
  duplicatePost: 0,
  reorder: 0,
  delayMs: 5,
  rateLimitNext: 0,
  retryAfterSeconds: 1,
  failNext: 0,
  postsPerMinute: 0,
  maxTextLength: 0
}

interface FakeAgent {
  id: string
  name: string
  type: 'agent' | 'human' | 'system'
  token: string
  workspace: FakeWorkspace
  createdAt: string
  status: 'online' | 'offline'
  seq: number
  /** Deliveries not yet acked: replayed when the agent's node reconnects. */
  pending: Map<number, Record<string, unknown>>
  sockets: Set<WebSocket>
  idempotent: Map<string, { status: number; body: unknown }>
}

interface FakeMessage {
  id: string
  channel: string
  agent: FakeAgent
  text: string
  createdAt: string
}

interface FakeWorkspace {
  id: string
  key: string
  channels: Map<string, { id: string; name: string; createdAt: string; members: Set<FakeAgent>; messages: FakeMessage[] }>
  window: { start: number; posts: number }
}

export interface PostRecord {
  workspace: string
  from: string
  to: string
  text: string
  at: number
}

export class FakeRelayCast {
  knobs: FakeKnobs
  readonly violations: string[] = []
  /** Every accepted post and DM, in order. */
  readonly posts: PostRecord[] = []
  private readonly workspaces = new Map<string, FakeWorkspace>()
  private readonly agentsByToken = new Map<string, FakeAgent>()
  private readonly nodeTokens = new Map<string, FakeAgent>()
  private readonly httpServer: Server
  private readonly wss: WebSocketServer
  private nextId = 1
  private held: Array<() => void> = []
  private readonly timers = new Set<NodeJS.Timeout>()

  constructor(
    knobs: Partial<FakeKnobs> = {},
    private readonly random: () => number = Math.random,
    private readonly now: () => number = Date.now
  ) {
    this.knobs = { ...DEFAULT_KNOBS, ...knobs }
    this.httpServer = createServer((req, res) => void this.route(req, res))
    this.wss = new WebSocketServer({ noServer: true })
    this.httpServer.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://fake')
      const agent = this.nodeTokens.get(url.searchParams.get('token') ?? '')
      if (url.pathname !== '/v1/node/ws' || !agent) {
        socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n')
        return
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.attach(agent, ws))
    })
  }

  get url(): string {
    const address = this.httpServer.address() as AddressInfo
    return `http://127.0.0.1:${address.port}`
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.httpServer.listen(0, '127.0.0.1', resolve))
    return this
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer)
    for (const client of this.wss.clients) client.terminate()
    this.wss.close()
    this.httpServer.closeAllConnections()
    await new Promise<void>((resolve) => this.httpServer.close(() => resolve()))
  }

  /** A workspace and its admin key (what `POST /v1/workspaces` would return). */
  createWorkspace(name = 'orchard'): string {
    const key = `rk_live_${name}_${this.nextId++}`
    this.workspaces.set(key, { id: `ws_${this.nextId++}`, key, channels: new Map(), window: { start: this.now(), posts: 0 } })
    return key
  }

  /** The server closes an agent's sockets, as a deploy or a network cut would. */
  dropSockets(agentName: string): void {
    for (const agent of this.agentsByToken.values()) {
      if (agent.name === agentName) for (const socket of agent.sockets) socket.terminate()
    }
  }

  /** Posts and DMs stored in the current minute window of a workspace. */
  postsThisWindow(key: string): number {
    const workspace = this.workspaces.get(key)
    return workspace ? this.rollWindow(workspace).posts : 0
  }

  /** Sends anything held back by the reorder knob. */
  flushHeld(): void {
    for (const send of this.held.splice(0)) send()
  }

  private rollWindow(workspace: FakeWorkspace): FakeWorkspace['window'] {
    const now = this.now()
    if (now - workspace.window.start >= 60_000) workspace.window = { start: now - ((now - workspace.window.start) % 60_000), posts: 0 }
    return workspace.window
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
    const url = new URL(req.url ?? '/', 'http://fake')
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const raw = Buffer.concat(chunks).toString('utf8')
    const body: unknown = raw ? JSON.parse(raw) : undefined
    const bearer = (req.headers.authorization ?? '').replace(/^Bearer /, '')
    if (this.knobs.rateLimitNext > 0) {
      this.knobs.rateLimitNext--
      return this.fail(res, 429, 'rate_limit_exceeded', 'Too many requests', { 'Retry-After': String(this.knobs.retryAfterSeconds) })
    }
    if (this.knobs.failNext > 0) {
      this.knobs.failNext--
      return this.fail(res, 500, 'internal_error', 'Injected failure')
    }
    const method = req.method ?? 'GET'
    const path = url.pathname
    const admin = this.workspaces.get(bearer)
    const agent = this.agentsByToken.get(bearer)
    let match: RegExpMatchArray | null
    if (method === 'POST' && path === '/v1/agents' && admin) return this.registerAgent(res, admin, body)
    if (method === 'GET' && (match = path.match(/^\/v1\/agents\/([^/]+)$/)) && admin) {
      const found = this.findAgent(admin, decodeURIComponent(match[1] as string))
      return found ? this.ok(res, 200, AgentSchema, this.agentJson(found)) : this.fail(res, 404, 'agent_not_found', 'No such agent')
    }
    if (method === 'POST' && (match = path.match(/^\/v1\/agents\/([^/]+)\/rotate-token$/)) && admin) {
      const found = this.findAgent(admin, decodeURIComponent(match[1] as string))
      if (!found) return this.fail(res, 404, 'agent_not_found', 'No such agent')
      this.agentsByToken.delete(found.token)
      found.token = `at_live_${randomUUID()}`
      this.agentsByToken.set(found.token, found)
      return this.ok(res, 200, TokenRotateResponseSchema, { name: found.name, token: found.token })
    }
    if (!agent) return this.fail(res, 401, 'unauthorized', 'Unknown token')
    if (method === 'GET' && path === '/v1/agent') return this.ok(res, 200, AgentSchema, this.agentJson(agent))
    if (method === 'POST' && path === '/v1/agent/node-token') {
      const token = `nt_${randomUUID()}`
      this.nodeTokens.set(token, agent)
      return this.ok(res, 200, NodeTokenSchema, { token, node_id: `node_${agent.id}`, node_name: agent.name })
    }
    if (method === 'POST' && (path === '/v1/agents/heartbeat' || path === '/v1/agents/disconnect')) {
      agent.status = path.endsWith('heartbeat') ? 'online' : 'offline'
      return this.ok(res, 200, EmptySchema, {})
    }
    if (method === 'POST' && path === '/v1/channels') {
      const parsed = this.parse(res, CreateChannelRequestSchema, body)
      if (!parsed) return
      if (agent.workspace.channels.has(parsed.name)) return this.fail(res, 409, 'channel_exists', 'Channel already exists')
      const channel = { id: `ch_${this.nextId++}`, name: parsed.name, createdAt: new Date().toISOString(), members: new Set([agent]), messages: [] }
      agent.workspace.channels.set(parsed.name, channel)
      return this.ok(res, 201, ChannelSchema, { id: channel.id, name: channel.name, topic: parsed.topic ?? null, created_at: channel.createdAt })
    }
    if (method === 'POST' && (match = path.match(/^\/v1\/channels\/([^/]+)\/join$/))) {
      const channel = agent.workspace.channels.get(decodeURIComponent(match[1] as string))
      if (!channel) return this.fail(res, 404, 'channel_not_found', 'No such channel')
      const already = channel.members.has(agent)
      channel.members.add(agent)
      return this.ok(res, 200, JoinChannelResponseSchema, { channel: channel.name, agent_id: agent.id, already_member: already })
    }
    if (method === 'POST' && (match = path.match(/^\/v1\/channels\/([^/]+)\/messages$/))) {
      return this.idempotent(req, res, agent, () => this.postMessage(res, agent, decodeURIComponent(match?.[1] as string), body))
    }
    if (method === 'POST' && path === '/v1/dm') return this.idempotent(req, res, agent, () => this.sendDm(res, agent, body))
    return this.fail(res, 404, 'not_found', `The fake has no route ${method} ${path}`)
  }

  private registerAgent(res: ServerResponse, workspace: FakeWorkspace, body: unknown): void {
    const parsed = this.parse(res, CreateAgentRequestSchema, body)
    if (!parsed) return
    if (this.findAgent(workspace, parsed.name)) return this.fail(res, 409, 'name_conflict', `Agent "${parsed.name}" already exists`)
    const agent: FakeAgent = {
      id: `ag_${this.nextId++}`,
      name: parsed.name,
      type: parsed.type ?? 'agent',
      token: `at_live_${randomUUID()}`,
      workspace,
      createdAt: new Date().toISOString(),
      status: 'offline',
      seq: 0,
      pending: new Map(),
      sockets: new Set(),
      idempotent: new Map()
    }
    this.agentsByToken.set(agent.token, agent)
    this.ok(res, 201, CreateAgentResponseSchema, { id: agent.id, name: agent.name, token: agent.token, status: agent.status, created_at: agent.createdAt })
  }

  /** Idempotency-Key: a retried post returns the first reply instead of storing twice. */
  private idempotent(req: IncomingMessage, res: ServerResponse, agent: FakeAgent, run: () => { status: number; body: unknown } | null): void {
    const key = req.headers['idempotency-key']
    const cached = typeof key === 'string' ? agent.idempotent.get(key) : undefined
    if (cached) return this.send(res, cached.status, cached.body)
    const reply = run()
    if (reply && typeof key === 'string') agent.idempotent.set(key, reply)
  }

  private admitPost(res: ServerResponse, agent: FakeAgent, text: string): boolean {
    if (this.knobs.maxTextLength > 0 && text.length > this.knobs.maxTextLength) {
      this.fail(res, 413, 'payload_too_large', `Message text is ${text.length} characters; the limit is ${this.knobs.maxTextLength}`)
      return false
    }
    const window = this.rollWindow(agent.workspace)
    if (this.knobs.postsPerMinute > 0 && window.posts >= this.knobs.postsPerMinute) {
      const retryAfter = Math.ceil((60_000 - (this.now() - window.start)) / 1000)
      this.fail(res, 429, 'rate_limit_exceeded', 'Workspace message rate exceeded', { 'Retry-After': String(retryAfter) })
      return false
    }
    window.posts++
    return true
  }

  private postMessage(res: ServerResponse, agent: FakeAgent, channelName: string, body: unknown): { status: number; body: unknown } | null {
    const parsed = this.parse(res, PostMessageRequestSchema, body)
    if (!parsed) return null
    const channel = agent.workspace.channels.get(channelName)
    if (!channel) return (this.fail(res, 404, 'channel_not_found', 'No such channel'), null)
    if (!channel.members.has(agent)) return (this.fail(res, 403, 'not_a_member', 'Join the channel first'), null)
    if (!this.admitPost(res, agent, parsed.text)) return null
    const copies = this.random() < this.knobs.duplicatePost ? 2 : 1
    let first: FakeMessage | null = null
    for (let copy = 0; copy < copies; copy++) {
      const message: FakeMessage = { id: String(1_000_000 + this.nextId++), channel: channelName, agent, text: parsed.text, createdAt: new Date().toISOString() }
      first ??= message
      channel.messages.push(message)
      this.posts.push({ workspace: agent.workspace.key, from: agent.name, to: `#${channelName}`, text: parsed.text, at: this.now() })
      for (const member of channel.members) {
        if (member === agent && !this.knobs.echo) continue
        this.deliver(member, message.id, {
          type: 'message.created',
          data: { id: message.id, channel_name: channelName, agent_id: agent.id, from_name: agent.name, text: message.text, attachments: [] }
        })
      }
    }
    const reply = this.messageJson(first as FakeMessage, channel.id)
    return this.ok(res, 201, MessageWithMetaSchema, reply)
  }

  private sendDm(res: ServerResponse, agent: FakeAgent, body: unknown): { status: number; body: unknown } | null {
    const parsed = this.parse(res, SendDmRequestSchema, body)
    if (!parsed) return null
    const to = this.findAgent(agent.workspace, parsed.to)
    if (!to) return (this.fail(res, 404, 'agent_not_found', `No agent "${parsed.to}"`), null)
    if (!this.admitPost(res, agent, parsed.text)) return null
    const conversation = `dm_${[agent.id, to.id].sort().join('_')}`
    const copies = this.random() < this.knobs.duplicatePost ? 2 : 1
    let firstId = ''
    for (let copy = 0; copy < copies; copy++) {
      const id = String(1_000_000 + this.nextId++)
      firstId ||= id
      this.posts.push({ workspace: agent.workspace.key, from: agent.name, to: to.name, text: parsed.text, at: this.now() })
      this.deliver(to, id, { type: 'dm.received', data: { conversation_id: conversation, message: { id, agent_id: agent.id, agent_name: agent.name, text: parsed.text } } })
    }
    return this.ok(res, 201, SendDmResponseSchema, {
      conversation_id: conversation,
      message: { id: firstId, agent_id: agent.id, agent_name: agent.name, text: parsed.text },
      created_at: new Date().toISOString()
    })
  }

  /** Queues a delivery durably and sends it to the agent's live sockets, with the fault knobs applied. */
  private deliver(agent: FakeAgent, messageId: string, payload: Record<string, unknown>): void {
    const seq = ++agent.seq
    const frame = { v: 1, type: 'deliver', delivery_id: `dl_${this.nextId++}`, agent_id: agent.id, agent: agent.name, msg_id: messageId, seq, mode: 'wait', payload }
    this.check(FleetRelaycastToBrokerMessageSchema, frame, 'deliver frame')
    agent.pending.set(seq, frame)
    const send = () => {
      const copies = this.random() < this.knobs.duplicateDelivery ? 2 : 1
      for (const socket of agent.sockets) for (let i = 0; i < copies; i++) socket.send(JSON.stringify(frame))
    }
    const dispatch = () => {
      if (this.random() < this.knobs.reorder) {
        // Held back until the next delivery overtakes it (or a moment passes with none).
        this.held.push(send)
        const release = setTimeout(() => {
          this.timers.delete(release)
          this.flushHeld()
        }, this.knobs.delayMs * 4 + 20)
        this.timers.add(release)
        return
      }
      send()
      this.flushHeld()
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      dispatch()
    }, this.knobs.delayMs)
    this.timers.add(timer)
  }

  private attach(agent: FakeAgent, ws: WebSocket): void {
    ws.on('message', (data) => {
      let parsed: unknown
      try {
        parsed = JSON.parse(String(data))
      } catch {
        this.violations.push(`node socket sent non-JSON: ${String(data).slice(0, 80)}`)
        return
      }
      if (!this.check(FleetBrokerToRelaycastMessageSchema, parsed, 'node frame')) return
      const message = parsed as { type: string; up_to_seq?: number }
      if (message.type === 'node.register') {
        agent.sockets.add(ws)
        agent.status = 'online'
        // The durable queue: whatever was not acked is sent again after a reconnect.
        for (const frame of agent.pending.values()) ws.send(JSON.stringify(frame))
      } else if (message.type === 'delivery.ack') {
        for (const seq of agent.pending.keys()) if (seq <= (message.up_to_seq ?? 0)) agent.pending.delete(seq)
      }
    })
    ws.on('close', () => {
      agent.sockets.delete(ws)
      if (agent.sockets.size === 0) agent.status = 'offline'
    })
  }

  private findAgent(workspace: FakeWorkspace, name: string): FakeAgent | undefined {
    for (const agent of this.agentsByToken.values()) if (agent.workspace === workspace && agent.name === name) return agent
    return undefined
  }

  private agentJson(agent: FakeAgent) {
    return { id: agent.id, name: agent.name, type: agent.type, status: agent.status, persona: null, metadata: {}, last_seen: new Date().toISOString(), created_at: agent.createdAt }
  }

  private messageJson(message: FakeMessage, channelId: string) {
    return {
      id: message.id,
      channel_id: channelId,
      agent_id: message.agent.id,
      agent_name: message.agent.name,
      text: message.text,
      blocks: null,
      has_attachments: false,
      thread_id: null,
      attachments: [],
      created_at: message.createdAt,
      reply_count: 0,
      reactions: [],
      read_by_count: 0
    }
  }

  private parse<T extends z.ZodType>(res: ServerResponse, schema: T, body: unknown): z.infer<T> | null {
    const result = schema.safeParse(body)
    if (result.success) return result.data
    this.violations.push(`request body: ${result.error.message}`)
    this.fail(res, 400, 'invalid_request', result.error.message)
    return null
  }

  private check(schema: z.ZodType, value: unknown, what: string): boolean {
    const result = schema.safeParse(value)
    if (!result.success) this.violations.push(`${what}: ${result.error.message}`)
    return result.success
  }

  private ok(res: ServerResponse, status: number, schema: z.ZodType, data: unknown): { status: number; body: unknown } {
    const body = { ok: true, data }
    if (!this.check(ApiSuccessSchema(schema), body, 'reply')) return (this.send(res, 599, { ok: false, error: { code: 'fake_reply_invalid', message: 'see violations' } }), { status: 599, body })
    this.send(res, status, body)
    return { status, body }
  }

  private fail(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
    const body = { ok: false, error: { code, message } }
    this.check(ApiErrorSchema, body, 'error reply')
    this.send(res, status, body, headers)
  }

  private send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers })
    res.end(JSON.stringify(body))
  }
}
