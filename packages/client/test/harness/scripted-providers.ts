/**
 * RelayProviders on a ScriptedRelay, as the provider's unit tests make them: one member's
 * credential and instance, fresh docs, a test-chosen backoff; every provider made is
 * destroyed by `destroyAll()` (each file calls it in its afterEach).
 */
import * as Y from 'yjs'
import { RelayProvider, type RelayErrorInfo } from '@orchard/client'
import { ScriptedRelay } from './scripted-relay.js'

export type ProviderOptions = ConstructorParameters<typeof RelayProvider>[0]

export interface ScriptedProviders {
  provider(relay: ScriptedRelay, extra?: Partial<ProviderOptions>): RelayProvider
  /** A fresh relay and a provider on it, once synced; `errors` records its 'error' events from then on. */
  synced(extra?: Partial<ProviderOptions>): Promise<{ relay: ScriptedRelay; a: RelayProvider; errors: RelayErrorInfo[] }>
  destroyAll(): void
}

export function scriptedProviders(backoff: { initialMs: number; maxMs: number }): ScriptedProviders {
  const made: RelayProvider[] = []
  const providers: ScriptedProviders = {
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
    async synced(extra = {}) {
      const relay = new ScriptedRelay()
      const a = providers.provider(relay, extra)
      await a.whenSynced()
      const errors: RelayErrorInfo[] = []
      a.on('error', (error) => errors.push(error))
      return { relay, a, errors }
    },
    destroyAll() {
      for (const provider of made.splice(0)) provider.destroy()
    }
  }
  return providers
}
