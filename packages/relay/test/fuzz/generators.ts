/**
 * What the wire fuzzer sends: fast-check arbitraries for whole sessions (protocol, principal,
 * HELLO or not, then frames), each frame tagged with its class so a run can say which kinds
 * of input it covered and a known-broken class can be left out by name. Frames are built
 * with the protocol package's encoders and its arbitraries and byte mutators; Yjs bodies are
 * real sync and awareness messages (valid, mutated, truncated, or deep), as a client that
 * knows the format would craft them.
 */
import fc from 'fast-check'
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import { encodeFrame, encodeYwsMessage, FrameKind, PROTOCOL_VERSION, type Frame } from '@orchard/protocol'
import { anyFrame, frameArbitraries } from '../../../protocol/test/harness/arbitraries.js'
import { applyMutation, mutation } from '../../../protocol/test/harness/mutate.js'

export type Principal = 'anonymous' | 'owner' | 'editor' | 'viewer'
export type WireProtocol = 'orchard' | 'yws'

/** Every class of input the fuzzer makes; a run can leave some out (FuzzOptions.exclude). */
export const FRAME_CLASSES = [
  'frame-any', // any frame kind with random fields (protocol arbitraries)
  'frame-mutated', // an encoded frame with byte mutations
  'bytes', // random bytes
  'sync-valid', // sync step 1 / step 2 / update with real Yjs content
  'sync-mutated', // a real sync step 2 / update body with byte mutations
  'sync-step1-mutated', // a real sync step 1 (state vector) with byte mutations
  'sync-truncated-sv', // sync step 1 whose state vector is cut short
  'update-deep-json', // a well-formed update embedding deeply nested JSON
  'awareness-valid', // a real awareness update (random small state)
  'awareness-mutated', // a real awareness update with byte mutations
  'awareness-bad-json', // an awareness entry whose state is not JSON
  'awareness-deep-json', // an awareness state of deeply nested JSON
  'rpc', // every RPC method with random params
  'terminal', // terminal subscribe/output/input/resize on known and random channels
  'hello-again', // a second HELLO on a live connection
  'yws-auth', // y-websocket auth / query-awareness messages
  'upgrade-path' // the upgrade URL itself: random paths, bad percent-encoding, random tokens
] as const
export type FrameClass = (typeof FRAME_CLASSES)[number]

export interface FuzzFrame {
  cls: FrameClass
  bytes: Uint8Array
}

export interface Session {
  protocol: WireProtocol
  principal: Principal
  /** 'valid' = a HELLO (Orchard) or a token (y-websocket) that authenticates; 'bad' = one that does not; 'none' = skip it. */
  hello: 'valid' | 'bad' | 'none'
  /** For 'upgrade-path' sessions: the path and query to upgrade on, instead of the right one. */
  path?: string
  frames: FuzzFrame[]
}

const RPC_METHODS = [
  'invite.create',
  'invite.list',
  'invite.revoke',
  'member.list',
  'member.setRole',
  'member.remove',
  'agent.spawn',
  'agent.stop',
  'agent.exited',
  'agent.claim',
  'agent.takeover',
  'lease.claim',
  'lease.renew',
  'lease.release',
  'terminal.size',
  'terminal.input',
  'doc.write'
]
const CHANNELS = ['workspace', 'control', '', 'agent-1', 'term-1']
const channel = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...CHANNELS) }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) })
const smallJson = fc.jsonValue({ maxDepth: 2 })

/** JSON nested `depth` levels deep, as text (JSON.stringify itself recurses, so build it by hand). */
const deepCache = new Map<string, string>()
export function deepJsonText(depth: number, shape: 'array' | 'object'): string {
  const key = `${shape}${depth}`
  const cached = deepCache.get(key)
  if (cached !== undefined) return cached
  const text = shape === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
  deepCache.set(key, text)
  return text
}

function syncMessage(type: 0 | 1 | 2, payload: Uint8Array): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, type)
  encoding.writeVarUint8Array(e, payload)
  return encoding.toUint8Array(e)
}

/** A real Yjs update: a fresh doc (random client id) doing a few map sets, text inserts and deletes. */
const freshYjsUpdate = fc
  .record({
    clientId: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    ops: fc.array(fc.tuple(fc.constantFrom('set', 'insert', 'delete'), fc.string({ maxLength: 8 }), smallJson), { minLength: 1, maxLength: 6 })
  })
  .map(({ clientId, ops }) => {
    const doc = new Y.Doc()
    doc.clientID = clientId
    // Never the sentinel's map: a fuzz writer with a valid credential may edit the doc, but
    // the check that other clients' data is intact must not depend on luck.
    const map = doc.getMap('fuzz')
    const text = doc.getText('fuzz-text')
    for (const [op, key, value] of ops) {
      if (op === 'set') map.set(key, value)
      else if (op === 'insert') text.insert(Math.min(text.length, key.length), key || 'x')
      else if (text.length > 0) text.delete(0, 1)
    }
    const update = Y.encodeStateAsUpdate(doc)
    const sv = Y.encodeStateVector(doc)
    doc.destroy()
    return { update, sv }
  })

/**
 * Building a Y.Doc per frame costs more than sending it, so frames draw from a pool of real
 * updates made once (seeded, the same every run); mutations and framing still vary per frame.
 */
const UPDATE_POOL = fc.sample(freshYjsUpdate, { numRuns: 96, seed: 20261204 })
const yjsUpdate = fc.constantFrom(...UPDATE_POOL)

const syncBody = yjsUpdate.chain(({ update, sv }) =>
  fc.constantFrom(syncMessage(0, sv), syncMessage(1, update), syncMessage(2, update), syncMessage(0, new Uint8Array([0])))
)
/** A real update with byte mutations inside it, sent as step 2 or update (the message type itself intact). */
const mutatedUpdateBody = fc
  .tuple(yjsUpdate, fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.constantFrom(1 as const, 2 as const))
  .map(([{ update }, ms, type]) => syncMessage(type, ms.reduce(applyMutation, update)))
const step1Body = yjsUpdate.map(({ sv }) => syncMessage(0, sv))

/** A state vector that claims more entries than it holds, or stops inside a varuint. */
const truncatedSvBody = fc
  .record({ entries: fc.integer({ min: 1, max: 1000 }), cut: fc.uint8Array({ maxLength: 6 }), highBit: fc.boolean() })
  .map(({ entries, cut, highBit }) => {
    const e = encoding.createEncoder()
    encoding.writeVarUint(e, entries)
    encoding.writeUint8Array(e, cut)
    if (highBit) encoding.writeUint8(e, 0x80)
    return syncMessage(0, encoding.toUint8Array(e))
  })

/** A well-formed update whose map value is deeply nested JSON (built by hand: Yjs would recurse to encode it). */
const deepJsonUpdateBody = fc.record({ depth: fc.constantFrom(2_000, 5_000, 20_000), shape: fc.constantFrom('array' as const, 'object' as const) }).map(({ depth, shape }) => {
  // Encode a normal one-entry update with a short placeholder, then swap the placeholder's
  // JSON text for the deep one, fixing the length prefix: ContentAny stores JSON values as
  // typed lib0 "any", so use ContentJSON's string form via a Y.Map holding a string instead.
  const doc = new Y.Doc()
  doc.clientID = 424242
  const e = encoding.createEncoder()
  // Update v1 by hand: 1 client, 1 struct (an Item with ContentJSON, parent = root type "fuzz", key = "deep").
  encoding.writeVarUint(e, 1) // clients
  encoding.writeVarUint(e, 1) // structs of this client
  encoding.writeVarUint(e, doc.clientID)
  encoding.writeVarUint(e, 0) // clock
  // info: content ref 2 (ContentJSON) | parentSub flag (0x20); no origin/rightOrigin -> parent follows
  encoding.writeUint8(e, 2 | 0x20)
  encoding.writeVarUint(e, 1) // parent is a root type name
  encoding.writeVarString(e, 'fuzz')
  encoding.writeVarString(e, 'deep') // parentSub
  encoding.writeVarUint(e, 1) // ContentJSON: one value
  encoding.writeVarString(e, deepJsonText(depth, shape))
  encoding.writeVarUint(e, 0) // delete set: no clients
  doc.destroy()
  return syncMessage(2, encoding.toUint8Array(e))
})

function awarenessBody(entries: Array<{ clientId: number; clock: number; state: string }>): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, entries.length)
  for (const { clientId, clock, state } of entries) {
    encoding.writeVarUint(e, clientId)
    encoding.writeVarUint(e, clock)
    encoding.writeVarString(e, state)
  }
  return encoding.toUint8Array(e)
}

const awarenessEntry = fc.record({ clientId: fc.integer({ min: 0, max: 2 ** 31 - 1 }), clock: fc.nat(1000), state: smallJson.map((v) => JSON.stringify(v)) })
const awarenessValid = fc.array(awarenessEntry, { minLength: 1, maxLength: 3 }).map(awarenessBody)
const awarenessBadJson = fc.array(awarenessEntry.map((entry) => ({ ...entry, state: entry.state.slice(0, -1) + '{' })), { minLength: 1, maxLength: 2 }).map(awarenessBody)
const awarenessDeep = fc
  .record({ clientId: fc.integer({ min: 0, max: 2 ** 31 - 1 }), depth: fc.constantFrom(2_000, 5_000, 20_000), shape: fc.constantFrom('array' as const, 'object' as const) })
  .map(({ clientId, depth, shape }) => awarenessBody([{ clientId, clock: 1, state: `{"user":${deepJsonText(depth, shape)}}` }]))

const mutated = (body: fc.Arbitrary<Uint8Array>) => fc.tuple(body, fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([bytes, ms]) => ms.reduce(applyMutation, bytes))

function orchardFrame(frame: Frame): Uint8Array {
  return encodeFrame(frame)
}

/** One Orchard-protocol frame of a class. */
function orchardFrames(cls: FrameClass): fc.Arbitrary<Uint8Array> {
  switch (cls) {
    case 'frame-any':
      return anyFrame.map(orchardFrame)
    case 'frame-mutated':
      return mutated(anyFrame.map(orchardFrame))
    case 'bytes':
      return fc.uint8Array({ maxLength: 200 })
    case 'sync-valid':
      return fc.tuple(channel, syncBody).map(([ch, body]) => orchardFrame({ kind: FrameKind.sync, channel: ch, body }))
    case 'sync-mutated':
      return fc.tuple(channel, mutatedUpdateBody).map(([ch, body]) => orchardFrame({ kind: FrameKind.sync, channel: ch, body }))
    case 'sync-step1-mutated':
      return fc.tuple(channel, mutated(step1Body)).map(([ch, body]) => orchardFrame({ kind: FrameKind.sync, channel: ch, body }))
    case 'sync-truncated-sv':
      return fc.tuple(fc.constantFrom('workspace', 'control'), truncatedSvBody).map(([ch, body]) => orchardFrame({ kind: FrameKind.sync, channel: ch, body }))
    case 'update-deep-json':
      return fc.tuple(fc.constantFrom('workspace', 'control'), deepJsonUpdateBody).map(([ch, body]) => orchardFrame({ kind: FrameKind.sync, channel: ch, body }))
    case 'awareness-valid':
      return fc.tuple(channel, awarenessValid).map(([ch, body]) => orchardFrame({ kind: FrameKind.awareness, channel: ch, body }))
    case 'awareness-mutated':
      return fc.tuple(channel, mutated(awarenessValid)).map(([ch, body]) => orchardFrame({ kind: FrameKind.awareness, channel: ch, body }))
    case 'awareness-bad-json':
      return fc.tuple(channel, awarenessBadJson).map(([ch, body]) => orchardFrame({ kind: FrameKind.awareness, channel: ch, body }))
    case 'awareness-deep-json':
      return awarenessDeep.map((body) => orchardFrame({ kind: FrameKind.awareness, channel: 'workspace', body }))
    case 'rpc':
      return fc
        .record({ id: fc.nat(1000), method: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...RPC_METHODS) }, { weight: 1, arbitrary: fc.string({ maxLength: 12 }) }), params: fc.jsonValue({ maxDepth: 4 }) })
        .map(({ id, method, params }) => orchardFrame({ kind: FrameKind.rpcRequest, channel: '', id, method, params }))
    case 'terminal':
      return fc.oneof(
        frameArbitraries.termSubscribe,
        frameArbitraries.termUnsubscribe,
        frameArbitraries.termOutput,
        frameArbitraries.termInput,
        frameArbitraries.termResize
      ).chain((frame) => channel.map((ch) => orchardFrame({ ...frame, channel: ch })))
    case 'hello-again':
      return frameArbitraries.hello.map(orchardFrame)
    default:
      return fc.uint8Array({ maxLength: 32 })
  }
}

/** One y-websocket message of a class (the stock endpoint's own format). */
function ywsFrames(cls: FrameClass): fc.Arbitrary<Uint8Array> {
  const sync = (body: fc.Arbitrary<Uint8Array>) => body.map((b) => Uint8Array.from([0, ...b]))
  switch (cls) {
    case 'bytes':
    case 'frame-any':
      return fc.uint8Array({ maxLength: 200 })
    case 'frame-mutated':
    case 'sync-mutated':
      return sync(mutatedUpdateBody)
    case 'sync-step1-mutated':
      return sync(mutated(step1Body))
    case 'sync-valid':
      return sync(syncBody)
    case 'sync-truncated-sv':
      return sync(truncatedSvBody)
    case 'update-deep-json':
      return sync(deepJsonUpdateBody)
    case 'awareness-valid':
      return awarenessValid.map((update) => encodeYwsMessage({ type: 'awareness', update }))
    case 'awareness-mutated':
      return mutated(awarenessValid.map((update) => encodeYwsMessage({ type: 'awareness', update })))
    case 'awareness-bad-json':
      return awarenessBadJson.map((update) => encodeYwsMessage({ type: 'awareness', update }))
    case 'awareness-deep-json':
      return awarenessDeep.map((update) => encodeYwsMessage({ type: 'awareness', update }))
    case 'yws-auth':
      return fc.oneof(
        fc.string({ maxLength: 20 }).map((reason) => encodeYwsMessage({ type: 'auth', reason })),
        fc.constant(encodeYwsMessage({ type: 'query-awareness' })),
        fc.uint8Array({ maxLength: 8 }).map((b) => Uint8Array.from([2, ...b]))
      )
    default:
      return fc.uint8Array({ maxLength: 64 })
  }
}

const ORCHARD_CLASSES: readonly FrameClass[] = FRAME_CLASSES.filter((c) => c !== 'yws-auth' && c !== 'upgrade-path')
const YWS_CLASSES: readonly FrameClass[] = ['bytes', 'sync-valid', 'sync-mutated', 'sync-step1-mutated', 'sync-truncated-sv', 'update-deep-json', 'awareness-valid', 'awareness-mutated', 'awareness-bad-json', 'awareness-deep-json', 'yws-auth']

/** Upgrade paths a hostile client might try on the y-websocket endpoint. */
const upgradePath = fc.oneof(
  fc.string({ maxLength: 20 }).map((s) => `/${s.replace(/[?#]/g, '')}`),
  fc.constantFrom('/%', '/%zz', '/%E0%A4%A', '/%C0%AF', '/ws%2Fother', '/%00', '//', '/orchard/x', '/%F0%9F%98'),
  fc.tuple(fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), maxLength: 6 }), fc.string({ maxLength: 10 })).map(([a, b]) => `/${a}%${b.replace(/[?#/]/g, '')}?token=%${a}`)
)

const SESSION_ENDERS: ReadonlySet<FrameClass> = new Set<FrameClass>(['bytes', 'frame-any', 'frame-mutated', 'hello-again'])

export interface SessionOptions {
  /** Classes left out of this run (known-broken ones until the fixes land). */
  exclude: ReadonlySet<FrameClass>
  maxFrames: number
}

export function sessionArbitrary(options: SessionOptions): fc.Arbitrary<Session> {
  const allowed = (classes: readonly FrameClass[]) => classes.filter((c) => !options.exclude.has(c))
  const orchard = allowed(ORCHARD_CLASSES)
  const yws = allowed(YWS_CLASSES)
  const framesOf = (protocol: WireProtocol) => {
    const classes = protocol === 'orchard' ? orchard : yws
    const make = protocol === 'orchard' ? orchardFrames : ywsFrames
    // Classes that usually end a session at once (a random first byte is an unknown
    // version: close 4426) are rarer, so that sessions live long enough to reach the rest.
    const classArb = fc.oneof(
      ...classes.map((cls) => ({ weight: SESSION_ENDERS.has(cls) ? 1 : 8, arbitrary: fc.constant(cls) }))
    )
    return fc.array(
      classArb.chain((cls) => make(cls).map((bytes): FuzzFrame => ({ cls, bytes }))),
      { minLength: 1, maxLength: options.maxFrames, size: 'max' }
    )
  }
  // Most sessions authenticate, because that is where most of the relay's code is; the
  // rest (no HELLO, a bad one, an anonymous socket) are cheap for the relay to refuse.
  const base = fc.record({
    protocol: fc.constantFrom<WireProtocol>('orchard', 'yws'),
    principal: fc.oneof(
      { weight: 1, arbitrary: fc.constant<Principal>('anonymous') },
      { weight: 9, arbitrary: fc.constantFrom<Principal>('owner', 'editor', 'viewer') }
    ),
    hello: fc.oneof({ weight: 8, arbitrary: fc.constant<'valid'>('valid') }, { weight: 2, arbitrary: fc.constantFrom<'bad' | 'none'>('bad', 'none') })
  })
  const normal = base.chain(({ protocol, principal, hello }) =>
    framesOf(protocol).map((frames): Session => ({ protocol, principal: hello === 'valid' ? principal : 'anonymous', hello: principal === 'anonymous' && hello === 'valid' ? 'bad' : hello, frames }))
  )
  if (options.exclude.has('upgrade-path')) return normal
  const upgrade = fc.tuple(upgradePath, framesOf('yws')).map(([path, frames]): Session => ({ protocol: 'yws', principal: 'anonymous', hello: 'none', path, frames: [{ cls: 'upgrade-path', bytes: new Uint8Array() }, ...frames] }))
  return fc.oneof({ weight: 12, arbitrary: normal }, { weight: 1, arbitrary: upgrade })
}

/** A HELLO as a client would send it (PROTOCOL_VERSION, a credential, an instance id). */
export function helloBytes(credential: string, instanceId: string, name?: string): Uint8Array {
  return encodeFrame({ kind: FrameKind.hello, channel: '', protocol: PROTOCOL_VERSION, credential, instanceId, label: 'wire fuzzer', ...(name ? { name } : {}) })
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex')
}
