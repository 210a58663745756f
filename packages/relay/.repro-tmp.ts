import { WorkspaceSession } from '@orchard/client'
import { startTestRelay } from '@orchard/relay/testing'
const relay = await startTestRelay()
const s = await WorkspaceSession.open({ credential: relay.ownerCredential, relayUrl: relay.url, label: 'a' })
s.provider.on('status', (st) => console.log('status ->', st))
s.provider.on('stopped', (r) => console.log('stopped event', r))
s.provider.disconnect()
await new Promise((r) => setTimeout(r, 500))
s.provider.connect()
await new Promise((r) => setTimeout(r, 1000))
console.log('final status', s.provider.status)
await s.close(); await relay.close()
