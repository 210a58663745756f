/**
 * Import rules, checked by `pnpm test` (deps:check). ARCHITECTURE.md: dependencies point one
 * way, protocol <- workspace <- client <- (observer, transport-*); relay uses protocol and
 * workspace; cli uses relay and client; nothing imports cli, relay or the observer.
 * Rules apply to what ships (packages/<name>/src); a package's tests may use any package
 * (the relay's integration tests drive it with the real client).
 */
const pkg = (name) => `^packages/${name}/`
const src = (name) => `^packages/${name}/src/`
const notTests = '\\.test\\.ts$'

/** Each package's src may import only these packages' src (workspace links resolve to src). */
const allowed = {
  protocol: [],
  workspace: ['protocol'],
  client: ['protocol', 'workspace'],
  relay: ['protocol', 'workspace'],
  cli: ['protocol', 'workspace', 'client', 'relay'],
  observer: ['protocol', 'workspace', 'client'],
  'transport-relaycast': ['protocol', 'workspace', 'client']
}
const all = ['protocol', 'workspace', 'client', 'relay', 'cli', 'observer', 'transport-relaycast']

const oneWay = Object.entries(allowed).map(([name, uses]) => ({
  name: `one-way-${name}`,
  comment: `${name} may import only ${uses.length ? uses.join(', ') : 'no other Orchard package'} (ARCHITECTURE.md, Layout).`,
  severity: 'error',
  from: { path: src(name), pathNot: notTests },
  to: { path: `^packages/(${all.filter((other) => other !== name && !uses.includes(other)).join('|')})/` }
}))

module.exports = {
  forbidden: [
    ...oneWay,
    {
      name: 'no-circular',
      comment: 'No import circles anywhere, type-only imports included (the relay layering in packages/relay/README.md says which way each part points).',
      severity: 'error',
      from: {},
      to: { circular: true }
    },
    // The relay's layers (packages/relay/README.md, "Relay layering"): a part needing something
    // of the part above declares a narrow interface in its own module instead of importing it.
    {
      name: 'relay-core-on-top',
      comment: 'Only the entry points and the WebSocket front import RelayCore; the parts it builds see it through RoomHost / ConnectionHost.',
      severity: 'error',
      from: { path: '^packages/relay/src/', pathNot: ['^packages/relay/src/(index|RelayCore|server/RelayServer|testing/index)\\.ts$', notTests] },
      to: { path: '^packages/relay/src/RelayCore\\.ts$' }
    },
    {
      name: 'relay-room-and-connections-below-core-only',
      comment: 'Only RelayCore imports WorkspaceRoom and the connection classes; the parts below see the room through the ports they declare (RpcRoom, InputRoom, TerminalRoom, AgentRoom, LeaseRoom).',
      severity: 'error',
      from: { path: '^packages/relay/src/', pathNot: ['^packages/relay/src/RelayCore\\.ts$', notTests] },
      to: { path: '^packages/relay/src/(WorkspaceRoom|connection/OrchardConnection|connection/YwsConnection)\\.ts$' }
    },
    {
      name: 'relay-parts-below-connections',
      comment: 'rpc, coordination, terminals, docs, presence, control, auth and storage never import the connection layer (connection/types.ts, the shared RoomPeer, is below them).',
      severity: 'error',
      from: { path: '^packages/relay/src/(rpc|coordination|terminals|docs|presence|control|auth|storage)/' },
      to: { path: '^packages/relay/src/connection/(OrchardConnection|YwsConnection|connection-port)\\.ts$' }
    },
    {
      name: 'client-session-parts-below-sessions',
      comment: 'What WorkspaceSession and BrowserSession share (packages/client/src/session/) never imports either session or either entry: both build on it, and the browser entry bundles it.',
      severity: 'error',
      from: { path: '^packages/client/src/session/', pathNot: notTests },
      to: { path: ['^packages/client/src/(WorkspaceSession|WebSocketTransport|BrokerHost|index|browser)\\.ts$', '^packages/client/src/browser/'] }
    },
    {
      name: 'src-not-into-tests',
      comment: 'Shipped code never imports test files or test harnesses.',
      severity: 'error',
      from: { path: '^packages/[^/]+/src/', pathNot: notTests },
      to: { path: ['\\.test\\.ts$', '^packages/[^/]+/test/'] }
    }
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['node_modules', '/dist/'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { conditionNames: ['@orchard/source', 'import', 'require', 'node', 'default'], exportsFields: ['exports'] },
    combinedDependencies: false
  }
}
