/**
 * The `orchard` command, run for real as a child process: first start prints everything a
 * new user needs, and the management commands act on the running relay.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { WorkspaceSession } from '@orchard/client'
import { parseInvite } from '@orchard/protocol'
import { orchard, startRelay } from './harness/cli-process.js'

const dir = mkdtempSync(join(tmpdir(), 'orchard-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('orchard relay and the management commands', () => {
  it('[CLI-1] [CLI-9] first start creates the demo workspace and prints credentials; management commands reach the live relay', async () => {
    const data = join(dir, 'demo.db')
    const relay = await startRelay(['--data', data, '--demo'])
    try {
      const { info } = relay
      expect(info.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/)
      expect(info.ownerToken).toMatch(/^orc_m\./)
      expect(parseInvite(info.editorInvite!)).toMatchObject({ workspaceId: info.workspaceId, relay: info.url })
      expect(parseInvite(info.viewerInvite!)).toMatchObject({ workspaceId: info.workspaceId })
      expect(statSync(`${data}.owner.json`).mode & 0o777).toBe(0o600)

      const viewer = await WorkspaceSession.join(info.viewerInvite!, { name: 'Vic' })
      expect(viewer.store.loadStore().projects.map((project) => project.name)).toEqual(['Pear App', 'Infra', 'Website'])

      const invite = (await orchard(['invite', '--role', 'editor', '--expires', '1d', '--max-uses', '2', '--data', data])).stdout.trim()
      expect(parseInvite(invite)).toMatchObject({ workspaceId: info.workspaceId })
      const members = JSON.parse((await orchard(['members', '--data', data, '--json'])).stdout) as Array<{ id: string; name: string; role: string }>
      const vic = members.find((member) => member.name === 'Vic')!
      expect(vic.role).toBe('viewer')
      const stopped = new Promise<{ code: number }>((resolve) => viewer.provider.once('stopped', resolve))
      const removed = await orchard(['remove', vic.id, '--data', data])
      expect(removed).toMatchObject({ code: 0, stdout: expect.stringContaining(`Removed Vic (${vic.id})`) })
      expect((await stopped).code).toBe(4401)
      await viewer.close()
    } finally {
      expect(await relay.stop()).toBe(0)
    }
    // A restart serves the same workspace and does not mint new invites.
    const again = await startRelay(['--data', data, '--log-level', 'info'])
    expect(again.info.workspaceId).toBe(relay.info.workspaceId)
    expect(again.info.editorInvite).toBeNull()
    expect(await again.stop()).toBe(0)
    // CLI-9: the log is pino's JSON lines on stderr; stdout held only the one JSON line.
    const logs = again
      .stderr()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { level: number; name: string; msg: string; url?: string })
    expect(logs).toContainEqual(expect.objectContaining({ level: 30, name: 'orchard-relay', msg: 'listening', url: again.info.url }))
    expect(again.stdout().trim().split('\n')).toHaveLength(1)
  }, 60_000)
})

describe('the web observer', () => {
  it('[CLI-10] the relay serves the built observer page and prints a link with the viewer invite in the fragment', async () => {
    const relay = await startRelay(['--data', join(dir, 'observer.db')])
    try {
      const { info } = relay
      const page = info.url.replace('ws://', 'http://') + '/'
      expect(info.observer).toBe(page)
      // The secret travels in the fragment, which browsers never send to a server.
      expect(info.observerLink).toBe(`${page}#invite=${encodeURIComponent(info.viewerInvite!)}`)
      const response = await fetch(page)
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toContain('text/html')
      expect(response.headers.get('content-security-policy')).toContain("default-src 'none'")
      expect(await response.text()).toContain('<script type="module"')
    } finally {
      expect(await relay.stop()).toBe(0)
    }
  }, 60_000)
})
