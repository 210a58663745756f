/**
 * The relay serving a prebuilt web app (the observer) from its HTTP port: only the files
 * in the folder, each with the strict CSP, and clear errors for a folder that is not an app.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MemoryStorage, RelayCore, RelayServer } from '@orchard/relay'
import { OBSERVER_CSP } from '../src/server/static-assets.js'

const dir = mkdtempSync(join(tmpdir(), 'orchard-static-'))
const app = join(dir, 'dist')
let server: RelayServer
let http: string

beforeAll(async () => {
  mkdirSync(join(app, 'assets'), { recursive: true })
  writeFileSync(join(app, 'index.html'), '<!doctype html><script type="module" src="/assets/app-1234.js"></script>')
  writeFileSync(join(app, 'assets', 'app-1234.js'), `console.log(${JSON.stringify('x'.repeat(2000))})`)
  writeFileSync(join(dir, 'secret.txt'), 'outside the app folder')
  server = new RelayServer(new RelayCore({ storage: new MemoryStorage(), logger: { info: () => {}, error: () => {} } }), { port: 0, staticDir: app })
  http = (await server.listen()).replace('ws://', 'http://')
})
afterAll(async () => {
  await server.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('static assets', () => {
  it('[STATIC-1] serves the app at / and its files, gzip when asked, and nothing outside the folder', async () => {
    const index = await fetch(`${http}/`)
    expect(index.status).toBe(200)
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(index.headers.get('cache-control')).toBe('no-cache')
    expect(await index.text()).toContain('/assets/app-1234.js')
    // fetch asks for gzip and unpacks it; the header says it travelled compressed.
    const script = await fetch(`${http}/assets/app-1234.js`)
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(script.headers.get('content-encoding')).toBe('gzip')
    expect(script.headers.get('cache-control')).toContain('immutable')
    expect(await script.text()).toContain('xxxx')
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/../../secret.txt', '/secret.txt', '/assets/missing.js']) {
      const response = await fetch(`${http}${path}`)
      expect(response.status, path).toBe(404)
      expect(await response.text()).not.toContain('outside the app folder')
    }
    // The relay's own endpoints still answer.
    expect((await fetch(`${http}/healthz`)).status).toBe(200)
    expect((await fetch(`${http}/`, { method: 'POST' })).status).toBe(404)
  })

  it('[STATIC-2] every file carries a CSP with no inline script, and no Referer leaves the page', async () => {
    for (const path of ['/', '/index.html', '/assets/app-1234.js']) {
      const response = await fetch(`${http}${path}`)
      expect(response.headers.get('content-security-policy')).toBe(OBSERVER_CSP)
      expect(response.headers.get('referrer-policy')).toBe('no-referrer')
      expect(response.headers.get('x-content-type-options')).toBe('nosniff')
    }
    expect(OBSERVER_CSP).toContain("script-src 'self'")
    expect(OBSERVER_CSP).not.toMatch(/script-src[^;]*(unsafe-inline|unsafe-eval)/)
    expect(OBSERVER_CSP).toContain("default-src 'none'")
  })

  it('[STATIC-3] a folder that is not a built app is refused at start, saying what to do', () => {
    const core = () => new RelayCore({ storage: new MemoryStorage(), logger: { info: () => {}, error: () => {} } })
    expect(() => new RelayServer(core(), { port: 0, staticDir: join(dir, 'nope') })).toThrow(/does not exist\. Build the observer first/)
    expect(() => new RelayServer(core(), { port: 0, staticDir: join(app, 'assets') })).toThrow(/No index\.html in .*Build the observer first/)
  })
})
