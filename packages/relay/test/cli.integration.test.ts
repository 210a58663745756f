/**
 * The `orchard` command, run for real: first start prints everything a new user needs,
 * and the management commands act on the running relay.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { WorkspaceSession } from '@orchard/client'
import { parseInvite } from '@orchard/protocol'
import { startRelayProcess } from './harness/relay-process.js'
import { parseDuration } from '../src/cli.js'

const run = promisify(execFile)
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'orchard-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function orchard(...args: string[]) {
  return run(process.execPath, ['--import', 'tsx', 'packages/relay/src/cli.ts', ...args], { cwd: repoRoot, timeout: 30_000 })
}

describe('orchard CLI', () => {
  it('[SERVER-4] first start creates the demo workspace and prints credentials; management commands reach the live relay', async () => {
    const data = join(dir, 'demo.db')
    const relay = await startRelayProcess(['--data', data, '--demo'])
    try {
      const { info } = relay
      expect(info.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/)
      expect(info.ownerToken).toMatch(/^orc_m\./)
      expect(parseInvite(info.editorInvite!)).toMatchObject({ workspaceId: info.workspaceId, relay: info.url })
      expect(parseInvite(info.viewerInvite!)).toMatchObject({ workspaceId: info.workspaceId })
      expect(statSync(`${data}.owner.json`).mode & 0o777).toBe(0o600)

      const viewer = await WorkspaceSession.join(info.viewerInvite!, { name: 'Vic' })
      expect(viewer.store.loadStore().projects.map((project) => project.name)).toEqual(['Pear App', 'Infra', 'Website'])

      const invite = (await orchard('invite', '--role', 'editor', '--expires', '1d', '--max-uses', '2', '--data', data)).stdout.trim()
      expect(parseInvite(invite)).toMatchObject({ workspaceId: info.workspaceId })
      const members = JSON.parse((await orchard('members', '--data', data, '--json')).stdout) as Array<{ id: string; name: string; role: string }>
      const vic = members.find((member) => member.name === 'Vic')!
      expect(vic.role).toBe('viewer')
      const stopped = new Promise<{ code: number }>((resolve) => viewer.provider.once('stopped', resolve))
      await orchard('remove', vic.id, '--data', data)
      expect((await stopped).code).toBe(4401)
      await viewer.close()
      const bad = await orchard('invite', '--role', 'admin', '--data', data).catch((error: { stderr: string; code: number }) => error)
      expect(bad).toMatchObject({ code: 1, stderr: expect.stringContaining('--role editor or --role viewer') })
    } finally {
      expect(await relay.stop()).toBe(0)
    }
    // A restart serves the same workspace and does not mint new invites.
    const again = await startRelayProcess(['--data', data])
    expect(again.info.workspaceId).toBe(relay.info.workspaceId)
    expect(again.info.editorInvite).toBeNull()
    await again.stop()
  }, 60_000)

  it('[SERVER-4] durations and bad usage are explained', async () => {
    expect(parseDuration('7d')).toBe(7 * 86_400_000)
    expect(() => parseDuration('soon')).toThrow('use e.g. 30m, 12h or 7d')
    const none = await orchard('invite', '--role', 'viewer', '--data', join(dir, 'none.db')).catch((error: { stderr: string }) => error)
    expect(none).toMatchObject({ stderr: expect.stringContaining('No relay to talk to') })
  }, 30_000)
})
