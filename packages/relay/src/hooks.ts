/**
 * Hooks an embedding app can attach to the relay core, named for the event (Hocuspocus
 * style), each with its payload type. Hooks are called synchronously and must not throw;
 * a throwing hook is logged and ignored, never allowed to break a connection.
 */
import type { ActivityEntry } from './control/ControlDoc.js'
import type { Identity } from './connection/types.js'
import type { WireFlavor } from './docs/SharedDoc.js'

export interface OnConnectPayload {
  workspaceId: string
  identity: Identity
  flavor: WireFlavor
}

export interface OnDisconnectPayload {
  workspaceId: string
  identity: Identity
  flavor: WireFlavor
}

export interface AfterPersistPayload {
  docId: string
  /** Bytes of the merged update stored. */
  bytes: number
  /** How many client updates it merged. */
  updates: number
}

export interface OnActivityPayload {
  workspaceId: string
  entry: ActivityEntry
}

export interface RelayHooks {
  onConnect?(payload: OnConnectPayload): void
  onDisconnect?(payload: OnDisconnectPayload): void
  afterPersist?(payload: AfterPersistPayload): void
  onActivity?(payload: OnActivityPayload): void
}

export type HookName = keyof RelayHooks

export interface HookPayloadByName {
  onConnect: OnConnectPayload
  onDisconnect: OnDisconnectPayload
  afterPersist: AfterPersistPayload
  onActivity: OnActivityPayload
}

/** Wraps hooks so one that throws is logged instead of breaking the relay. */
export function guardHooks(hooks: RelayHooks, log: (where: string, error: unknown) => void): RelayHooks {
  const guarded: RelayHooks = {}
  for (const name of Object.keys(hooks) as HookName[]) {
    const hook = hooks[name] as ((payload: unknown) => void) | undefined
    if (!hook) continue
    ;(guarded as Record<HookName, (payload: unknown) => void>)[name] = (payload: unknown) => {
      try {
        hook(payload)
      } catch (error) {
        log(`hook ${name}`, error)
      }
    }
  }
  return guarded
}
