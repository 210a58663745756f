/**
 * OrchardConnection against a real in-memory relay core (CONN-n, AUTH-n, IDENT-1, LIMIT-1,
 * LIMIT-3, LIMIT-8, ERRORS-1): a scripted socket records every frame the connection sends
 * and how it was closed, so each refusal's code, message and close reason is checked
 * exactly. Faults are injected by replacing one method of the core. (Written for the
 * mutants the end-to-end connection tests left alive.)
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import {
  CloseCode,
  FrameKind,
  PROTOCOL_VERSION,
  awarenessFrame,
  decodeFrame,
  encodeAwarenessUpdate,
  encodeFrame,
  rpcRequestFrame,
  syncFrame,
  type Frame,
  type HelloFields
} from '@orchard/protocol'
import { RelayCore, type RelayCoreOptions } from '../src/RelayCore.js'
import type { OrchardConnection } from '../src/connection/OrchardConnection.js'
import { encodeSyncMessage, SYNC_STEP1, SYNC_UPDATE } from '../src/docs/sync-messages.js'
import { RpcError } from '../src/rpc/RpcError.js'
import { MemoryStorage } from '../src/storage/MemoryStorage.js'

interface Socket {
  frames: Frame[]
  closedWith: { code: number; reason: string } | null
  bufferedAmount: number
  /** When true, everything sent stays queued: a reader that stopped. */
  stalled: boolean
  send(data: Uint8Array): void
  close(code: number, reason: string): void
  /** Frames of one kind, decoded. */
  of<K extends Frame['kind']>(kind: K): Array<Extract<Frame, { kind: K }>>
}

function socket(): Socket {
  const self: Socket = {
    frames: [],
    closedWith: null,
    bufferedAmount: 0,
    stalled: false,
    send: (data) => {
      self.frames.push(decodeFrame(data))
      if (self.stalled) self.bufferedAmount += data.byteLength
    },
    close: (code, reason) => {
      self.closedWith ??= { code, reason }
    },
    of: (kind) => self.frames.filter((frame) => frame.kind === kind) as never
  }
  return self
}

const cores: RelayCore[] = []
const logged: string[] = []

async function relay(options: Partial<RelayCoreOptions> = {}) {
  const core = new RelayCore({ storage: new MemoryStorage(), logger: { info: () => {}, error: (message) => logged.push(message) }, ...options })
  cores.push(core)
  const created = await core.createWorkspace('Garden', 'Olive')
  return { core, workspaceId: created.workspace.id, owner: created.member, credential: created.credential }
}

function hello(fields: Partial<HelloFields> & { credential: string }): Uint8Array {
  return encodeFrame({ kind: FrameKind.hello, channel: '', protocol: PROTOCOL_VERSION, instanceId: 'laptop', ...fields })
}

/** A connection that has said HELLO; resolves once WELCOME (or a refusal) arrived. */
async function open(core: RelayCore, fields: Partial<HelloFields> & { credential: string }) {
  const s = socket()
  const conn = core.acceptOrchard(s) as OrchardConnection
  conn.receive(hello(fields))
  await turnsUntil(() => s.of(FrameKind.welcome).length > 0 || s.closedWith !== null)
  return { s, conn }
}

/**
 * Event-loop turns until `done()` (the in-memory core answers within a few); bounded. Not
 * vi.waitFor, which moves fake clocks on, and the hello-timeout test needs its clock still.
 */
async function turnsUntil(done: () => boolean): Promise<void> {
  for (let turn = 0; turn < 1_000 && !done(); turn++) await new Promise((resolve) => setImmediate(resolve))
  if (!done()) throw new Error('the relay core did not answer within 1000 event-loop turns')
}

function refusal(s: Socket) {
  const error = s.of(FrameKind.error).at(-1)
  return { code: error?.code, message: error?.message, data: error?.data, closed: s.closedWith }
}

afterEach(async () => {
  vi.useRealTimers()
  logged.length = 0
  await Promise.all(cores.splice(0).map((core) => core.close()))
})

describe('OrchardConnection: HELLO (CONN-1)', () => {
  it('[CONN-1] a first frame that is not HELLO is refused bad-frame and closed 4400; nothing after it is read', async () => {
    const { core } = await relay()
    const s = socket()
    const conn = core.acceptOrchard(s) as OrchardConnection
    conn.receive(encodeFrame(syncFrame('workspace', encodeSyncMessage(SYNC_STEP1, Y.encodeStateVector(new Y.Doc())))))
    expect(refusal(s)).toMatchObject({ code: 'bad-frame', message: 'The first frame on a connection must be HELLO.', closed: { code: CloseCode.badRequest, reason: 'bad-frame' } })
    const sent = s.frames.length
    conn.receive(hello({ credential: 'x' }))
    conn.sendFrame({ kind: FrameKind.error, channel: '', code: 'x', message: 'x' })
    expect(s.frames).toHaveLength(sent)
  })

  it('[CONN-1] a socket that says nothing within the hello timeout is closed 4400; one that said HELLO is not', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const { core, credential } = await relay({ limits: { helloTimeoutMs: 1_000 } })
    const silent = socket()
    core.acceptOrchard(silent)
    const { s } = await open(core, { credential })
    vi.advanceTimersByTime(999)
    expect(silent.closedWith).toBeNull()
    vi.advanceTimersByTime(1)
    expect(refusal(silent)).toMatchObject({ code: 'bad-frame', message: 'No HELLO arrived in time; say HELLO first.', closed: { code: 4400, reason: 'bad-frame' } })
    vi.advanceTimersByTime(5_000)
    expect(s.closedWith).toBeNull()
  })

  it('[CONN-1] a HELLO with another protocol version is refused 4426, naming both versions', async () => {
    const { core, credential } = await relay()
    const { s } = await open(core, { credential, protocol: PROTOCOL_VERSION + 1 })
    expect(refusal(s)).toMatchObject({
      code: 'unsupported-version',
      message: `This relay speaks protocol ${PROTOCOL_VERSION}; the client speaks ${PROTOCOL_VERSION + 1}. Update the older side.`,
      closed: { code: CloseCode.versionMismatch, reason: 'unsupported-version' }
    })
  })

  it('[CONN-1] an instance id must be 1 to 200 characters', async () => {
    const { core, credential } = await relay()
    for (const instanceId of ['', 'i'.repeat(201)]) {
      const { s } = await open(core, { credential, instanceId })
      expect(refusal(s)).toMatchObject({ code: 'bad-frame', message: 'HELLO needs an instanceId of 1 to 200 characters.', closed: { code: 4400, reason: 'bad-frame' } })
    }
    const { s } = await open(core, { credential, instanceId: 'i'.repeat(200) })
    expect(s.of(FrameKind.welcome)).toHaveLength(1)
  })

  it('[HOOK-1] WELCOME names the workspace, member, role, instance, limits and server, and no credential when none was issued; onConnect fires', async () => {
    const connects: unknown[] = []
    const { core, credential, workspaceId, owner } = await relay({ hooks: { onConnect: (info) => connects.push(info) }, limits: { maxFrameBytes: 1_000_000, maxDocBytes: 2_000_000, viewerHighWaterBytes: 3_000 } })
    const { s, conn } = await open(core, { credential, label: `  ${'L'.repeat(250)}` })
    const welcome = s.of(FrameKind.welcome)[0]
    expect(welcome).toEqual({
      kind: FrameKind.welcome,
      channel: '',
      workspaceId,
      memberId: owner.id,
      memberName: 'Olive',
      role: 'owner',
      instanceId: 'laptop',
      limits: { maxFrameBytes: 1_000_000, maxDocBytes: 2_000_000, viewerWindowBytes: 3_000 },
      server: core.serverName
    })
    expect(conn.identity).toEqual({ memberId: owner.id, name: 'Olive', role: 'owner', instanceId: 'laptop', label: `  ${'L'.repeat(198)}` })
    expect(connects).toEqual([{ workspaceId, identity: conn.identity, flavor: 'orchard' }])
  })
})

describe('OrchardConnection: credentials and invites (AUTH-n, IDENT-1, LIMIT-8)', () => {
  it('[AUTH-3] a bad credential is refused 4401 unauthorized with its reason as data and close reason', async () => {
    const { core } = await relay()
    const { s } = await open(core, { credential: 'nonsense' })
    expect(refusal(s)).toMatchObject({
      code: 'unauthorized',
      message: expect.stringContaining('not an Orchard credential'),
      data: { reason: 'credential-malformed' },
      closed: { code: CloseCode.unauthorized, reason: 'credential-malformed' }
    })
  })

  it('[AUTH-1] an invite joins with the given name (or label, or Guest), trimmed; WELCOME carries the credential; the control doc and activity show the join', async () => {
    const { core, workspaceId, owner } = await relay()
    const invite = async () => (await core.auth.createInvite(workspaceId, { role: 'editor', createdBy: owner.id, relayUrl: 'ws://x' })).token
    const named = await open(core, { credential: await invite(), name: '  Ada  ', label: 'ignored', instanceId: 'a' })
    const welcome = named.s.of(FrameKind.welcome)[0]
    expect(welcome).toMatchObject({ memberName: 'Ada', role: 'editor', credential: expect.stringMatching(/^orc_m\./) })
    expect((await core.auth.authenticate(welcome?.credential as string)).name).toBe('Ada')
    const labelled = await open(core, { credential: await invite(), label: 'Lab', instanceId: 'b' })
    expect(labelled.s.of(FrameKind.welcome)[0]?.memberName).toBe('Lab')
    const guest = await open(core, { credential: await invite(), name: '   ', instanceId: 'c' })
    expect(guest.s.of(FrameKind.welcome)[0]?.memberName).toBe('Guest')
    const long = await open(core, { credential: await invite(), name: 'N'.repeat(300), instanceId: 'd' })
    expect(long.s.of(FrameKind.welcome)[0]?.memberName).toBe('N'.repeat(200))
    const room = await core.room(workspaceId)
    const ada = welcome?.memberId as string
    expect(room.control.members.get(ada)).toMatchObject({ name: 'Ada', role: 'editor' })
    const joined = room.control.activity.toArray().filter((entry) => entry.type === 'member-joined')
    expect(joined).toContainEqual(expect.objectContaining({ actor: null, memberId: ada, memberName: 'Ada', role: 'editor' }))
  })

  it('[AUTH-1] an invite HELLO with neither name nor label joins as Guest', async () => {
    const { core, workspaceId, owner } = await relay()
    const { token } = await core.auth.createInvite(workspaceId, { role: 'viewer', createdBy: owner.id, relayUrl: 'ws://x' })
    const { s } = await open(core, { credential: token, instanceId: 'anon' })
    expect(s.of(FrameKind.welcome)[0]).toMatchObject({ memberName: 'Guest', role: 'viewer' })
  })

  it('[AUTH-1] only an invite joins: a member connecting again with its credential adds no member-joined entry', async () => {
    const { core, workspaceId, owner } = await relay()
    const { token } = await core.auth.createInvite(workspaceId, { role: 'editor', createdBy: owner.id, relayUrl: 'ws://x' })
    const joined = await open(core, { credential: token, name: 'Ada', instanceId: 'ada-1' })
    const credential = joined.s.of(FrameKind.welcome)[0]?.credential as string
    const room = await core.room(workspaceId)
    const joins = () => room.control.activity.toArray().filter((entry) => entry.type === 'member-joined')
    expect(joins()).toHaveLength(1)
    const again = await open(core, { credential, instanceId: 'ada-2' })
    expect(again.s.of(FrameKind.welcome)[0]).toMatchObject({ memberName: 'Ada', role: 'editor' })
    expect(joins()).toHaveLength(1)
  })

  it('[PRESENCE-1] an instance that gives no label has an empty one, in its identity and in the control doc', async () => {
    const { core, credential, workspaceId } = await relay()
    const { conn } = await open(core, { credential, instanceId: 'plain' })
    expect(conn.identity.label).toBe('')
    const room = await core.room(workspaceId)
    expect(room.control.instances.get('plain')).toMatchObject({ label: '' })
  })

  it('[IDENT-1] another member\'s instance id is refused forbidden 4403 instance-taken', async () => {
    const { core, workspaceId, credential } = await relay()
    await open(core, { credential, instanceId: 'shared' })
    const other = await core.auth.addMember(workspaceId, 'Ada', 'editor')
    const { s } = await open(core, { credential: other.credential, instanceId: 'shared' })
    expect(refusal(s)).toMatchObject({ code: 'forbidden', data: { reason: 'instance-taken' }, closed: { code: CloseCode.forbidden, reason: 'instance-taken' } })
  })

  it('[LIMIT-8] a member over its connect rate is refused rate-limited with retryAfterMs and closed 1013 connect-rate-limited', async () => {
    const { core, credential } = await relay({ limits: { memberConnectBurst: 1, memberConnectsPerSecond: 0.5 } })
    await open(core, { credential, instanceId: 'one' })
    const { s } = await open(core, { credential, instanceId: 'two' })
    const { data, message, closed, code } = refusal(s)
    expect({ code, closed }).toEqual({ code: 'rate-limited', closed: { code: CloseCode.tryAgain, reason: 'connect-rate-limited' } })
    const waitMs = (data as { retryAfterMs: number }).retryAfterMs
    expect(waitMs).toBeGreaterThan(1_000)
    expect(message).toBe(`Too many connections for this member in a short time; try again in ${Math.ceil(waitMs / 1000)} s.`)
    expect(s.of(FrameKind.welcome)).toEqual([])
  })

  it('[ERRORS-1] a failure opening the workspace is logged and answered internal, close 1013 (try again)', async () => {
    const { core, credential } = await relay()
    core.room = async () => {
      throw new Error('storage is down')
    }
    const { s } = await open(core, { credential })
    expect(refusal(s)).toMatchObject({ code: 'internal', message: 'The relay could not open this workspace right now; try again shortly.', closed: { code: CloseCode.tryAgain, reason: 'internal' } })
    expect(logged.some((line) => line.includes('hello') && line.includes('storage is down'))).toBe(true)
  })

  it('[CONN-1] frames sent right behind HELLO wait for it and are handled in order; a socket closed meanwhile is never attached', async () => {
    const { core, credential, workspaceId } = await relay()
    const s = socket()
    const conn = core.acceptOrchard(s) as OrchardConnection
    conn.receive(hello({ credential }))
    conn.receive(encodeFrame(rpcRequestFrame(1, 'no.such.method', {})))
    conn.receive(encodeFrame(rpcRequestFrame(2, 'no.such.method', {})))
    await turnsUntil(() => s.of(FrameKind.rpcResponse).length === 2)
    expect(s.frames[0]?.kind).toBe(FrameKind.welcome)
    expect(s.of(FrameKind.rpcResponse).map((frame) => frame.id)).toEqual([1, 2])
    // Closed while its credential is checked: no WELCOME, no instance in the control doc.
    const gone = socket()
    const ghost = core.acceptOrchard(gone) as OrchardConnection
    ghost.receive(hello({ credential, instanceId: 'ghost' }))
    ghost.receive(encodeFrame(rpcRequestFrame(3, 'no.such.method', {})))
    ghost.closed()
    const room = await core.room(workspaceId)
    await vi.waitFor(() => expect(core.auth.instanceMember(workspaceId, 'ghost')).toBeDefined(), { timeout: 5_000, interval: 2 })
    await new Promise((resolve) => setImmediate(resolve))
    expect(gone.frames).toEqual([])
    expect(room.control.instances.has('ghost')).toBe(false)
  })
})

describe('OrchardConnection: frames queued behind HELLO (CONN-1, ERRORS-1)', () => {
  it('[ERRORS-1] queued frames stop being handled once one of them gets the socket closed', async () => {
    const { core, credential } = await relay()
    core.handleStreamFrame = () => {
      throw new Error('stream bug')
    }
    const s = socket()
    const conn = core.acceptOrchard(s) as OrchardConnection
    conn.receive(hello({ credential }))
    const subscribe = encodeFrame({ kind: FrameKind.termSubscribe, channel: 'agent-x', generation: 0, offset: 0 })
    for (let i = 0; i < 5; i++) conn.receive(subscribe)
    await turnsUntil(() => s.closedWith !== null)
    expect(s.closedWith).toEqual({ code: 4400, reason: 'bad-frame' })
    // Three faults closed it; the two frames behind them were never handled.
    expect(logged.filter((line) => line.includes('stream bug'))).toHaveLength(3)
  })
})

describe('OrchardConnection: frames once open (CONN-2, LIMIT-1, ERRORS-1)', () => {
  it('[LIMIT-1] a frame over maxFrameBytes is refused too-large and closed 4413; exactly at the limit is read', async () => {
    const { core, credential } = await relay({ limits: { maxFrameBytes: 300 } })
    const { s, conn } = await open(core, { credential })
    const frame = (size: number) => {
      for (let length = 0; length < size; length++) {
        const bytes = encodeFrame(rpcRequestFrame(1, 'm', 'x'.repeat(length)))
        if (bytes.byteLength === size) return bytes
      }
      throw new Error(`no RPC frame of exactly ${size} bytes`)
    }
    expect(frame(300).byteLength).toBe(300)
    conn.receive(frame(300))
    expect(s.closedWith).toBeNull()
    conn.receive(frame(301))
    expect(refusal(s)).toMatchObject({ code: 'too-large', message: "A frame of 301 bytes is over the relay's limit of 300.", closed: { code: CloseCode.tooLarge, reason: 'too-large' } })
    const other = await open(core, { credential, instanceId: 'other' })
    other.conn.tooLarge()
    expect(refusal(other.s)).toMatchObject({ code: 'too-large', message: "A frame over the relay's limit of 300 bytes was refused; send smaller frames.", closed: { code: 4413 } })
  })

  it('[CONN-2] a malformed frame is answered with its code and kind and the socket stays open, until too many', async () => {
    const { core, credential } = await relay({ limits: { maxBadFrames: 2 } })
    const { s, conn } = await open(core, { credential })
    // Kind 100 does not exist; its channel is "abc".
    const unknownKind = new Uint8Array([PROTOCOL_VERSION, 100, 3, 97, 98, 99])
    conn.receive(unknownKind)
    expect(s.of(FrameKind.error)[0]).toEqual({ kind: FrameKind.error, channel: 'abc', code: 'unknown-kind', message: 'unknown frame kind 100 on channel "abc"', data: { kind: 100 } })
    expect(s.closedWith).toBeNull()
    // A frame that names no kind (only the version byte) is answered without one.
    const truncated = new Uint8Array([PROTOCOL_VERSION])
    conn.receive(truncated)
    expect(s.of(FrameKind.error)).toHaveLength(2)
    expect(s.of(FrameKind.error)[1]).toMatchObject({ code: 'bad-frame', channel: '' })
    expect(s.of(FrameKind.error)[1]?.data).toBeUndefined()
    expect(s.closedWith).toBeNull()
    conn.receive(truncated)
    expect(refusal(s)).toMatchObject({ code: 'bad-frame', message: 'Too many malformed frames; closing this connection.', closed: { code: 4400, reason: 'bad-frame' } })
  })

  it('[CONN-2] a malformed first frame closes 4400 with its code; a frame of another protocol version closes 4426', async () => {
    const { core } = await relay()
    const s = socket()
    const conn = core.acceptOrchard(s) as OrchardConnection
    conn.receive(new Uint8Array([PROTOCOL_VERSION, 100, 0]))
    expect(s.closedWith?.code).toBe(4400)
    expect(refusal(s).message).toMatch(/The first frame must be a valid HELLO\.$/)
    const v = socket()
    const versioned = core.acceptOrchard(v) as OrchardConnection
    const frame = hello({ credential: 'x' })
    frame[0] = PROTOCOL_VERSION + 1
    versioned.receive(frame)
    expect(refusal(v)).toMatchObject({ code: 'unsupported-version', closed: { code: CloseCode.versionMismatch, reason: 'unsupported-version' } })
    expect(refusal(v).message).toMatch(new RegExp(`This relay speaks version ${PROTOCOL_VERSION}; update the older side\\.$`))
  })

  it('[CONN-2] a second HELLO is answered and ignored', async () => {
    const { core, credential } = await relay()
    const { s, conn } = await open(core, { credential })
    conn.receive(hello({ credential }))
    expect(refusal(s)).toMatchObject({ code: 'bad-frame', message: 'HELLO was already received on this connection; it was ignored.', closed: null })
  })

  it('[CONN-2] presence only on the workspace channel; a bad presence update is answered with the hub\'s code', async () => {
    const { core, credential } = await relay()
    const { s, conn } = await open(core, { credential })
    conn.receive(encodeFrame(awarenessFrame('control', new Uint8Array([0]))))
    expect(s.of(FrameKind.error).at(-1)).toMatchObject({ code: 'not-found', channel: 'control', message: 'Presence is only kept on the workspace channel.' })
    conn.receive(encodeFrame(awarenessFrame('workspace', new Uint8Array([1, 2, 3]))))
    expect(s.of(FrameKind.error).at(-1)).toMatchObject({ code: 'bad-frame', channel: 'workspace' })
    expect(s.closedWith).toBeNull()
  })

  it('[ERRORS-1] RPC answers: a result (or null), an RpcError with its code and data, anything else internal and logged', async () => {
    const { core, credential } = await relay()
    const { s, conn } = await open(core, { credential })
    // The connection hands RPCs to its host's router (ConnectionHost.rpc), the core itself.
    core.rpc.handle = async (_context, method) => {
      if (method === 'ok') return { fine: true }
      if (method === 'nothing') return undefined
      if (method === 'refused') throw new RpcError('conflict', 'No.', { why: 'because' })
      throw new Error('handler bug')
    }
    for (const [id, method] of [[1, 'ok'], [2, 'nothing'], [3, 'refused'], [4, 'broken']] as const) conn.receive(encodeFrame(rpcRequestFrame(id, method, {}, 'chan')))
    await turnsUntil(() => s.of(FrameKind.rpcResponse).length === 4)
    const responses = s.of(FrameKind.rpcResponse)
    expect(responses[0]).toMatchObject({ id: 1, ok: true, result: { fine: true }, channel: 'chan' })
    expect(responses[1]).toMatchObject({ id: 2, ok: true, result: null })
    expect(responses[2]).toMatchObject({ id: 3, ok: false, code: 'conflict', message: 'No.', data: { why: 'because' }, channel: 'chan' })
    expect(responses[3]).toMatchObject({ id: 4, ok: false, code: 'internal', message: 'The relay failed while handling broken; it was logged.', channel: 'chan' })
    expect(logged.some((line) => line.includes('rpc broken') && line.includes('handler bug'))).toBe(true)
  })

  it('[ERRORS-1] a handler that throws on this socket\'s frame is answered internal on this socket alone, and closes it after three', async () => {
    const { core, credential } = await relay()
    const { s, conn } = await open(core, { credential })
    const bystander = await open(core, { credential, instanceId: 'bystander' })
    core.handleStreamFrame = () => {
      throw new Error('stream bug')
    }
    const subscribe = encodeFrame({ kind: FrameKind.termSubscribe, channel: 'agent-x', generation: 0, offset: 0 })
    conn.receive(subscribe)
    expect(refusal(s)).toMatchObject({ code: 'internal', closed: null })
    expect(logged.some((line) => line.includes(`frame kind ${FrameKind.termSubscribe} on "agent-x"`))).toBe(true)
    conn.receive(subscribe)
    conn.receive(subscribe)
    expect(s.closedWith).toEqual({ code: 4400, reason: 'bad-frame' })
    expect(bystander.s.closedWith).toBeNull()
  })

  it('[LEASE-11] ACKs on the doc channels are the client\'s own bookkeeping and ignored; on a terminal channel they go to the stream handler, as do other frames', async () => {
    const { core, credential } = await relay()
    const { conn } = await open(core, { credential })
    const routed: Array<{ kind: number; channel: string; raw: boolean }> = []
    core.handleStreamFrame = (_room, _peer, frame, raw) => {
      routed.push({ kind: frame.kind, channel: frame.channel, raw: raw !== undefined })
    }
    conn.receive(encodeFrame({ kind: FrameKind.ack, channel: 'workspace', seq: 1 }))
    conn.receive(encodeFrame({ kind: FrameKind.ack, channel: 'control', seq: 1 }))
    conn.receive(encodeFrame({ kind: FrameKind.ack, channel: 'agent-x', seq: 1 }))
    conn.receive(encodeFrame({ kind: FrameKind.termOutput, channel: 'agent-x', generation: 1, offset: 0, data: new Uint8Array([1]) }))
    // A host's answer to a request the relay sent it goes to the core's request book.
    const answers: unknown[] = []
    core.rpcResponse = (peer, frame) => answers.push({ peer, id: frame.id })
    conn.receive(encodeFrame({ kind: FrameKind.rpcResponse, channel: '', id: 7, ok: true, result: null }))
    expect(answers).toEqual([{ peer: conn, id: 7 }])
    expect(routed).toEqual([
      { kind: FrameKind.ack, channel: 'agent-x', raw: false },
      { kind: FrameKind.termOutput, channel: 'agent-x', raw: true }
    ])
  })

  it('[DOCS-3] a step 1 is answered on its channel; an update is stored and ACKed on its own channel; an unknown channel is not-found', async () => {
    const { core, credential } = await relay()
    const { s, conn } = await open(core, { credential })
    conn.receive(encodeFrame(syncFrame('workspace', encodeSyncMessage(SYNC_STEP1, Y.encodeStateVector(new Y.Doc())))))
    expect(s.of(FrameKind.sync).filter((frame) => frame.channel === 'workspace').length).toBeGreaterThan(0)
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'hi')
    conn.receive(encodeFrame(syncFrame('workspace', encodeSyncMessage(SYNC_UPDATE, Y.encodeStateAsUpdate(doc)))))
    await vi.waitFor(() => expect(s.of(FrameKind.ack)).toEqual([{ kind: FrameKind.ack, channel: 'workspace', seq: 1 }]), { timeout: 5_000, interval: 2 })
    conn.receive(encodeFrame(syncFrame('workspace', encodeSyncMessage(SYNC_UPDATE, Y.encodeStateAsUpdate(doc)))))
    await vi.waitFor(() => expect(s.of(FrameKind.ack).at(-1)).toMatchObject({ channel: 'workspace', seq: 2 }), { timeout: 5_000, interval: 2 })
    conn.receive(encodeFrame(syncFrame('nowhere', encodeSyncMessage(SYNC_STEP1, Y.encodeStateVector(new Y.Doc())))))
    expect(s.of(FrameKind.error).at(-1)).toMatchObject({ code: 'not-found', channel: 'nowhere' })
  })
})

describe('OrchardConnection: budgets, roles and closing (LIMIT-3, LIMIT-6, ROLE-2, HOOK-2)', () => {
  it('[LIMIT-3] a sender over its frame budget on a socket that cannot pause is closed 4429; terminal output from the agent\'s own host is not', async () => {
    const { core, credential, workspaceId, owner } = await relay({ limits: { framesPerSecond: 1 } })
    const host = await open(core, { credential, instanceId: 'host' })
    const room = await core.room(workspaceId)
    room.control.setAgent({ id: 'agent-x', projectId: 'p', name: 'x', hostInstanceId: 'host', status: 'running', spawnedBy: owner.id, createdAt: 0, updatedAt: 0 } as never)
    core.handleStreamFrame = () => {}
    for (let offset = 0; offset < 10; offset++) {
      host.conn.receive(encodeFrame({ kind: FrameKind.termOutput, channel: 'agent-x', generation: 1, offset, data: new Uint8Array([1]) }))
    }
    expect(host.s.closedWith).toBeNull()
    const other = await open(core, { credential, instanceId: 'other' })
    for (let offset = 0; offset < 3 && !other.s.closedWith; offset++) {
      other.conn.receive(encodeFrame({ kind: FrameKind.termOutput, channel: 'agent-x', generation: 1, offset, data: new Uint8Array([1]) }))
    }
    expect(refusal(other.s)).toMatchObject({
      code: 'rate-limited',
      message: 'Too many frames or bytes per second from this connection. Slow down and reconnect later.',
      closed: { code: CloseCode.rateLimited, reason: 'rate-limited' }
    })
  })

  it('[LIMIT-6] a socket too far behind reading is told rate-limited and closed 1013 slow-reader; bytes out are counted while it keeps up', async () => {
    const { core, credential } = await relay({ limits: { maxSendBufferBytes: 1_000 } })
    const { s, conn } = await open(core, { credential })
    const before = core.metrics.bytesOut
    const event = { kind: FrameKind.event, channel: '', event: { type: 'x' } } as const
    conn.sendFrame(event)
    expect(core.metrics.bytesOut).toBe(before + encodeFrame(event).byteLength)
    s.bufferedAmount = 5_000
    expect(conn.bufferedAmount).toBe(5_000)
    conn.sendFrame(event)
    expect(refusal(s)).toMatchObject({ code: 'rate-limited', message: expect.stringContaining('fell too far behind'), closed: { code: CloseCode.tryAgain, reason: 'slow-reader' } })
  })

  it('[LIMIT-6] while a socket is backed up, presence broadcasts to it are skipped and one snapshot follows once it drains; other frames still go', async () => {
    const { core, credential } = await relay({ limits: { sendPauseBytes: 1_000, maxSendBufferBytes: 100_000, awarenessIntervalMs: 1 } })
    const slow = await open(core, { credential, instanceId: 'slow' })
    const talker = await open(core, { credential, instanceId: 'talker' })
    slow.s.bufferedAmount = 5_000
    const state = { name: 'talker', orchard: { memberId: talker.conn.identity.memberId, name: 'Olive', role: 'owner', instanceId: 'talker', label: '' } }
    talker.conn.receive(encodeFrame(awarenessFrame('workspace', encodeAwarenessUpdate([{ clientID: 42, clock: 1, state }]))))
    await vi.waitFor(() => expect(slow.conn.outbound.skipped).toBeGreaterThan(0), { timeout: 5_000, interval: 2 })
    expect(slow.s.of(FrameKind.awareness)).toEqual([])
    slow.conn.sendFrame({ kind: FrameKind.event, channel: '', event: { type: 'still-sent' } })
    expect(slow.s.of(FrameKind.event).at(-1)).toMatchObject({ event: { type: 'still-sent' } })
    slow.s.bufferedAmount = 0
    await vi.waitFor(() => expect(slow.s.of(FrameKind.awareness)).toHaveLength(1), { timeout: 5_000, interval: 2 })
    expect(slow.s.closedWith).toBeNull()
  })

  it('[LIMIT-6] a sync answer larger than the send cap reaches a reader that keeps up: the answer is not counted against the cap', async () => {
    const { core, credential } = await relay({ limits: { sendPauseBytes: 1_000, maxSendBufferBytes: 2_000 } })
    const writer = await open(core, { credential, instanceId: 'writer' })
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'w'.repeat(5_000))
    writer.conn.receive(encodeFrame(syncFrame('workspace', encodeSyncMessage(SYNC_UPDATE, Y.encodeStateAsUpdate(doc)))))
    await turnsUntil(() => writer.s.of(FrameKind.ack).length > 0)
    const reader = await open(core, { credential, instanceId: 'reader' })
    reader.s.stalled = true
    reader.conn.receive(encodeFrame(syncFrame('workspace', encodeSyncMessage(SYNC_STEP1, Y.encodeStateVector(new Y.Doc())))))
    // Step 2 (the whole doc, over the cap) and our step 1 both arrive; the socket stays open.
    expect(reader.s.of(FrameKind.sync).filter((frame) => frame.channel === 'workspace')).toHaveLength(2)
    expect(reader.s.bufferedAmount).toBeGreaterThan(5_000)
    expect(reader.s.closedWith).toBeNull()
  })

  it('[LIMIT-6] only the step-1 answer itself escapes the send cap: once it is sent, other frames to a socket past the cap close it slow-reader', async () => {
    const { core, credential } = await relay({ limits: { sendPauseBytes: 1_000, maxSendBufferBytes: 2_000 } })
    const { s, conn } = await open(core, { credential })
    conn.receive(encodeFrame(syncFrame('workspace', encodeSyncMessage(SYNC_STEP1, Y.encodeStateVector(new Y.Doc())))))
    expect(s.of(FrameKind.sync)).toHaveLength(2) // the answer: step 2, then the relay's step 1
    s.bufferedAmount = 5_000
    conn.sendFrame({ kind: FrameKind.event, channel: '', event: { type: 'x' } })
    expect(refusal(s)).toMatchObject({ code: 'rate-limited', closed: { code: CloseCode.tryAgain, reason: 'slow-reader' } })
  })

  it('[ROLE-2] a role change applies at once: the identity, and a role-changed event', async () => {
    const { core, credential } = await relay()
    const { s, conn } = await open(core, { credential })
    conn.setRole('viewer')
    expect(conn.identity.role).toBe('viewer')
    expect(s.of(FrameKind.event).at(-1)).toMatchObject({ channel: '', event: { type: 'role-changed', role: 'viewer' } })
  })

  it('[HOOK-2] closing detaches from the room once, counts bytes in, and fires onDisconnect once', async () => {
    const disconnects: unknown[] = []
    const { core, credential, workspaceId } = await relay({ hooks: { onDisconnect: (info) => disconnects.push(info) } })
    const bytesIn = core.metrics.bytesIn
    const { s, conn } = await open(core, { credential })
    expect(core.metrics.bytesIn).toBe(bytesIn + hello({ credential }).byteLength)
    const room = await core.room(workspaceId)
    expect(room.control.instances.has('laptop')).toBe(true)
    conn.close(1000, 'bye')
    conn.close(1000, 'again')
    conn.closed()
    expect(s.closedWith).toEqual({ code: 1000, reason: 'bye' })
    expect(room.control.instances.has('laptop')).toBe(false)
    expect(disconnects).toEqual([{ workspaceId, identity: conn.identity, flavor: 'orchard' }])
    const sent = s.frames.length
    conn.receive(encodeFrame(rpcRequestFrame(9, 'x', {})))
    conn.sendRaw(encodeFrame({ kind: FrameKind.event, channel: '', event: { type: 'x' } }))
    expect(s.frames).toHaveLength(sent)
    // A socket that never got in: closing it fires no onDisconnect.
    const unauth = socket()
    ;(core.acceptOrchard(unauth) as OrchardConnection).closed()
    expect(disconnects).toHaveLength(1)
  })
})

describe('OrchardConnection: after the close (LEAK-3)', () => {
  it('[LEAK-3] a closed connection is finished: the socket is told to close once, and a frame that still arrives is neither counted nor handled', async () => {
    const { core, credential } = await relay()
    const { s, conn } = await open(core, { credential })
    const handled: string[] = []
    core.rpc.handle = async (_context, method) => {
      handled.push(method)
      return null
    }
    const closes: Array<[number, string]> = []
    const record = s.close
    s.close = (code, reason) => {
      closes.push([code, reason])
      record(code, reason)
    }
    conn.close(1000, 'bye')
    conn.close(4000, 'again')
    expect(closes).toEqual([[1000, 'bye']])
    const bytesIn = core.metrics.bytesIn
    conn.receive(encodeFrame(rpcRequestFrame(1, 'after.close', {})))
    expect(handled).toEqual([])
    expect(core.metrics.bytesIn).toBe(bytesIn)
  })

  it('[LEAK-3] closing leaves none of the connection\'s timers behind: the HELLO timeout, a paused read, a sync answer waiting for room', async () => {
    const { core, credential } = await relay({ limits: { framesPerSecond: 1, sendPauseBytes: 1_000 } })
    // Another connection keeps the room loaded, so closing ours starts no unload timer.
    await open(core, { credential, instanceId: 'stays' })
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] })
    const silent = socket()
    const quiet = core.acceptOrchard(silent)
    expect(vi.getTimerCount()).toBe(1) // the HELLO timeout
    quiet.closed()
    expect(vi.getTimerCount()).toBe(0)

    const resumes: number[] = []
    const s = Object.assign(socket(), { pause: () => {}, resume: () => resumes.push(1) })
    const conn = core.acceptOrchard(s) as OrchardConnection
    conn.receive(hello({ credential, instanceId: 'busy' }))
    await turnsUntil(() => s.of(FrameKind.welcome).length > 0)
    expect(vi.getTimerCount()).toBe(0)
    // Over the frame budget (a burst of 2, HELLO was one): reading pauses until it refills.
    for (let i = 0; i < 3; i++) conn.receive(encodeFrame({ kind: FrameKind.ack, channel: 'workspace', seq: i }))
    expect(conn.inbound.paused).toBe(true)
    // Backed up: the step-1 answer waits for room.
    s.bufferedAmount = 5_000
    conn.receive(encodeFrame(syncFrame('workspace', encodeSyncMessage(SYNC_STEP1, Y.encodeStateVector(new Y.Doc())))))
    expect(conn.outbound.deferred).toBe(1)
    expect(vi.getTimerCount()).toBe(2)
    conn.close(1000, 'bye')
    expect(vi.getTimerCount()).toBe(0)
    vi.advanceTimersByTime(10_000)
    expect(resumes).toEqual([])
  })
})
