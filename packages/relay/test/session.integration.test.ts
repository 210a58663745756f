/**
 * WorkspaceSession over a real relay and real projects.json files.
 */
import { execFile } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createServer } from 'node:net'
import { SessionError, WorkspaceSession } from '@orchard/client'
import { formatInvite, parseInvite } from '@orchard/protocol'
import { tempDir } from '@orchard/workspace/testing'
import { eventually, startTestRelay, type TestRelay } from '@orchard/relay/testing'
import { builtEnv, repoRoot } from '../../../scripts/built-packages.js'

const cleanups: Array<() => void | Promise<void>> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

/** Added to the relay's clock: invite expiry is tested by stepping it, not by sleeping. */
let clockOffset = 0

async function relayAndOwner(dataDir?: string): Promise<{ relay: TestRelay; owner: WorkspaceSession }> {
  const relay = await startTestRelay({ ...(dataDir ? { dataDir } : {}), now: () => Date.now() + clockOffset })
  const owner = await WorkspaceSession.open({ credential: relay.ownerCredential, relayUrl: relay.url })
  cleanups.push(() => relay.close(), () => owner.close())
  return { relay, owner }
}

describe('WorkspaceSession', () => {
  it('[SESSION-1] the credential lands in this instance\'s projects.json only; a failed join touches nothing', async () => {
    const { dir, cleanup } = tempDir()
    cleanups.push(cleanup)
    const { owner } = await relayAndOwner()
    owner.store.addProject('Shared', '/src/shared')
    const file = join(dir, 'projects.json')
    const legacy = JSON.stringify({ projects: [{ id: 'mine', name: 'Mine', roots: [{ path: '/me' }] }], activeProjectId: 'mine' })
    writeFileSync(file, legacy)
    await expect(WorkspaceSession.join('orchard-invite:broken', { name: 'Ben', file })).rejects.toBeInstanceOf(SessionError)
    const expired = await owner.createInvite('editor', { expiresInMs: 60_000 })
    clockOffset += 60_000
    await expect(WorkspaceSession.join(expired, { name: 'Ben', file })).rejects.toMatchObject({ code: 'invite-expired' })
    expect(readFileSync(file, 'utf8')).toBe(legacy)

    const ben = await WorkspaceSession.join(await owner.createInvite('editor'), { name: 'Ben', file })
    cleanups.push(() => ben.close())
    await ben.store.flush()
    const written = JSON.parse(readFileSync(file, 'utf8'))
    expect(written.relayWorkspace).toMatchObject({ id: ben.workspaceId, authKey: expect.stringMatching(/^orc_m\./) })
    expect(written.projects.map((project: { name: string }) => project.name)).toEqual(['Shared'])
    expect(written.activeProjectId).toBe('mine')
    const credential = written.relayWorkspace.authKey as string
    expect(JSON.stringify(owner.store.doc.toJSON())).not.toContain(credential)
    expect(JSON.stringify(owner.controlDoc.toJSON())).not.toContain(credential.split('.')[3])
  })

  it('[SESSION-2] reopening uses the stored credential and instance id; offline edits sync when the relay returns', async () => {
    const { dir, cleanup } = tempDir()
    cleanups.push(cleanup)
    const data = tempDir('orchard-relay-data-')
    cleanups.push(data.cleanup)
    const file = join(dir, 'projects.json')
    let { relay, owner } = await relayAndOwner(data.dir)
    const projectId = owner.store.addProject('P', '/p').id
    const ben = await WorkspaceSession.join(await owner.createInvite('editor'), { name: 'Ben', file })
    const instanceId = ben.instanceId
    await ben.close()

    // The relay goes away; Ben opens from his file alone and keeps working.
    await owner.close()
    await relay.stop()
    const offline = await WorkspaceSession.open({ file, connectTimeoutMs: 300 })
    expect(offline.instanceId).toBe(instanceId)
    expect(offline.role).toBe('editor')
    expect(offline.store.loadStore().projects.map((project) => project.id)).toEqual([projectId])
    offline.store.addProjectChannel(projectId, 'written-offline')
    await offline.close()
    expect(existsSync(file)).toBe(true)

    // The relay returns (same data, new port): the session reconnects with its stored credential.
    ;({ relay, owner } = await relayAndOwner(data.dir))
    const back = await WorkspaceSession.open({ file, relayUrl: relay.url })
    cleanups.push(() => back.close())
    await back.provider.whenPersisted()
    await eventually(() => owner.store.loadStore().projects[0]?.channels.includes('written-offline'), { what: 'offline edit reaches the owner' })
    expect(back.instanceId).toBe(instanceId)
  })
})

describe('closing', () => {
  it('[SESSION-6] close() releases every timer and socket, so the process exits by itself', async () => {
    const { relay } = await relayAndOwner()
    const script = fileURLToPath(new URL('./fixtures/open-and-close.mjs', import.meta.url))
    const started = Date.now()
    const { stdout } = await promisify(execFile)(process.execPath, [script, relay.url], {
      cwd: repoRoot,
      env: builtEnv({ ORCHARD_CREDENTIAL: relay.ownerCredential }),
      timeout: 20_000
    })
    expect(stdout).toContain('closed')
    expect(Date.now() - started).toBeLessThan(20_000)
  }, 30_000)

  it('[SESSION-7] a join that fails (altered invite, unreachable relay) leaves nothing running: the process exits by itself', async () => {
    const { owner } = await relayAndOwner()
    const invite = parseInvite(await owner.createInvite('editor')) as NonNullable<ReturnType<typeof parseInvite>>
    const altered = formatInvite({ ...invite, secret: `${invite.secret.slice(0, -2)}xx` })
    // A port that was just free: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number }
        server.close(() => resolve(port))
      })
    })
    const unreachable = formatInvite({ ...invite, relay: `ws://127.0.0.1:${port}` })
    const script = fileURLToPath(new URL('./fixtures/join-fails.mjs', import.meta.url))
    // A process that does not exit by itself is killed at the timeout, and execFile rejects.
    const { stdout } = await promisify(execFile)(process.execPath, [script, 'unused', altered, unreachable], {
      cwd: repoRoot,
      env: builtEnv(),
      timeout: 20_000
    })
    expect(stdout).toBe('altered: invite-unknown\nunreachable: timeout\n')
  }, 30_000)
})
