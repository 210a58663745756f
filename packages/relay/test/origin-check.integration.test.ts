/**
 * Which pages may open a socket to the relay: browsers send Origin, and only the relay's
 * own pages (and origins the operator allowed) get through; Node clients send none.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { MemoryStorage, RelayCore, RelayServer } from '@orchard/relay'
import { checkOrigin } from '../src/server/origin-check.js'

let server: RelayServer
let url: string
let port: number
beforeAll(async () => {
  server = new RelayServer(new RelayCore({ storage: new MemoryStorage(), logger: { info: () => {}, error: () => {} } }), {
    port: 0,
    allowedOrigins: ['https://team.example']
  })
  url = await server.listen()
  port = server.port
})
afterAll(() => server.close())

/** Opens a socket with the given Origin and resolves with how it ended (or 'open'). */
function connect(origin: string | undefined): Promise<{ code: number; reason: string } | 'open'> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url}/orchard`, origin ? { origin } : {})
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }))
    ws.on('error', () => undefined)
    ws.on('open', () => {
      // The relay closes refused sockets right after the upgrade; an accepted one gets
      // nothing until HELLO, so a ping round trip proves it is still open.
      ws.ping()
      ws.once('pong', () => {
        resolve('open')
        ws.terminate()
      })
    })
  })
}

describe('origin check', () => {
  it('[ORIGIN-1] a page from another site is refused with 4403 and a reason; the relay\'s own pages and allowed origins connect', async () => {
    const refused = await connect('https://evil.example')
    expect(refused).toEqual({ code: 4403, reason: expect.stringMatching(/^origin-forbidden: pages from https:\/\/evil\.example may not connect/) })
    expect(await connect(`http://127.0.0.1:${port}`)).toBe('open')
    expect(await connect('https://team.example')).toBe('open')
    expect(await connect('https://TEAM.example:443')).toBe('open')
    expect(await connect('null')).toMatchObject({ code: 4403 })
  })

  it('[ORIGIN-2] clients that send no Origin (Node, Pear, the CLI) are judged by their credential alone; "*" allows every page', async () => {
    expect(await connect(undefined)).toBe('open')
    expect(checkOrigin({ origin: 'https://anything.example', host: 'relay:1' }, { allowedOrigins: ['*'] })).toBeNull()
    expect(checkOrigin({ origin: 'http://relay:1', host: 'relay:1' })).toBeNull()
    expect(checkOrigin({ origin: 'http://relay:2', host: 'relay:1' })).toMatch(/origin-forbidden/)
    expect(checkOrigin({ origin: 'file://', host: 'relay:1' })).toMatch(/origin-forbidden/)
  })
})
