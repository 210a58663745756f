/** fast-check generators for every valid v1 frame, shared by the round-trip and fuzz tests. */
import fc from 'fast-check'
import { FrameKind, MEMBER_ROLES, type Frame } from '../../src/index.js'

// 'binary' = any code point except lone surrogates, i.e. every string the wire can carry.
const text = fc.string({ unit: 'binary', maxLength: 24 })
const channel = fc.oneof(fc.constantFrom('', 'workspace', 'control', 'agent-1'), text)
// Biased toward the edges that matter: 0, 1-byte/2-byte boundaries, 2^32, and 2^53 - 1.
const u53 = fc.oneof(
  fc.constantFrom(0, 127, 128, 16383, 16384, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1),
  fc.nat(),
  fc.maxSafeNat()
)
const bytes = fc.uint8Array({ maxLength: 64 })
const json = fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' })
// The wire cannot tell an absent `data` from JSON null, so generated frames never hold null there.
const optionalData = fc.option(json.filter((v) => v !== null), { nil: undefined })

function withOptional<T extends object>(base: T, extra: Record<string, unknown>): T {
  const out = { ...base } as Record<string, unknown>
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) out[key] = value
  return out as unknown as T
}

/**
 * fast-check builds records with a null prototype; decoded frames are ordinary objects, and
 * toStrictEqual tells them apart. Object.fromEntries keeps a generated "__proto__" key as an
 * own property instead of setting the prototype. JSON has no -0 (JSON.stringify writes 0), so
 * a JSON value holding -0 is not one the wire can carry.
 */
function plain<T>(value: T): T {
  if (Object.is(value, -0)) return 0 as T
  if (value instanceof Uint8Array || typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) return value.map(plain) as T
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)])) as T
}

const generators: Record<keyof typeof FrameKind, fc.Arbitrary<Frame>> = {
  hello: fc
    .record({
      channel,
      protocol: u53,
      credential: text,
      instanceId: text,
      label: fc.option(text, { nil: undefined }),
      client: fc.option(text, { nil: undefined })
    })
    .map(({ label, client, ...rest }) => withOptional({ kind: FrameKind.hello, ...rest }, { label, client })),
  welcome: fc.record({
    kind: fc.constant(FrameKind.welcome),
    channel,
    workspaceId: text,
    memberId: text,
    memberName: text,
    role: fc.constantFrom(...MEMBER_ROLES),
    instanceId: text,
    limits: fc.record({ maxFrameBytes: u53, maxDocBytes: u53, viewerWindowBytes: u53 }, { requiredKeys: ['maxFrameBytes', 'maxDocBytes'] }),
    server: text
  }),
  sync: fc.record({ kind: fc.constant(FrameKind.sync), channel, body: bytes }),
  awareness: fc.record({ kind: fc.constant(FrameKind.awareness), channel, body: bytes }),
  rpcRequest: fc.record({ kind: fc.constant(FrameKind.rpcRequest), channel, id: u53, method: text, params: json }),
  rpcResponse: fc.oneof(
    fc.record({ kind: fc.constant(FrameKind.rpcResponse), channel, id: u53, ok: fc.constant(true as const), result: json }),
    fc
      .record({ channel, id: u53, code: text, message: text, data: optionalData })
      .map(({ data, ...rest }) => withOptional({ kind: FrameKind.rpcResponse, ok: false as const, ...rest }, { data }))
  ),
  error: fc
    .record({ channel, code: text, message: text, data: optionalData })
    .map(({ data, ...rest }) => withOptional({ kind: FrameKind.error, ...rest }, { data })),
  ack: fc.record({ kind: fc.constant(FrameKind.ack), channel, seq: u53 }),
  termSubscribe: fc.record({ kind: fc.constant(FrameKind.termSubscribe), channel, generation: u53, offset: u53 }),
  termUnsubscribe: fc.record({ kind: fc.constant(FrameKind.termUnsubscribe), channel }),
  termOutput: fc.record({ kind: fc.constant(FrameKind.termOutput), channel, generation: u53, offset: u53, data: bytes }),
  termGap: fc
    .record({ channel, generation: u53, a: u53, b: u53, cols: u53, rows: u53, snapshot: text })
    .map(({ a, b, ...rest }) => ({ kind: FrameKind.termGap, from: Math.min(a, b), to: Math.max(a, b), ...rest })),
  termInput: fc.record({ kind: fc.constant(FrameKind.termInput), channel, epoch: u53, data: bytes }),
  termResize: fc.record({ kind: fc.constant(FrameKind.termResize), channel, epoch: u53, cols: u53, rows: u53 }),
  event: fc.record({
    kind: fc.constant(FrameKind.event),
    channel,
    event: fc
      .tuple(text, fc.dictionary(text, json, { maxKeys: 4 }))
      .map(([type, fields]) => ({ ...fields, type }))
  })
}

export const frameArbitraries = Object.fromEntries(
  Object.entries(generators).map(([name, arbitrary]) => [name, arbitrary.map(plain)])
) as Record<keyof typeof FrameKind, fc.Arbitrary<Frame>>

export const anyFrame: fc.Arbitrary<Frame> = fc.oneof(...Object.values(frameArbitraries))
