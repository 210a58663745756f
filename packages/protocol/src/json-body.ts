/**
 * Shape checks for the JSON bodies (HELLO, WELCOME, EVENT). Both directions use them: the
 * decoder so a peer's malformed JSON becomes 'bad-frame' instead of a surprise deep inside
 * the relay, the encoder so we never send what we would refuse. Each check returns a fresh
 * object holding only the declared fields in a fixed order, which makes the bytes independent
 * of the caller's object (extra properties, key order) and keeps golden fixtures stable.
 */
import { MEMBER_ROLES, type HelloFields, type MemberRole, type OrchardEvent, type WelcomeFields } from './frames.js'

/** Thrown by the checks; the decoder turns it into FrameDecodeError, the encoder into TypeError. */
export class ShapeError extends Error {}

type Obj = Record<string, unknown>

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function object(value: unknown, path: string): Obj {
  if (!isObject(value)) throw new ShapeError(`${path} must be a JSON object`)
  return value
}

function string(o: Obj, key: string, path: string): string {
  const v = o[key]
  if (typeof v !== 'string') throw new ShapeError(`${path}.${key} must be a string`)
  return v
}

// null reads as absent: encoders in other languages often write null for a missing option.
function optionalString(o: Obj, key: string, path: string): string | undefined {
  const v = o[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') throw new ShapeError(`${path}.${key} must be a string when present`)
  return v
}

function count(o: Obj, key: string, path: string): number {
  const v = o[key]
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new ShapeError(`${path}.${key} must be a non-negative integer`)
  }
  return v
}

function optionalCount(o: Obj, key: string, path: string): number | undefined {
  return o[key] === undefined || o[key] === null ? undefined : count(o, key, path)
}

function role(o: Obj, key: string, path: string): MemberRole {
  const v = o[key]
  const found = MEMBER_ROLES.find((r) => r === v)
  if (found === undefined) throw new ShapeError(`${path}.${key} must be one of ${MEMBER_ROLES.join(', ')}`)
  return found
}

export function checkHello(value: unknown): HelloFields {
  const o = object(value, 'HELLO')
  const hello: HelloFields = {
    protocol: count(o, 'protocol', 'HELLO'),
    credential: string(o, 'credential', 'HELLO'),
    instanceId: string(o, 'instanceId', 'HELLO')
  }
  const label = optionalString(o, 'label', 'HELLO')
  if (label !== undefined) hello.label = label
  const client = optionalString(o, 'client', 'HELLO')
  if (client !== undefined) hello.client = client
  const name = optionalString(o, 'name', 'HELLO')
  if (name !== undefined) hello.name = name
  const previousCredential = optionalString(o, 'previousCredential', 'HELLO')
  if (previousCredential !== undefined) hello.previousCredential = previousCredential
  return hello
}

export function checkWelcome(value: unknown): WelcomeFields {
  const o = object(value, 'WELCOME')
  const limits = object(o['limits'], 'WELCOME.limits')
  const welcome: WelcomeFields = {
    workspaceId: string(o, 'workspaceId', 'WELCOME'),
    memberId: string(o, 'memberId', 'WELCOME'),
    memberName: string(o, 'memberName', 'WELCOME'),
    role: role(o, 'role', 'WELCOME'),
    instanceId: string(o, 'instanceId', 'WELCOME'),
    limits: {
      maxFrameBytes: count(limits, 'maxFrameBytes', 'WELCOME.limits'),
      maxDocBytes: count(limits, 'maxDocBytes', 'WELCOME.limits')
    },
    server: string(o, 'server', 'WELCOME')
  }
  const viewerWindowBytes = optionalCount(limits, 'viewerWindowBytes', 'WELCOME.limits')
  if (viewerWindowBytes !== undefined) welcome.limits.viewerWindowBytes = viewerWindowBytes
  const credential = optionalString(o, 'credential', 'WELCOME')
  if (credential !== undefined) welcome.credential = credential
  return welcome
}

/** Events are open-ended, so every field is kept; only `type` is required. */
export function checkEvent(value: unknown): OrchardEvent {
  const o = object(value, 'EVENT')
  string(o, 'type', 'EVENT')
  return o as OrchardEvent
}

/**
 * JSON text for an arbitrary value slot (RPC params/result, error data). JSON.stringify yields
 * undefined for undefined, functions and symbols; the wire has no "absent", so those become null.
 */
export function jsonText(value: unknown): string {
  return JSON.stringify(value) ?? 'null'
}
