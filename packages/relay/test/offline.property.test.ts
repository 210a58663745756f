/**
 * Offline edits merge after reconnect, through the real relay on a real port: random
 * Pear API edits on 2-3 instances with random disconnects and reconnects. At the end
 * every instance is online and all of them read the same projects. Seeds replay with
 * ORCHARD_SEED; runs stay small for CI (raise ORCHARD_FUZZ_RUNS for long runs).
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WorkspaceSession } from '@orchard/client'
import { fuzzParams } from '@orchard/protocol/testing'
import { eventually, startTestRelay, type TestRelay } from '@orchard/relay/testing'

let relay: TestRelay
beforeAll(async () => {
  relay = await startTestRelay()
})
afterAll(() => relay.close())

type Step =
  | { t: 'add'; s: number; name: string }
  | { t: 'rename'; s: number; p: number; name: string }
  | { t: 'channel'; s: number; p: number; name: string }
  | { t: 'dropChannel'; s: number; p: number }
  | { t: 'remove'; s: number; p: number }
  | { t: 'rmw'; s: number; p: number; name: string }
  | { t: 'offline'; s: number }
  | { t: 'online'; s: number }

const name = fc.constantFrom('alpha', 'Beta', 'ops', 'Release Notes', 'zed')
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ t: fc.constant('add' as const), s: fc.nat(2), name }),
  fc.record({ t: fc.constant('rename' as const), s: fc.nat(2), p: fc.nat(), name }),
  fc.record({ t: fc.constant('channel' as const), s: fc.nat(2), p: fc.nat(), name }),
  fc.record({ t: fc.constant('dropChannel' as const), s: fc.nat(2), p: fc.nat() }),
  fc.record({ t: fc.constant('remove' as const), s: fc.nat(2), p: fc.nat() }),
  fc.record({ t: fc.constant('rmw' as const), s: fc.nat(2), p: fc.nat(), name }),
  fc.record({ t: fc.constant('offline' as const), s: fc.nat(2) }),
  fc.record({ t: fc.constant('online' as const), s: fc.nat(2) })
)

async function run(count: number, steps: Step[]): Promise<void> {
  const { credential } = await relay.core.createWorkspace('fuzz', 'Owner')
  const sessions: WorkspaceSession[] = []
  try {
    for (let n = 0; n < count; n++) sessions.push(await WorkspaceSession.open({ credential, relayUrl: relay.url, instanceId: `i${n}` }))
    for (const s of steps) {
      const session = sessions[s.s % count] as WorkspaceSession
      const store = session.store
      const projects = store.loadStore().projects
      const project = 'p' in s && projects.length > 0 ? projects[s.p % projects.length] : undefined
      switch (s.t) {
        case 'add':
          store.addProject(s.name, `/src/${s.name}`)
          break
        case 'rename':
          if (project) store.updateProject(project.id, { name: s.name })
          break
        case 'channel':
          if (project) store.addProjectChannel(project.id, s.name)
          break
        case 'dropChannel':
          if (project) store.removeProjectChannel(project.id, project.channels.at(-1) ?? 'general')
          break
        case 'remove':
          if (project) store.removeProject(project.id)
          break
        case 'rmw': {
          const data = store.loadStore()
          const target = data.projects.length > 0 ? data.projects[s.p % data.projects.length] : undefined
          if (target) target.channels.push(`${s.name}-rmw`)
          store.saveStore(data)
          break
        }
        case 'offline':
          session.provider.disconnect()
          break
        case 'online':
          session.provider.connect()
          break
      }
      // Let the network interleave with the edits a little.
      if (s.t === 'online' || s.t === 'offline') await new Promise((resolve) => setImmediate(resolve))
    }
    for (const session of sessions) session.provider.connect()
    await eventually(() => sessions.every((session) => session.provider.status === 'connected' && session.provider.synced && session.provider.persisted), {
      what: 'everyone online, synced and persisted',
      timeoutMs: 10_000
    })
    await eventually(
      () => {
        const views = sessions.map((session) => JSON.stringify(session.store.loadStore().projects))
        return views.every((view) => view === views[0])
      },
      { what: 'identical views', timeoutMs: 10_000 }
    )
  } finally {
    for (const session of sessions) await session.close()
  }
}

describe('offline edits through the relay', () => {
  it('[PROVIDER-1] regression (found by this property): disconnect() then connect() at once reconnects instead of stopping', async () => {
    const { credential } = await relay.core.createWorkspace('race', 'Owner')
    const session = await WorkspaceSession.open({ credential, relayUrl: relay.url, instanceId: 'racer' })
    try {
      session.provider.disconnect()
      session.provider.connect()
      await eventually(() => session.provider.status === 'connected' && session.provider.synced, { what: 'reconnected' })
      expect(session.provider.stopReason).toBeNull()
    } finally {
      await session.close()
    }
  })

  it('[PROVIDER-1] random edits and disconnects on 2-3 instances converge after reconnect', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 3 }), fc.array(step, { minLength: 5, maxLength: 30 }), (count, steps) => run(count, steps)),
      fuzzParams(12)
    )
    expect(relay.core.metrics.updatesTotal).toBeGreaterThan(0)
  }, 120_000)
})
