/**
 * A relay the test scripts, on the far end of the in-memory transport: it speaks the wire
 * protocol as the real relay does (WELCOME, sync steps, ACKs, awareness, RPC both ways) over a
 * small model of the docs, and lets a test say what the real relay would only do under a
 * rare condition: refuse with a given close code, hold ACKs, cut the link, send a frame of its
 * choosing. The client's own unit tests run against it (no sockets, no SQLite), so they also
 * run under mutation testing (TESTING.md). Tests that need the real relay use ./relay.ts.
 */
import {
  FrameKind,
  ackFrame,
  decodeFrame,
  encodeFrame,
  errorFrame,
  rpcErrorFrame,
  rpcOkFrame,
  rpcRequestFrame,
  type Frame,
  type HelloFrame,
  type RpcResponseFrame,
  type WelcomeFields
} from '@orchard/protocol'
import { MemoryPair } from '@orchard/client/testing'
import type { TransportFactory } from '@orchard/client'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'

/** An RPC answer: a result, or a refusal with the relay's code and message. */
export type RpcAnswer = { result: unknown } | { code: string; message: string }

export interface Refusal {
  /** The ERROR frame's code and sentence, sent before the close. */
  code: string
  message: string
  closeCode: number
  closeReason: string
}

function encode(write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder()
  write(encoder)
  return encoding.toUint8Array(encoder)
}

/** One connection attempt as the relay sees it. */
export class RelayConnection {
  readonly received: Frame[] = []
  hello: HelloFrame | null = null
  /** Update frames received per channel: the numbers the relay ACKs (ACK seq n = frames 1..n stored). */
  readonly updates = new Map<string, number>()
  /** ACKs held back while `relay.holdAcks` is set: released by `releaseAcks()`. */
  private readonly heldAcks: Array<{ channel: string; seq: number }> = []
  private nextRpcId = 1
  private readonly pendingRpc = new Map<number, (frame: RpcResponseFrame) => void>()
  closed: { code: number; reason: string } | null = null

  constructor(
    readonly pair: MemoryPair,
    private readonly relay: ScriptedRelay
  ) {
    pair.server.onMessage((data) => this.receive(decodeFrame(data)))
    pair.server.onClose((code, reason) => {
      this.closed = { code, reason }
      relay.notify()
    })
  }

  send(frame: Frame): void {
    this.pair.server.send(encodeFrame(frame))
  }

  /** A network cut: in-flight frames lost, both ends see 1006. */
  cut(): void {
    this.pair.cut()
  }

  /** The relay closes the socket with this code (after delivering what it sent). */
  close(code: number, reason: string): void {
    this.pair.server.close(code, reason)
  }

  releaseAcks(): void {
    for (const { channel, seq } of this.heldAcks.splice(0)) this.send(ackFrame(channel, seq))
  }

  /** An RPC from the relay to this instance (a spawn request to a host); resolves with its answer frame. */
  request(method: string, params: unknown): Promise<RpcResponseFrame> {
    const id = this.nextRpcId++
    return new Promise((resolve) => {
      this.pendingRpc.set(id, resolve)
      this.send(rpcRequestFrame(id, method, params))
    })
  }

  framesOf<Kind extends Frame['kind']>(kind: Kind, channel?: string): Array<Extract<Frame, { kind: Kind }>> {
    return this.received.filter((frame): frame is Extract<Frame, { kind: Kind }> => frame.kind === kind && (channel === undefined || frame.channel === channel))
  }

  private receive(frame: Frame): void {
    this.received.push(frame)
    switch (frame.kind) {
      case FrameKind.hello:
        this.onHello(frame)
        break
      case FrameKind.sync:
        this.onSync(frame.channel, frame.body)
        break
      case FrameKind.awareness:
        // Presence is relayed to everyone else as is (the real relay stamps identities first).
        for (const other of this.relay.connections) if (other !== this && other.open) other.send(frame)
        break
      case FrameKind.rpcRequest: {
        const answer = this.relay.answer(frame.method, frame.params, this)
        if (answer === undefined) break // never answered: the client's timeout is under test
        void Promise.resolve(answer).then((settled) =>
          this.send('result' in settled ? rpcOkFrame(frame.id, settled.result) : rpcErrorFrame(frame.id, settled.code, settled.message))
        )
        break
      }
      case FrameKind.rpcResponse: {
        const resolve = this.pendingRpc.get(frame.id)
        this.pendingRpc.delete(frame.id)
        resolve?.(frame)
        break
      }
      default:
        break
    }
    this.relay.notify()
  }

  get open(): boolean {
    return this.closed === null && this.hello !== null
  }

  private onHello(hello: HelloFrame): void {
    const refusal = this.relay.refusal
    if (refusal) {
      this.send(errorFrame(refusal.code, refusal.message))
      this.close(refusal.closeCode, refusal.closeReason)
      return
    }
    if (!this.relay.answerHello) return
    this.hello = hello
    this.send({ kind: FrameKind.welcome, channel: '', ...this.relay.welcomeFor(hello) })
  }

  private onSync(channel: string, body: Uint8Array): void {
    const doc = this.relay.docs[channel]
    if (!doc) return
    const decoder = decoding.createDecoder(body)
    const type = decoding.readVarUint(decoder)
    if (type === syncProtocol.messageYjsSyncStep1) {
      const stateVector = decoding.readVarUint8Array(decoder)
      this.send({ kind: FrameKind.sync, channel, body: encode((encoder) => syncProtocol.writeSyncStep2(encoder, doc, stateVector)) })
      // And ask for what the client has that we lack (its offline edits).
      this.send({ kind: FrameKind.sync, channel, body: encode((encoder) => syncProtocol.writeSyncStep1(encoder, doc)) })
      return
    }
    const update = decoding.readVarUint8Array(decoder)
    Y.applyUpdate(doc, update, this)
    const seq = (this.updates.get(channel) ?? 0) + 1
    this.updates.set(channel, seq)
    if (this.relay.holdAcks) this.heldAcks.push({ channel, seq })
    else this.send(ackFrame(channel, seq))
  }
}

export class ScriptedRelay {
  readonly docs: Record<string, Y.Doc> = { workspace: new Y.Doc(), control: new Y.Doc() }
  readonly connections: RelayConnection[] = []
  /** Set to refuse every HELLO from now on. */
  refusal: Refusal | null = null
  /** While false, HELLOs go unanswered (a relay too busy to welcome anyone). */
  answerHello = true
  /** While set, update frames are stored but not ACKed (see RelayConnection.releaseAcks). */
  holdAcks = false
  /** RPC answers by method; a method absent here is refused as not-found; `undefined` is never answered. */
  readonly methods: Record<string, (params: unknown, connection: RelayConnection) => RpcAnswer | Promise<RpcAnswer> | undefined> = {}
  private readonly waiters = new Set<() => void>()

  constructor(readonly welcome: Partial<WelcomeFields> = {}) {
    // Every change to a relay doc reaches every other open connection, as the real relay broadcasts.
    for (const [channel, doc] of Object.entries(this.docs)) {
      doc.on('update', (update: Uint8Array, origin: unknown) => {
        for (const connection of this.connections) {
          if (connection === origin || !connection.open) continue
          connection.send({ kind: FrameKind.sync, channel, body: encode((encoder) => syncProtocol.writeUpdate(encoder, update)) })
        }
      })
    }
  }

  /** One connection attempt per call, like a socket factory. */
  transport(): TransportFactory {
    return () => {
      const pair = new MemoryPair()
      this.connections.push(new RelayConnection(pair, this))
      this.notify()
      return pair.client
    }
  }

  get last(): RelayConnection {
    const connection = this.connections.at(-1)
    if (!connection) throw new Error('no connection was made to the scripted relay')
    return connection
  }

  welcomeFor(hello: HelloFrame): WelcomeFields {
    return {
      workspaceId: 'ws-1',
      memberId: 'member-1',
      memberName: hello.name ?? 'Owner',
      role: 'owner',
      instanceId: hello.instanceId,
      limits: { maxFrameBytes: 1 << 20, maxDocBytes: 1 << 24 },
      server: 'scripted-relay',
      ...this.welcome
    }
  }

  answer(method: string, params: unknown, connection: RelayConnection): RpcAnswer | Promise<RpcAnswer> | undefined {
    const handler = this.methods[method]
    if (!handler) return { code: 'not-found', message: `The relay has no method "${method}".` }
    return handler(params, connection)
  }

  /** Resolves when `check` holds after some frame or close; fails after `timeoutMs` saying what it waited for. */
  until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
    if (check()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(poke)
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))
      }, timeoutMs)
      const poke = () => {
        if (!check()) return
        clearTimeout(timer)
        this.waiters.delete(poke)
        resolve()
      }
      this.waiters.add(poke)
    })
  }

  /** @internal: something happened; re-check the waits. */
  notify(): void {
    for (const waiter of [...this.waiters]) waiter()
  }
}
