import { describe, expect, it } from 'vitest'
import { runExample } from './run-example.js'

describe('examples/plain-yjs (stock y-websocket clients on the relay)', () => {
  it('[COMPAT-1] stock WebsocketProviders sync a Y.Doc through the relay with each other and with an Orchard session, both ways', async () => {
    const { code, out } = await runExample('examples/plain-yjs.ts', 30_000)
    expect(code, out).toBe(0)
    expect(out).toContain('plain client 2 synced; projects in its doc: Pear App, Infra, Website')
    expect(out).toContain(`client 2: doc.getMap('notes').get('greeting') = "hello from a plain Yjs app"`)
    expect(out).toContain(`session.store.doc.getMap('notes').get('greeting') = "hello from a plain Yjs app"`)
    expect(out).toContain('Orchard sees it live: "written by plain client 2 while Orchard is connected"')
    expect(out).toContain('plain client 1 projects: Pear App, Infra, Website (renamed in Orchard)')
    expect(out).toContain('plain client 2 projects: Pear App, Infra, Website (renamed in Orchard)')
    expect(out).toContain('relay stopped gracefully on SIGTERM (exit code 0)')
  }, 40_000)
})
