/**
 * The client's browser entry without a browser: BrowserSession over the in-memory
 * transport against a real relay core, so its rules are checked even where Chromium is
 * missing, and in milliseconds.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { BrowserSession, MemorySeatStore, SessionError, type Transport } from '@orchard/client/browser'
import { MemoryStorage, RelayCore } from '@orchard/relay'
import { memoryTransport } from '@orchard/relay/testing'
import { installImmediate } from '../../client/src/browser/immediate.js'

const open: Array<BrowserSession | RelayCore> = []
afterEach(async () => {
  for (const item of open.splice(0).reverse()) {
    if (item instanceof RelayCore) await item.close()
    else item.close()
  }
})

async function relay(): Promise<{ core: RelayCore; owner: string; invite: (role?: 'viewer' | 'editor', maxUses?: number) => Promise<string> }> {
  const core = new RelayCore({ storage: new MemoryStorage(), logger: { info: () => {}, error: () => {} } })
  open.push(core)
  const created = await core.createWorkspace('Browser', 'Ana')
  const invite = async (role: 'viewer' | 'editor' = 'viewer', maxUses?: number) =>
    (await core.auth.createInvite(created.workspace.id, { role, createdBy: created.member.id, relayUrl: 'ws://relay.test', ...(maxUses ? { maxUses } : {}) })).token
  return { core, owner: created.credential, invite }
}

describe('BrowserSession', () => {
  it('[BROWSER-1] joining keeps the earned credential and instance id in the seat store; a used-up invite says so', async () => {
    const { core, invite } = await relay()
    const seats = new MemorySeatStore()
    const token = await invite('viewer', 1)
    const session = await BrowserSession.join(token, { name: 'Vic', seats, transport: memoryTransport(core) })
    open.push(session)
    const seat = seats.load()
    expect(seat).toMatchObject({ name: 'Vic', role: 'viewer', relayUrl: 'ws://relay.test', instanceId: session.instanceId })
    expect(seat?.credential).toMatch(/^orc_m\./)
    expect(session.role).toBe('viewer')

    const refused = await BrowserSession.join(token, { name: 'Mallory', seats: new MemorySeatStore(), transport: memoryTransport(core) }).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(SessionError)
    expect(refused).toMatchObject({ code: 'invite-used-up', message: expect.stringContaining('used as many times as it allows') })
  })

  it('[BROWSER-1] a relay that never answers is "unreachable" after a few attempts, not after the whole timeout', async () => {
    const { invite } = await relay()
    const dead = (): Transport => {
      let closed: ((code: number, reason: string) => void) | null = null
      queueMicrotask(() => closed?.(1006, ''))
      return { send: () => {}, close: () => {}, onOpen: () => {}, onMessage: () => {}, onClose: (listener) => (closed = listener) }
    }
    const started = Date.now()
    const refused = await BrowserSession.join(await invite(), { name: 'Vic', seats: new MemorySeatStore(), transport: dead, backoff: { initialMs: 5, maxMs: 20 }, connectTimeoutMs: 20_000 }).catch((error: unknown) => error)
    expect(refused).toMatchObject({ code: 'unreachable', message: expect.stringContaining('Cannot reach the relay at ws://relay.test') })
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it('[BROWSER-2] opening with the stored seat is the same member and instance; without a seat there is nothing to open', async () => {
    const { core, invite } = await relay()
    const seats = new MemorySeatStore()
    expect(BrowserSession.open({ seats, transport: memoryTransport(core) })).toBeNull()
    const joined = await BrowserSession.join(await invite('editor'), { name: 'Eve', seats, transport: memoryTransport(core) })
    const { memberId, instanceId } = joined
    joined.close()
    const workspaceId = joined.provider.welcome?.workspaceId ?? ''
    const members = (await core.auth.listMembers(workspaceId)).length
    const reopened = BrowserSession.open({ seats, transport: memoryTransport(core) }) as BrowserSession
    open.push(reopened)
    await reopened.whenSynced()
    expect(reopened.memberId).toBe(memberId)
    expect(reopened.instanceId).toBe(instanceId)
    expect(reopened.role).toBe('editor')
    expect((await core.auth.listMembers(workspaceId)).length).toBe(members)
  })

  it('[BROWSER-3] leave forgets the seat and disconnects', async () => {
    const { core, invite } = await relay()
    const seats = new MemorySeatStore()
    const session = await BrowserSession.join(await invite(), { name: 'Vic', seats, transport: memoryTransport(core) })
    session.leave()
    expect(seats.load()).toBeNull()
    expect(session.status).toBe('disconnected')
    expect(BrowserSession.open({ seats, transport: memoryTransport(core) })).toBeNull()
  })

  it('[BROWSER-4] where the platform has no setImmediate, the browser entry provides one that runs after the current task and can be cleared', async () => {
    const scope: { setImmediate?: unknown; clearImmediate?: unknown } = {}
    installImmediate(scope)
    const set = scope.setImmediate as (callback: () => void) => unknown
    const clear = scope.clearImmediate as (handle: unknown) => void
    const order: string[] = []
    await new Promise<void>((resolve) => {
      set(() => order.push('first'))
      clear(set(() => order.push('cleared')))
      set(() => {
        order.push('last')
        resolve()
      })
      order.push('sync')
    })
    expect(order).toEqual(['sync', 'first', 'last'])
    // An existing one is left alone (Node's, here).
    const node = { setImmediate: globalThis.setImmediate }
    installImmediate(node)
    expect(node.setImmediate).toBe(globalThis.setImmediate)
  })
})
