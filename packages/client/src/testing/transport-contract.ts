/**
 * The transport contract (TRANSPORT-3): what every client Transport must do for the provider
 * to work over it, checked against a real Orchard relay on the far end. The in-memory pair,
 * both WebSocket transports (Node's and the browser's) and RelayCast all run it:
 *
 *   runTransportContract(async () => ({ connect, credential, teardown }), 'websocket')
 *
 * `connect` makes one connection attempt to a relay, `credential` is a member credential that
 * relay accepts, `teardown` stops whatever setup started. Differences between transports are
 * capability flags, never name checks.
 */
import {
  FrameKind,
  PROTOCOL_VERSION,
  decodeFrame,
  encodeFrame,
  rpcRequestFrame,
  type Frame
} from '@orchard/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { RelayProvider } from '../RelayProvider.js'
import type { Transport, TransportFactory } from '../transport.js'

export interface TransportCapabilities {
  /** The close reason text a relay sends reaches onClose (WebSocket: yes; some channels carry only the code). Default true. */
  closeReason?: boolean
}

export interface TransportSetup {
  /** One connection attempt to a relay per call. */
  connect: TransportFactory
  /** A member credential the relay accepts. */
  credential: string
  capabilities?: TransportCapabilities
  teardown(): Promise<void> | void
}

/** A transport under test, with what it delivered recorded and waits with deadlines (no sleeps). */
class Probe {
  readonly frames: Frame[] = []
  readonly closes: Array<{ code: number; reason: string }> = []
  opened = false
  private readonly waiters = new Set<() => void>()

  constructor(readonly transport: Transport) {
    transport.onOpen(() => {
      this.opened = true
      this.poke()
    })
    transport.onMessage((data) => {
      expect(data).toBeInstanceOf(Uint8Array)
      this.frames.push(decodeFrame(data))
      this.poke()
    })
    transport.onClose((code, reason) => {
      this.closes.push({ code, reason })
      this.poke()
    })
  }

  send(frame: Frame): void {
    this.transport.send(encodeFrame(frame))
  }

  hello(credential: string): void {
    this.send({ kind: FrameKind.hello, channel: '', protocol: PROTOCOL_VERSION, credential, instanceId: `contract-${Math.floor(performance.now())}`, label: 'contract' })
  }

  /** Resolves when `check` holds after some delivery; fails with `what` after `timeoutMs`. */
  until<T>(check: () => T | undefined | false, what: string, timeoutMs = 10_000): Promise<T> {
    const now = check()
    if (now) return Promise.resolve(now)
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter)
        reject(new Error(`transport contract: timed out after ${timeoutMs} ms waiting for ${what}`))
      }, timeoutMs)
      const waiter = () => {
        const value = check()
        if (!value) return
        clearTimeout(timer)
        this.waiters.delete(waiter)
        resolve(value)
      }
      this.waiters.add(waiter)
    })
  }

  private poke(): void {
    for (const waiter of [...this.waiters]) waiter()
  }
}

export function runTransportContract(setup: () => Promise<TransportSetup>, title: string): void {
  describe(`transport contract: ${title}`, () => {
    let current: TransportSetup | null = null
    const open: Transport[] = []
    afterEach(async () => {
      for (const transport of open.splice(0)) transport.close()
      await current?.teardown()
      current = null
    })

    async function connect(): Promise<{ setup: TransportSetup; probe: Probe }> {
      current = await setup()
      const transport = current.connect()
      open.push(transport)
      const probe = new Probe(transport)
      await probe.until(() => probe.opened, 'onOpen')
      return { setup: current, probe }
    }

    async function welcomed(): Promise<{ setup: TransportSetup; probe: Probe }> {
      const connected = await connect()
      connected.probe.hello(connected.setup.credential)
      await connected.probe.until(() => connected.probe.frames.find((frame) => frame.kind === FrameKind.welcome), 'WELCOME')
      return connected
    }

    it('[TRANSPORT-3] opens, then carries binary frames both ways intact: HELLO in, WELCOME out', async () => {
      const { probe } = await welcomed()
      const welcome = probe.frames.find((frame) => frame.kind === FrameKind.welcome)
      expect(welcome).toMatchObject({ kind: FrameKind.welcome, role: 'owner' })
      expect(probe.closes).toEqual([])
    })

    it('[TRANSPORT-3] delivers frames in the order they were sent, none lost, large ones whole', async () => {
      const { probe } = await welcomed()
      // Unknown methods are answered with the request's id: the answers' order is the requests' order.
      const big = 'x'.repeat(256 * 1024)
      for (let id = 1; id <= 40; id++) probe.send(rpcRequestFrame(id, 'contract.unknown', id === 20 ? { big } : { id }))
      const answers = await probe.until(() => {
        const list = probe.frames.filter((frame) => frame.kind === FrameKind.rpcResponse)
        return list.length === 40 ? list : undefined
      }, '40 RPC answers')
      expect(answers.map((frame) => (frame.kind === FrameKind.rpcResponse ? frame.id : -1))).toEqual(Array.from({ length: 40 }, (_, n) => n + 1))
      expect(answers.every((frame) => frame.kind === FrameKind.rpcResponse && !frame.ok && frame.code === 'not-found')).toBe(true)
    })

    it('[TRANSPORT-3] close() ends it: onClose fires once with the code, also for a listener added later, and nothing is delivered after', async () => {
      const { probe } = await welcomed()
      const delivered = probe.frames.length
      probe.transport.close(1000, 'contract done')
      await probe.until(() => probe.closes.length > 0, 'onClose after close()')
      expect(probe.closes).toHaveLength(1)
      expect(probe.closes[0]?.code).toBe(1000)
      const late = await new Promise<number>((resolve) => probe.transport.onClose((code) => resolve(code)))
      expect(late).toBe(1000)
      // Sending on a closed transport is a no-op, not a throw, and brings no answer.
      expect(() => probe.send(rpcRequestFrame(99, 'contract.unknown', {}))).not.toThrow()
      expect(probe.frames.length).toBe(delivered)
      expect(probe.closes).toHaveLength(1)
    })

    it('[TRANSPORT-3] a close by the relay reaches onClose once with the relay\'s code (a refused credential: 44xx)', async () => {
      const { setup, probe } = await connect()
      probe.hello(`${setup.credential.slice(0, -3)}xyz`)
      const [closed] = await probe.until(() => (probe.closes.length > 0 ? probe.closes : undefined), 'the relay to close')
      expect(closed?.code).toBeGreaterThanOrEqual(4400)
      expect(closed?.code).toBeLessThan(4500)
      if (setup.capabilities?.closeReason ?? true) expect(typeof closed?.reason).toBe('string')
      expect(probe.frames.find((frame) => frame.kind === FrameKind.error)).toMatchObject({ kind: FrameKind.error })
      expect(probe.closes).toHaveLength(1)
    })

    it('[TRANSPORT-2] [TRANSPORT-3] a provider made with this transport factory syncs a doc and reconnects with a fresh transport', async () => {
      current = await setup()
      const { connect: factory, credential } = current
      let made = 0
      const doc = new Y.Doc()
      const provider = new RelayProvider({
        transport: () => {
          made++
          const transport = factory()
          open.push(transport)
          return transport
        },
        credential,
        instanceId: 'contract-provider',
        docs: { workspace: doc, control: new Y.Doc() },
        backoff: { initialMs: 1, maxMs: 10 }
      })
      try {
        await provider.whenSynced()
        doc.getMap('contract').set('k', 'v')
        await provider.whenPersisted()
        provider.disconnect()
        provider.connect()
        await provider.whenSynced()
        expect(made).toBe(2)
        expect(provider.status).toBe('connected')
      } finally {
        provider.destroy()
      }
    })
  })
}
