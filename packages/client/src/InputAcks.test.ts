/**
 * InputAcks alone (INPUT-2): a scripted provider stands in for the relay, so each answer
 * (ACK, refusal, disconnect) is chosen by the test.
 */
import { FrameKind, type Frame } from '@orchard/protocol'
import { ObservableV2 } from 'lib0/observable'
import { describe, expect, it } from 'vitest'
import { InputAcks } from './InputAcks.js'
import { InputRefusedError, NotHolderError, StaleEpochError } from './input-errors.js'
import { RelayRequestError, type RelayProvider, type RelayProviderEvents } from './RelayProvider.js'

class ScriptedProvider extends ObservableV2<RelayProviderEvents> {
  status: RelayProvider['status'] = 'connected'
  readonly sent: Frame[] = []
  private count = 0
  sendFrame(frame: Frame): void {
    if (this.status !== 'connected') return
    this.sent.push(frame)
    this.count++
  }
  sentInputs(): number {
    return this.count
  }
  ack(seq: number): void {
    this.emit('frame', [{ kind: FrameKind.ack, channel: 'agent', seq }])
  }
  refuse(seq: number, code: string): void {
    this.emit('error', [{ code, message: `refused: ${code}`, channel: 'agent', data: { seq, epoch: 1, kind: 12 } }])
  }
  drop(): void {
    this.status = 'disconnected'
    this.emit('status', ['disconnected'])
  }
}

const input = (text: string) => ({ kind: FrameKind.termInput, channel: 'agent', epoch: 1, data: new TextEncoder().encode(text) }) as const

function setup(): { provider: ScriptedProvider; acks: InputAcks } {
  const provider = new ScriptedProvider()
  return { provider, acks: new InputAcks(provider as unknown as RelayProvider) }
}

describe('InputAcks', () => {
  it('[INPUT-2] each refusal code rejects its own input with its class; the ACK after it resolves the rest', async () => {
    const { provider, acks } = setup()
    const outcomes = ['a', 'b', 'c', 'd', 'e'].map((text) => acks.send(input(text)).then(() => 'ok', (error: Error) => error))
    provider.refuse(2, 'not-holder')
    provider.refuse(3, 'stale-epoch')
    provider.refuse(4, 'host-offline')
    provider.ack(5)
    const [a, b, c, d, e] = await Promise.all(outcomes)
    expect(a).toBe('ok')
    expect(b).toBeInstanceOf(NotHolderError)
    expect(c).toBeInstanceOf(StaleEpochError)
    expect(d).toBeInstanceOf(InputRefusedError)
    expect(d).toMatchObject({ code: 'host-offline', message: 'refused: host-offline' })
    expect(e).toBe('ok')
  })

  it('[INPUT-2] an ACK settles only the inputs up to its number; later ones wait for theirs', async () => {
    const { provider, acks } = setup()
    const settled: string[] = []
    const first = acks.send(input('1')).then(() => settled.push('1'))
    const second = acks.send(input('2')).then(() => settled.push('2'))
    provider.ack(1)
    await first
    expect(settled).toEqual(['1'])
    provider.ack(2)
    await second
    expect(settled).toEqual(['1', '2'])
  })

  it('[INPUT-2] unanswered inputs reject as disconnected when the connection ends; input while offline is not sent', async () => {
    const { provider, acks } = setup()
    const pending = acks.send(input('lost'))
    provider.drop()
    await expect(pending).rejects.toBeInstanceOf(RelayRequestError)
    await expect(pending).rejects.toMatchObject({ code: 'disconnected' })
    await expect(acks.send(input('offline'))).rejects.toMatchObject({ code: 'disconnected' })
    expect(provider.sent).toHaveLength(1)
  })

  it('[INPUT-2] a refused input nobody awaits is not an unhandled rejection', async () => {
    const { provider, acks } = setup()
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      void acks.send(input('fire and forget'))
      provider.refuse(1, 'stale-epoch')
      // A later input's answer proves the refusal above was processed first (answers arrive in order).
      const later = acks.send(input('later'))
      provider.ack(2)
      await later
      // Unhandled rejections are reported after the microtask queue drains: one macrotask is enough.
      await new Promise((resolve) => setImmediate(resolve))
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })
})
