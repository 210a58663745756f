/**
 * Orchard over the fake RelayCast engine, through the real @relaycast/sdk: a host instance
 * running the relay core with RelayCast as its sockets and other instances on the RelayCast
 * transport. What each test says the user sees is in its title.
 */
import { WorkspaceSession } from '@orchard/client'
import { FrameKind, encodeFrame, syncFrame, type Frame } from '@orchard/protocol'
import { eventually } from '@orchard/relay/testing'
import { RelayCast } from '@relaycast/sdk'
import * as encoding from 'lib0/encoding'
import { afterEach, describe, expect, it } from 'vitest'
import { Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { EntryKind, encodeEntries, encodeEnvelope } from '../src/index.js'
import { FakeBroker } from '../../relay/test/harness/fake-broker.js'
import { CHANNEL, HOST_AGENT, RelayCastWorld } from './harness.js'

let world: RelayCastWorld | null = null
afterEach(async () => {
  await world?.close()
  world = null
})

const projects = (session: WorkspaceSession) => session.store.loadStore().projects.map((project) => project.name).sort()

/** A raw Yjs update frame, as a client that ignores its local role guard would send it. */
function rawUpdateFrame(edit: (doc: Y.Doc) => void): Frame {
  const doc = new Y.Doc()
  let update: Uint8Array | null = null
  doc.on('update', (u: Uint8Array) => (update = u))
  edit(doc)
  const body = encoding.encode((encoder) => {
    encoding.writeVarUint(encoder, 2)
    encoding.writeVarUint8Array(encoder, update as unknown as Uint8Array)
  })
  return syncFrame('workspace', body)
}

describe('a workspace shared over RelayCast', () => {
  it('[RC-9] [RC-16] [RC-7] an invite works over RelayCast; edits flow both ways, persisted means stored, and a late joiner gets everything', async () => {
    world = await RelayCastWorld.start()
    const invite = await world.hostSession.createInvite('editor')
    expect(invite).toBeTruthy()
    const { link, transport } = world.remote('ben')
    const ben = await WorkspaceSession.join(invite, { name: 'Ben', transport, instanceId: 'ben', connectTimeoutMs: 10_000 })
    world.track('ben', link, transport, ben)
    expect(ben.role).toBe('editor')
    // Edits in separate turns while a post is in flight: they wait and go out merged.
    for (let i = 0; i < 20; i++) {
      ben.store.addProject(`Ben ${i}`, `/src/ben-${i}`)
      await new Promise((resolve) => setTimeout(resolve, 3))
    }
    await ben.provider.whenPersisted()
    world.hostSession.store.addProject('Host project', '/src/host')
    await eventually(() => projects(ben).includes('Host project') && projects(world!.hostSession).length === 21, { what: 'edits both ways' })
    // Merged on the way (RC-7): twenty edits, fewer posts, and the acks still add up.
    expect(link.stats.merged).toBeGreaterThan(0)
    expect(ben.provider.persisted).toBe(true)
    const cat = await world.instance('cat', await world.member('viewer', 'Cat'))
    expect(projects(cat.session)).toEqual(projects(world.hostSession))
    expect(world.fake.violations).toEqual([])
  })

  it('[RC-9] a viewer\'s doc write is refused by the host with the relay\'s words and reaches nobody', async () => {
    world = await RelayCastWorld.start()
    const vic = await world.instance('vic', await world.member('viewer', 'Vic'))
    const ben = await world.instance('ben', await world.member('editor', 'Ben'))
    expect(() => vic.session.store.addProject('Nope', '/nope')).toThrow(/read|view/i)
    const refused = new Promise<{ code: string; message: string }>((resolve) => vic.session.provider.once('error', resolve))
    vic.session.provider.sendFrame(rawUpdateFrame((doc) => doc.getMap('forged').set('x', 1)))
    expect(await refused).toMatchObject({ code: 'read-only' })
    ben.session.store.addProject('Marker', '/m')
    await eventually(() => projects(vic.session).includes('Marker'), { what: 'later edits still flow' })
    expect(world.hostSession.store.doc.share.has('forged')).toBe(false)
    expect(ben.session.store.doc.share.has('forged')).toBe(false)
  })

  it('[RC-10] [RC-2] [RC-4] forged presence and updates from another agent on the channel are ignored; own echoes are dropped', async () => {
    world = await RelayCastWorld.start({ knobs: { echo: true } })
    const ben = await world.instance('ben', await world.member('editor', 'Ben'))
    // A rogue agent in the same RelayCast workspace, on the channel, speaking the envelope.
    const relay = new RelayCast({ apiKey: world.apiKey, baseUrl: world.fake.url })
    const rogue = relay.as((await relay.registerOrRotate({ name: 'rogue', type: 'system' })).token)
    await rogue.channels.join(CHANNEL)
    const fakeDoc = new Y.Doc()
    const fakeAwareness = new Awareness(fakeDoc)
    fakeAwareness.setLocalState({ memberId: 'owner', name: 'Ana', role: 'owner', instanceId: 'host' })
    const awarenessFrame = encodeFrame({ kind: FrameKind.awareness, channel: 'workspace', body: encodeAwarenessUpdate(fakeAwareness, [fakeDoc.clientID]) })
    const update = rawUpdateFrame((doc) => doc.getMap('forged').set('x', 1))
    const body = encodeEntries([
      { kind: EntryKind.frame, targets: [], conn: '', payload: awarenessFrame },
      { kind: EntryKind.frame, targets: [], conn: '', payload: encodeFrame(update) }
    ])
    // Once naming the host as sender (forged: the server stamps "rogue"), once as itself.
    await rogue.send(CHANNEL, encodeEnvelope({ version: 1, sender: HOST_AGENT, epoch: Date.now(), stream: 'channel', seq: 1, body }))
    // (An old epoch, so nothing about it looks like a host restart.)
    await rogue.send(CHANNEL, encodeEnvelope({ version: 1, sender: 'rogue', epoch: 1, stream: 'channel', seq: 1, body }))
    await eventually(() => ben.link.stats.dropped.forged >= 1 && ben.link.stats.received >= 2, { what: 'both rogue posts arrived' })
    ben.session.store.addProject('After', '/after')
    await eventually(() => projects(world!.hostSession).includes('After') && world!.host.link.stats.dropped.echo > 0, { what: 'edits flow; echoes dropped' })
    await rogue.disconnect()
    expect(ben.session.awareness.getStates().has(fakeDoc.clientID)).toBe(false)
    expect(ben.session.store.doc.share.has('forged')).toBe(false)
    expect(world.hostSession.store.doc.share.has('forged')).toBe(false)
  })

  it('[RC-9] frames another agent DMs to the host with a member\'s connection id are ignored: the connection belongs to the stamped agent', async () => {
    world = await RelayCastWorld.start()
    const ben = await world.instance('ben', await world.member('editor', 'Ben'))
    const conn = ben.transport.current?.conn as string
    const relay = new RelayCast({ apiKey: world.apiKey, baseUrl: world.fake.url })
    const mallory = relay.as((await relay.registerOrRotate({ name: 'mallory', type: 'system' })).token)
    const body = encodeEntries([{ kind: EntryKind.frame, targets: [], conn, payload: encodeFrame(rawUpdateFrame((doc) => doc.getMap('forged').set('x', 1))) }])
    await mallory.dm(HOST_AGENT, encodeEnvelope({ version: 1, sender: 'mallory', epoch: 1, stream: 'dm', seq: 1, body }))
    await eventually(() => world!.host.link.stats.received > 0 && world!.fake.posts.some((post) => post.from === 'mallory'), { what: 'the DM arrived' })
    ben.session.store.addProject('Still Ben', '/ben')
    await eventually(() => projects(world!.hostSession).includes('Still Ben'), { what: 'ben still connected' })
    expect(world.hostSession.store.doc.share.has('forged')).toBe(false)
  })

  it('[RC-3] under an engine text cap the link learns it from the 413 and a large edit still arrives, in fragments', async () => {
    world = await RelayCastWorld.start({ knobs: { maxTextLength: 3_000 } })
    const ben = await world.instance('ben', await world.member('editor', 'Ben'))
    const long = `Big ${'x'.repeat(12_000)}`
    ben.session.store.addProject(long, '/src/big')
    await eventually(() => projects(world!.hostSession).includes(long), { what: 'the big edit at the host', timeoutMs: 10_000 })
    await eventually(() => projects(world!.instances[0]!.session).includes(long), { what: 'and back' })
    expect(world.fake.posts.every((post) => post.text.length <= 3_000)).toBe(true)
  })

  it('[RC-8] rate_limited shows in session.transportStatus, then everything queued arrives', async () => {
    world = await RelayCastWorld.start()
    const ben = await world.instance('ben', await world.member('editor', 'Ben'))
    const seen: string[] = []
    ben.link.on('status', (status) => seen.push(status.posting.state))
    world.fake.knobs.rateLimitNext = 2
    ben.session.store.addProject('Throttled', '/t')
    await eventually(() => seen.includes('rate-limited'), { what: 'rate-limited status' })
    expect(ben.session.transportStatus).toMatchObject({ posting: { state: 'rate-limited' } })
    await eventually(() => projects(world!.hostSession).includes('Throttled'), { what: 'delivered after backoff' })
    await eventually(() => (ben.session.transportStatus as { posting: { state: string } }).posting.state === 'ok', { what: 'status back to ok' })
  })
})

describe('host offline and host restarts', () => {
  it('[RC-11] [RC-12] with the host gone, editors still merge over the channel, a viewer\'s write is dropped, RPCs say host-offline; the host gets it all back', async () => {
    world = await RelayCastWorld.start({ transport: { openTimeoutMs: 600, hostSilenceMs: 1_200 } })
    const ben = await world.instance('ben', await world.member('editor', 'Ben'))
    const cat = await world.instance('cat', await world.member('editor', 'Cat'))
    const vic = await world.instance('vic', await world.member('viewer', 'Vic'))
    await eventually(() => Object.keys(cat.transport.memory.roster).length >= 3, { what: 'roster known' })
    await world.stopHost()
    await eventually(() => [ben, cat, vic].every((i) => i.mode() === 'peer' && i.session.status === 'connected'), { what: 'peer mode', timeoutMs: 15_000 })
    ben.session.store.addProject('While host away', '/away')
    await eventually(() => projects(cat.session).includes('While host away'), { what: 'peer merge' })
    vic.session.provider.sendFrame(rawUpdateFrame((doc) => doc.getMap('forged').set('x', 1)))
    await expect(ben.session.provider.request('lease.claim', { agentId: 'x' })).rejects.toMatchObject({ code: 'host-offline' })
    cat.session.store.addProject('Cat marker', '/cat')
    await eventually(() => projects(ben.session).includes('Cat marker'), { what: 'later peer edit' })
    expect(ben.session.store.doc.share.has('forged')).toBe(false)
    world.core = world.openCore()
    await world.startHost()
    await eventually(() => projects(world!.hostSession).includes('While host away') && projects(world!.hostSession).includes('Cat marker'), { what: 'host caught up', timeoutMs: 15_000 })
    expect([ben, cat].every((i) => i.mode() === 'host')).toBe(true)
  })

  it('[RC-13] after the host crashes and restarts the others reconnect, and fencing holds: a stale epoch\'s input is refused', async () => {
    world = await RelayCastWorld.start()
    const broker = new FakeBroker()
    world.hostSession.host(broker)
    const projectId = world.hostSession.store.addProject('Pear', '/src/pear').id
    world.hostSession.store.setProjectHost(projectId, { instanceId: 'host' })
    await world.hostSession.provider.whenPersisted()
    const agent = await world.hostSession.spawn(projectId, 'alice')
    const ben = await world.instance('ben', await world.member('editor', 'Ben'))
    const first = await ben.session.claim(agent.id)
    const before = ben.transport.current
    await world.restartHost({ crash: true })
    world.hostSession.host(broker)
    await eventually(() => ben.transport.current !== before && ben.session.status === 'connected' && ben.session.provider.synced, { what: 'ben back on the new host', timeoutMs: 15_000 })
    const taken = await world.hostSession.claim(agent.id, { takeover: true })
    expect(taken.epoch).toBeGreaterThan(first.epoch)
    const refused = new Promise<{ code: string }>((resolve) => ben.session.provider.once('error', resolve))
    ben.session.provider.sendFrame({ kind: FrameKind.termInput, channel: agent.id, epoch: first.epoch, data: new TextEncoder().encode('stale') })
    expect((await refused).code).toBe('not-holder')
    world.hostSession.sendInput(agent.id, 'fresh')
    await eventually(() => broker.written.some((entry) => entry.text === 'fresh'), { what: 'the new holder types' })
    expect(broker.written.map((entry) => entry.text)).not.toContain('stale')
  })
})

describe('terminals', () => {
  it('[RC-14] output reaches a viewer once and in order when deliveries are duplicated and reordered', async () => {
    world = await RelayCastWorld.start({ knobs: { duplicateDelivery: 0.3, duplicatePost: 0.3, reorder: 0.3 }, random: seeded(7) })
    const broker = new FakeBroker()
    world.hostSession.host(broker)
    const projectId = world.hostSession.store.addProject('Pear', '/src/pear').id
    world.hostSession.store.setProjectHost(projectId, { instanceId: 'host' })
    await world.hostSession.provider.whenPersisted()
    const agent = await world.hostSession.spawn(projectId, 'alice')
    const vic = await world.instance('vic', await world.member('viewer', 'Vic'))
    const stream = vic.session.terminal(agent.id)
    let text = ''
    stream.on('data', (data) => (text += new TextDecoder().decode(data)))
    const expected: string[] = []
    for (let i = 0; i < 60; i++) {
      expected.push(`line ${i}\r\n`)
      broker.print(agent.id, `line ${i}\r\n`)
      if (i % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 15))
    }
    await eventually(() => text.length >= expected.join('').length, { what: 'all output', timeoutMs: 15_000 })
    expect(text).toBe(expected.join(''))
    expect(vic.link.stats.dropped.duplicate).toBeGreaterThan(0)
  })
})

function seeded(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
