/**
 * Two or three instances and the host converge whatever the engine does (RC-15), and a
 * typical burst of editing stays inside this instance's share of the free plan (RC-6).
 * Faults come from fast-check's seed (printed on failure; ORCHARD_SEED replays it).
 */
import { eventually } from '@orchard/relay/testing'
import { fuzzParams } from '@orchard/protocol/testing'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { PLAN_POSTS_PER_MINUTE } from '../src/index.js'
import { RelayCastWorld, type Instance } from './harness.js'

let world: RelayCastWorld | null = null
afterEach(async () => {
  await world?.close()
  world = null
})

const view = (instance: { session: Instance['session'] }) => JSON.stringify(instance.session.store.loadStore().projects)

const faults = fc.record({
  echo: fc.boolean(),
  duplicateDelivery: fc.constantFrom(0, 0.2, 0.5),
  duplicatePost: fc.constantFrom(0, 0.2),
  reorder: fc.constantFrom(0, 0.3),
  delayMs: fc.integer({ min: 0, max: 15 }),
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 })
})

const step = fc.oneof(
  fc.record({ t: fc.constant('add' as const), who: fc.nat(2), name: fc.constantFrom('api', 'web', 'docs', 'cli') }),
  fc.record({ t: fc.constant('channel' as const), who: fc.nat(2), name: fc.constantFrom('general', 'dev', 'ops') }),
  fc.record({ t: fc.constant('rename' as const), who: fc.nat(2), name: fc.constantFrom('A', 'B', 'C') }),
  fc.record({ t: fc.constant('remove' as const), who: fc.nat(2), name: fc.constant('') }),
  fc.record({ t: fc.constant('drop-socket' as const), who: fc.nat(2), name: fc.constant('') }),
  fc.record({ t: fc.constant('http-500' as const), who: fc.nat(2), name: fc.constant('') })
)

function rng(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('convergence under faults', () => {
  it('[RC-15] [RC-5] 2-3 instances and the host converge under duplicated, reordered and delayed deliveries, echoes, dropped sockets and 500s', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 3 }), faults, fc.array(step, { minLength: 4, maxLength: 14 }), async (count, fault, steps) => {
        const { seed, ...knobs } = fault
        world = await RelayCastWorld.start({ knobs, random: rng(seed) })
        try {
          const instances: Instance[] = []
          for (let i = 0; i < count; i++) instances.push(await world.instance(`i${i}`, await world.member('editor', `E${i}`)))
          for (const s of steps) {
            const who = instances[s.who % count] as Instance
            const store = who.session.store
            const first = store.loadStore().projects[0]
            if (s.t === 'add') store.addProject(`${s.name}-${who.name}`, `/src/${s.name}`)
            else if (s.t === 'channel' && first) store.addProjectChannel(first.id, s.name)
            else if (s.t === 'rename' && first) store.updateProject(first.id, { name: s.name })
            else if (s.t === 'remove' && first) store.removeProject(first.id)
            else if (s.t === 'drop-socket') world.fake.dropSockets(who.link.name)
            else if (s.t === 'http-500') world.fake.knobs.failNext = 1
            await new Promise((resolve) => setTimeout(resolve, 5))
          }
          const everyone = [{ session: world.hostSession }, ...instances]
          await eventually(() => instances.every((i) => i.session.status === 'connected' && i.session.provider.persisted), { what: 'all persisted', timeoutMs: 15_000 })
          await eventually(() => everyone.every((i) => view(i) === view(everyone[0] as Instance)), { what: 'identical views', timeoutMs: 15_000 })
          expect(world.fake.violations).toEqual([])
        } finally {
          await world.close()
          world = null
        }
      }),
      fuzzParams(3)
    )
  }, 120_000)

  it('[RC-6] [RC-7] a burst of editing on three instances stays inside each one\'s share of the free plan, and everyone converges', async () => {
    const share = 0.2
    const burst = 5
    world = await RelayCastWorld.start({ knobs: { postsPerMinute: PLAN_POSTS_PER_MINUTE.free } })
    const instances: Instance[] = []
    for (let i = 0; i < 3; i++) instances.push(await world.instance(`b${i}`, await world.member('editor', `B${i}`)))
    // Joining is quick on the harness's generous budget; the editing runs on the free plan's share.
    for (const link of [world.host.link, ...instances.map((i) => i.link)]) link.setBudget({ plan: 'free', share, burst })
    const started = Date.now()
    const postsBefore = world.fake.posts.length
    let edits = 0
    for (let round = 0; round < 20; round++) {
      for (const instance of instances) {
        instance.session.store.addProject(`p${round}-${instance.name}`, `/src/${round}`)
        edits++
      }
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    const everyone = [{ session: world.hostSession }, ...instances]
    await eventually(() => everyone.every((i) => JSON.parse(view(i)).length === edits), { what: 'everyone has every project', timeoutMs: 20_000 })
    const seconds = (Date.now() - started) / 1000
    const perInstance = (PLAN_POSTS_PER_MINUTE.free * share) / 60
    const posts = world.fake.posts.slice(postsBefore)
    for (const agent of [...instances.map((i) => i.link.name), world.host.link.name]) {
      const mine = posts.filter((post) => post.from === agent).length
      expect(mine).toBeLessThanOrEqual(burst + Math.ceil(perInstance * seconds) + 1)
    }
    // Merged: far fewer posts than edits (each post carries what waited behind the one in flight).
    expect(posts.length).toBeLessThan(edits / 2)
    expect(instances.every((i) => i.link.stats.rateLimited === 0)).toBe(true)
  }, 30_000)
})
