/**
 * RelayProviders on a ScriptedRelay, as the provider's unit tests make them: one member's
 * credential and instance, fresh docs, a test-chosen backoff; every provider made is
 * destroyed by `destroyAll()` (each file calls it in its afterEach).
 */
import * as Y from 'yjs'
import { RelayProvider } from '@orchard/client'
import type { ScriptedRelay } from './scripted-relay.js'

export type ProviderOptions = ConstructorParameters<typeof RelayProvider>[0]

export interface ScriptedProviders {
  provider(relay: ScriptedRelay, extra?: Partial<ProviderOptions>): RelayProvider
  destroyAll(): void
}

export function scriptedProviders(backoff: { initialMs: number; maxMs: number }): ScriptedProviders {
  const made: RelayProvider[] = []
  return {
    provider(relay, extra = {}) {
      const created = new RelayProvider({
        transport: relay.transport(),
        credential: 'orc_m.ws-1.member-1.secret',
        instanceId: 'inst-a',
        docs: { workspace: new Y.Doc(), control: new Y.Doc() },
        backoff,
        ...extra
      })
      made.push(created)
      return created
    },
    destroyAll() {
      for (const provider of made.splice(0)) provider.destroy()
    }
  }
}
