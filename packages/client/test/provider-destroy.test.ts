/**
 * PROVIDER-7 on a fake clock, against the scripted relay: destroy() is final. No socket, no
 * timer and no event after it, whatever is called next and whatever state it found (open,
 * opening, waiting to retry, in the middle of a drop). The real-socket form is
 * provider-destroy.integration.test.ts.
 */
import { FrameKind } from '@orchard/protocol'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { RelayProvider, type ProviderStatus } from '@orchard/client'
import { ScriptedRelay } from './harness/scripted-relay.js'
import { scriptedProviders } from './harness/scripted-providers.js'

const providers = scriptedProviders({ initialMs: 100, maxMs: 100 })
afterEach(() => {
  vi.useRealTimers()
  providers.destroyAll()
})

const provider = providers.provider

/** Status changes from now on. */
function statusesOf(a: RelayProvider): ProviderStatus[] {
  const statuses: ProviderStatus[] = []
  a.on('status', (status) => statuses.push(status))
  return statuses
}

/** lib0 observables keep their listeners per event name in `_observers`. */
const listeners = (observable: Y.Doc | Awareness, event: string): number =>
  (observable as unknown as { _observers: Map<string, Set<unknown>> })._observers.get(event)?.size ?? 0

describe('PROVIDER-7: destroy() is final', () => {
  it('[PROVIDER-7] connect() after destroy() is a no-op: no connection, no status change, no timer, even long after', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const relay = new ScriptedRelay()
    const a = provider(relay)
    await vi.waitFor(() => expect(a.status).toBe('connected'))
    a.destroy()
    expect(relay.last.closed).toEqual({ code: 1000, reason: 'client disconnect' })
    const statuses = statusesOf(a)
    a.connect()
    a.connect()
    expect(relay.connections).toHaveLength(1)
    expect(a.status).toBe('disconnected')
    expect(vi.getTimerCount()).toBe(0)
    await vi.advanceTimersByTimeAsync(600_000)
    expect(relay.connections).toHaveLength(1)
    expect(statuses).toEqual([])
  })

  it('[PROVIDER-7] a manual provider destroyed before it ever connected never connects', async () => {
    const relay = new ScriptedRelay()
    const a = provider(relay, { manual: true })
    a.destroy()
    a.connect()
    expect(relay.connections).toHaveLength(0)
    expect(a.status).toBe('disconnected')
  })

  it('[PROVIDER-7] destroy() twice, and disconnect() after destroy(), change nothing: one close, one status event', async () => {
    const { relay, a } = await providers.synced()
    const statuses = statusesOf(a)
    const closes: Array<{ code: number; reason: string }> = []
    relay.last.pair.server.onClose((code, reason) => closes.push({ code, reason }))
    a.destroy()
    // Listeners are dropped by destroy(): whoever listens after it hears nothing more.
    const after = statusesOf(a)
    expect(() => {
      a.destroy()
      a.disconnect()
      a.destroy()
    }).not.toThrow()
    expect(closes).toEqual([{ code: 1000, reason: 'client disconnect' }])
    expect([statuses, after, a.status]).toEqual([['disconnected'], [], 'disconnected'])
    expect(relay.connections).toHaveLength(1)
  })

  it('[PROVIDER-7] destroy() while a reconnect is pending cancels it: no timer left, no connection ever', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const relay = new ScriptedRelay()
    const a = provider(relay)
    await vi.waitFor(() => expect(a.status).toBe('connected'))
    relay.last.cut()
    expect(vi.getTimerCount()).toBe(1) // the backoff before the retry
    a.destroy()
    expect(vi.getTimerCount()).toBe(0)
    await vi.advanceTimersByTimeAsync(600_000)
    expect(relay.connections).toHaveLength(1)
    expect(a.status).toBe('disconnected')
  })

  it('[PROVIDER-7] destroy() from a status listener during a drop (the app tearing down as it goes offline) leaves no retry timer behind', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const relay = new ScriptedRelay()
    const a = provider(relay)
    await vi.waitFor(() => expect(a.status).toBe('connected'))
    a.on('status', (status) => {
      if (status === 'disconnected') a.destroy()
    })
    relay.last.cut()
    expect(a.status).toBe('disconnected')
    expect(vi.getTimerCount()).toBe(0)
    a.connect()
    await vi.advanceTimersByTimeAsync(600_000)
    expect(relay.connections).toHaveLength(1)
  })

  it('[PROVIDER-7] destroy() while connecting closes the half-open transport; the relay\'s late WELCOME reaches no one', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const relay = new ScriptedRelay()
    relay.answerHello = false
    const a = provider(relay)
    expect(a.status).toBe('connecting')
    const statuses = statusesOf(a)
    const pending = relay.last
    await relay.until(() => pending.received.length === 1, 'the HELLO')
    a.destroy()
    expect(pending.closed).toEqual({ code: 1000, reason: 'client disconnect' })
    expect([statuses, a.status]).toEqual([['disconnected'], 'disconnected'])
    expect(vi.getTimerCount()).toBe(0)
    await vi.advanceTimersByTimeAsync(600_000)
    expect(relay.connections).toHaveLength(1)
    expect(a.welcome).toBeNull()
  })

  it('[PROVIDER-7] destroy() lets go of the docs and the presence it was given: none of their listeners is left, and an edit after it sends nothing', async () => {
    const relay = new ScriptedRelay()
    const docs = { workspace: new Y.Doc(), control: new Y.Doc() }
    const awareness = new Awareness(new Y.Doc())
    const before = [listeners(docs.workspace, 'update'), listeners(docs.control, 'update'), listeners(awareness, 'update')]
    const a = provider(relay, { docs, awareness })
    await a.whenSynced()
    expect(listeners(docs.workspace, 'update')).toBe(before[0]! + 1)
    expect(listeners(awareness, 'update')).toBe(before[2]! + 1)
    a.destroy()
    expect([listeners(docs.workspace, 'update'), listeners(docs.control, 'update'), listeners(awareness, 'update')]).toEqual(before)
    const received = relay.last.received.length
    docs.workspace.getMap('m').set('after', 1)
    awareness.setLocalStateField('viewing', 'p1')
    a.connect()
    await new Promise<void>((resolve) => setImmediate(resolve))
    expect(relay.last.received).toHaveLength(received)
    expect(relay.connections).toHaveLength(1)
  })

  it('[PROVIDER-7] a request after destroy() is refused at once and sends nothing', async () => {
    const { relay, a } = await providers.synced()
    a.destroy()
    await expect(a.request('member.list')).rejects.toMatchObject({
      name: 'RelayRequestError',
      code: 'disconnected',
      message: 'This provider was destroyed, so "member.list" was not sent. Create a new provider to reach the relay.'
    })
    expect(relay.last.framesOf(FrameKind.rpcRequest)).toEqual([])
  })
})
