// RelayCast transport: posts a minute for a typical editing session, edit latency between
// instances at the fake engine's default delay, and updates merged per post — beside the
// WebSocket transport (a real relay on loopback) in the same run.
//   npx tsx bench/relaycast/run.ts [--quick] [--seconds N] [--samples N] [--out FILE]
// Markdown report on stdout (and --out FILE); progress on stderr.
import { writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { parseArgs } from 'node:util'
import { WorkspaceSession } from '@orchard/client'
import { startTestRelay } from '@orchard/relay/testing'
import { PLAN_POSTS_PER_MINUTE } from '@orchard/transport-relaycast'
import { DEFAULT_KNOBS } from '../../packages/transport-relaycast/test/fake/FakeRelayCast.js'
import { RelayCastWorld } from '../../packages/transport-relaycast/test/harness.js'
import { median, rng, table } from '../stats.js'

const { values } = parseArgs({ options: { quick: { type: 'boolean' }, seconds: { type: 'string' }, samples: { type: 'string' }, out: { type: 'string' } } })
const SECONDS = Number(values.seconds ?? (values.quick ? 20 : 60))
const SAMPLES = Number(values.samples ?? (values.quick ? 6 : 12))
const SHARE = 0.2
const BURST = 5
const log = (s: string) => process.stderr.write(`${s}\n`)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Resolves with the ms until `session` holds a project channel named `marker`. */
function arrival(session: WorkspaceSession, marker: string, started: number): Promise<number> {
  return new Promise((resolve) => {
    const check = () => {
      if (!session.store.loadStore().projects.some((project) => project.channels.includes(marker))) return
      session.store.doc.off('afterTransaction', check)
      resolve(performance.now() - started)
    }
    session.store.doc.on('afterTransaction', check)
    check()
  })
}

async function latencies(from: WorkspaceSession, to: WorkspaceSession, projectId: string, samples: number, gapMs: number, tag: string): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < samples; i++) {
    const marker = `${tag}-${i}`
    const started = performance.now()
    const arrived = arrival(to, marker, started)
    from.store.addProjectChannel(projectId, marker)
    out.push(await arrived)
    await sleep(gapMs)
  }
  return out
}

/** Each instance edits a project every ~`everyMs` (1-3 fields in one save) and moves its presence every other edit. */
async function editingSession(sessions: WorkspaceSession[], projectIds: string[], seconds: number, seed: number, everyMs: number): Promise<number> {
  const random = rng(seed)
  const until = performance.now() + seconds * 1000
  let edits = 0
  const loops = sessions.map(async (session, index) => {
    let tick = 0
    while (performance.now() < until) {
      await sleep(everyMs * (0.6 + random() * 0.8))
      const projectId = projectIds[Math.floor(random() * projectIds.length)] as string
      const fields = 1 + Math.floor(random() * 3)
      for (let f = 0; f < fields; f++) session.store.updateProject(projectId, { name: `p-${index}-${tick}-${f}` })
      edits++
      if (tick++ % 2 === 0) session.presence.set({ projectId })
    }
  })
  await Promise.all(loops)
  return edits
}

/** Edits as fast as someone types: one every 150 ms per instance, to show merging under load. */
async function typing(sessions: WorkspaceSession[], projectId: string, seconds: number): Promise<number> {
  let edits = 0
  const until = performance.now() + seconds * 1000
  while (performance.now() < until) {
    for (const [index, session] of sessions.entries()) {
      session.store.updateProject(projectId, { name: `typing ${index} ${edits}` })
      edits++
    }
    await sleep(150)
  }
  return edits
}

async function relayCastRun() {
  log(`relaycast: fake engine (default delay ${DEFAULT_KNOBS.delayMs} ms), free plan, share ${SHARE}, burst ${BURST}`)
  const world = await RelayCastWorld.start({ knobs: { postsPerMinute: PLAN_POSTS_PER_MINUTE.free } })
  const ben = await world.instance('ben', await world.member('editor', 'Ben'))
  const cat = await world.instance('cat', await world.member('editor', 'Cat'))
  const projectIds = ['Pear', 'Orchard', 'Docs'].map((name) => world.hostSession.store.addProject(name, `/src/${name}`).id)
  await sleep(1_500)
  const links = [world.host.link, ben.link, cat.link]
  for (const link of links) link.setBudget({ plan: 'free', share: SHARE, burst: BURST })
  const sessions = [world.hostSession, ben.session, cat.session]
  const snapshot = () => links.map((link) => ({ posts: link.stats.posts, entries: link.stats.entries, merged: link.stats.merged }))

  const session = async (everyMs: number) => {
    log(`relaycast: editing session, an edit every ~${everyMs / 1000} s per instance, ${SECONDS} s`)
    const start = snapshot()
    const postsBefore = world.fake.posts.length
    const t0 = performance.now()
    const edits = await editingSession(sessions, projectIds, SECONDS, 42, everyMs)
    await sleep(3_000) // let the last batches out
    const elapsedMin = (performance.now() - t0) / 60_000
    const posts = world.fake.posts.length - postsBefore
    const perAgent = links.map((link, i) => ({ name: link.name, posts: link.stats.posts - (start[i]?.posts ?? 0) }))
    return { everyMs, edits, posts, perMinute: posts / elapsedMin, perAgent: perAgent.map((a) => ({ ...a, perMinute: a.posts / elapsedMin })) }
  }
  log(`relaycast: idle (presence renewals and keepalives only), ${Math.min(SECONDS, 30)} s`)
  const idleBefore = world.fake.posts.length
  const tIdle = performance.now()
  await sleep(Math.min(SECONDS, 30) * 1000)
  const idle = { posts: world.fake.posts.length - idleBefore, perMinute: (world.fake.posts.length - idleBefore) / ((performance.now() - tIdle) / 60_000) }
  const typical = await session(10_000)
  const heavy = await session(2_500)
  let before = snapshot()

  log(`relaycast: typing on three instances, ${Math.min(SECONDS, 15)} s`)
  before = snapshot()
  const postsBeforeTyping = world.fake.posts.length
  const t1 = performance.now()
  const typed = await typing(sessions, projectIds[0] as string, Math.min(SECONDS, 15))
  await sleep(4_000)
  const typingMin = (performance.now() - t1) / 60_000
  const after = snapshot()
  const handed = after.reduce((sum, s, i) => sum + s.entries - (before[i]?.entries ?? 0), 0)
  const posted = after.reduce((sum, s, i) => sum + s.posts - (before[i]?.posts ?? 0), 0)
  const busy = { edits: typed, posts: world.fake.posts.length - postsBeforeTyping, perMinute: (world.fake.posts.length - postsBeforeTyping) / typingMin, framesPerPost: handed / posted }

  log(`relaycast: edit latency ben -> cat, ${SAMPLES} samples`)
  await sleep(4_000) // refill the buckets
  const lat = await latencies(ben.session, cat.session, projectIds[1] as string, SAMPLES, 2_200, 'rc')
  const rateLimited = links.reduce((sum, link) => sum + link.stats.rateLimited, 0)
  const violations = world.fake.violations.length
  await world.close()
  return { idle, typical, heavy, busy, lat, rateLimited, violations }
}

async function webSocketRun() {
  log('websocket: a real relay on loopback, edit latency ben -> cat')
  const relay = await startTestRelay({ storage: 'sqlite' })
  try {
    const add = async (name: string) => (await relay.core.auth.addMember(relay.workspaceId, name, 'editor')).credential
    const ben = await WorkspaceSession.open({ credential: await add('Ben'), relayUrl: relay.url, instanceId: 'ben' })
    const cat = await WorkspaceSession.open({ credential: await add('Cat'), relayUrl: relay.url, instanceId: 'cat' })
    const projectId = ben.store.addProject('Orchard', '/src/orchard').id
    await ben.provider.whenPersisted()
    await sleep(300)
    const lat = await latencies(ben, cat, projectId, SAMPLES, 50, 'ws')
    await ben.close()
    await cat.close()
    return { lat }
  } finally {
    await relay.close()
  }
}

const rc = await relayCastRun()
const ws = await webSocketRun()
const fmt = (n: number, d = 1) => n.toFixed(d)
const report = [
  '# bench/relaycast',
  '',
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, node ${process.version}, ${new Date().toISOString()}`,
  `command: npx tsx bench/relaycast/run.ts${values.quick ? ' --quick' : ''} (session ${SECONDS} s, ${SAMPLES} latency samples)`,
  `RelayCast: the fake engine in packages/transport-relaycast/test/fake through the real @relaycast/sdk 6.0.2, default delivery delay ${DEFAULT_KNOBS.delayMs} ms,`,
  `free plan (${PLAN_POSTS_PER_MINUTE.free} posts/min per workspace), each instance's share ${SHARE} (${PLAN_POSTS_PER_MINUTE.free * SHARE}/min), burst ${BURST}; host + 2 instances.`,
  '',
  '## Posts a minute (the rate limit is per RelayCast workspace)',
  '',
  table(
    ['session', 'edits', 'posts', 'posts/min (workspace)', 'free plan left for agents', 'frames per post'],
    [
      ['idle: no edits (presence renewals every 15 s, keepalives)', 0, rc.idle.posts, fmt(rc.idle.perMinute), fmt(PLAN_POSTS_PER_MINUTE.free - rc.idle.perMinute), '—'],
      ...[rc.typical, rc.heavy].map((s) => [`${s === rc.typical ? 'typical' : 'heavy'}: an edit every ~${s.everyMs / 1000} s per instance, presence every other edit`, s.edits, s.posts, fmt(s.perMinute), fmt(PLAN_POSTS_PER_MINUTE.free - s.perMinute), '—']),
      ['typing: an edit every 150 ms on each of 3 instances', rc.busy.edits, rc.busy.posts, fmt(rc.busy.perMinute), fmt(PLAN_POSTS_PER_MINUTE.free - rc.busy.perMinute), fmt(rc.busy.framesPerPost, 2)]
    ]
  ),
  '',
  table(['agent', 'typical posts/min', 'heavy posts/min'], rc.typical.perAgent.map((a, i) => [a.name, fmt(a.perMinute), fmt(rc.heavy.perAgent[i]?.perMinute ?? 0)])),
  '',
  `rate_limited replies: ${rc.rateLimited}; schema violations seen by the fake: ${rc.violations}`,
  '',
  '## Edit latency, one instance to another (ms)',
  '',
  table(
    ['transport', 'median', 'min', 'max', 'samples'],
    [
      ['RelayCast (2 hops: DM to the host, host post on the channel)', fmt(median(rc.lat)), fmt(Math.min(...rc.lat)), fmt(Math.max(...rc.lat)), rc.lat.length],
      ['WebSocket relay (loopback, SQLite full durability)', fmt(median(ws.lat)), fmt(Math.min(...ws.lat)), fmt(Math.max(...ws.lat)), ws.lat.length]
    ]
  ),
  ''
].join('\n')
process.stdout.write(report)
if (values.out) writeFileSync(values.out, report)
process.exit(0)
