import { RelayProvider } from '@orchard/client'
import * as Y from 'yjs'
import { MemoryStorage, RelayCore, type RelayHooks } from '@orchard/relay'
import { memoryTransport } from '../harness/memory-transport.js'

/** A core with the given hooks and an owner, plus a way to connect clients to it. */
export async function coreWith(hooks: RelayHooks, errors: string[] = []) {
  const core = new RelayCore({ storage: new MemoryStorage(), hooks, logger: { info: () => {}, error: (m) => errors.push(m) } })
  const { credential, workspace } = await core.createWorkspace('W', 'Owner')
  const connect = (instanceId: string) =>
    new RelayProvider({ transport: memoryTransport(core), credential, instanceId, label: `label-${instanceId}`, docs: { workspace: new Y.Doc() } })
  return { core, credential, workspaceId: workspace.id, connect }
}
