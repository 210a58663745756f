/**
 * The web observer in a real browser (Debian's Chromium through playwright-core) against a
 * real relay on a real port serving the built page, with a Node instance as the broker
 * host publishing a terminal. One browser, several pages; the tests run in order and
 * share the workspace, as a person's session would.
 */
import { mkdirSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { AgentRecord, WorkspaceSession } from '@orchard/client'
import { parseInvite } from '@orchard/protocol'
import { ensureObserverBuilt } from './harness/build.js'
import { chromiumMissing, launchChromium } from './harness/chromium.js'
import { ScriptedBroker, startHost } from './harness/host.js'
import { startObserverRelay, type ObserverRelay } from './harness/relay.js'

const missing = chromiumMissing()
if (missing) console.warn(`observer browser tests skipped: ${missing}`)
const artifacts = fileURLToPath(new URL('../test-artifacts', import.meta.url))
const XSS_NAME = '<img src=x onerror=alert(1)>'
/** The relay keeps this much output per terminal; a late page past it starts from the snapshot. */
const RING_BYTES = 64 * 1024

let relay: ObserverRelay
let browser: Browser
let host: WorkspaceSession
const broker = new ScriptedBroker({ cols: 100, rows: 20 })
let agent: AgentRecord
let projectId: string
const contexts: BrowserContext[] = []
const dialogs: string[] = []
const requests: string[] = []
/** Vic's page: a viewer who joined by link. */
let vic: Page

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  // A missing element fails in seconds with Playwright's message, well inside the test's timeout.
  context.setDefaultTimeout(10_000)
  contexts.push(context)
  const page = await context.newPage()
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message())
    void dialog.dismiss()
  })
  page.on('request', (request) => requests.push(request.url()))
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`))
  return page
}

async function joinByLink(page: Page, invite: string, name: string): Promise<void> {
  await page.goto(`${relay.page}#invite=${encodeURIComponent(invite)}`)
  await page.locator('[data-field="name"]').fill(name)
  await page.locator('[data-action="join"]').click()
}

/** Waits for what the page shows; generous, because two cores run the whole suite at once. */
function poll<T>(read: () => Promise<T> | T) {
  return expect.poll(read, { timeout: 15_000, interval: 50 })
}

function shot(page: Page, name: string): Promise<Buffer> {
  return page.screenshot({ path: join(artifacts, `${name}.png`) })
}

function terminalText(page: Page): Promise<string> {
  return page.locator(`[data-agent-id="${agent.id}"] .xterm-rows`).innerText()
}

describe.skipIf(missing !== null)('the web observer in Chromium', () => {
  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true })
    const [dist, launched] = await Promise.all([ensureObserverBuilt(), launchChromium()])
    browser = launched
    relay = await startObserverRelay(dist, { terminalRingBytes: RING_BYTES })
    host = await startHost(relay.url, relay.ownerCredential, broker)
    const project = host.store.addProject('Pear App', '/work/pear-app')
    projectId = project.id
    host.store.addProjectChannel(projectId, 'release')
    host.store.setProjectChannelPeople(projectId, 'release', ['alice', 'bob'])
    host.store.addProjectIntegration(projectId, 'GitHub', 'github')
    host.store.setProjectHost(projectId, { instanceId: host.instanceId, label: 'laptop' })
    host.store.addProject(XSS_NAME, '/work/xss')
    await host.provider.whenPersisted()
    agent = await host.spawn(projectId, 'claude')
    broker.print(agent.id, 'agent ready\r\n')
  }, 90_000)

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined)
    await browser?.close()
    await host?.close()
    await relay?.close()
  })

  it('[OBSERVER-1][BROWSER-1] an invite link joins once; the secret stays in the fragment and leaves the address bar', async () => {
    const invite = await host.createInvite('viewer', { maxUses: 1 })
    vic = await newPage()
    await joinByLink(vic, invite, 'Vic')
    await poll(() => vic.locator('[data-role="me"]').innerText()).toBe('Vic (viewer)')
    expect(new URL(vic.url()).hash).toBe('')
    const seat = JSON.parse((await vic.evaluate(() => localStorage.getItem('orchard.seat'))) ?? '{}') as { credential?: string }
    expect(seat.credential).toMatch(/^orc_m\./)
    // No request the page made carried the invite (a fragment is never sent).
    expect(requests.some((url) => url.includes('orchard-invite') || url.includes(encodeURIComponent(invite)))).toBe(false)
    await shot(vic, 'joined')

    // Used once: a second page with the same link is told so, in words.
    const again = await newPage()
    await joinByLink(again, invite, 'Mallory')
    await poll(() => again.locator('[data-role="join-error"]').innerText()).toContain('This invite is used up')
  })

  it('[OBSERVER-2] a revoked, expired or malformed invite and an unreachable relay are each said in words', async () => {
    const page = await newPage()
    const revoked = await host.createInvite('viewer')
    await host.revokeInvite(parseInvite(revoked)?.inviteId ?? '')
    await joinByLink(page, revoked, 'Rex')
    await poll(() => page.locator('[data-role="join-error"]').innerText()).toContain('This invite was revoked')

    const expired = await host.createInvite('viewer', { expiresInMs: 1 })
    await joinByLink(page, expired, 'Rex')
    await poll(() => page.locator('[data-role="join-error"]').innerText()).toContain('This invite has expired')

    await joinByLink(page, 'orchard-invite:not-really', 'Rex')
    await poll(() => page.locator('[data-role="join-error"]').innerText()).toContain('This invite is not valid')

    const valid = await host.createInvite('viewer')
    await page.goto(`${relay.page}#invite=${encodeURIComponent(valid)}`)
    await relay.stop()
    try {
      await page.locator('[data-field="name"]').fill('Rex')
      await page.locator('[data-action="join"]').click()
      await poll(() => page.locator('[data-role="join-error"]').innerText()).toContain('The relay is unreachable')
    } finally {
      await relay.start()
    }
    await vi.waitFor(() => expect(host.status).toBe('connected'), { timeout: 15_000 })
  })

  it('[ORIGIN-1][STATIC-2] in the browser: the page is served with its CSP, and a page from another origin cannot open a socket', async () => {
    const page = await newPage()
    const response = await page.goto(relay.page)
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'")
    // A page from another origin on this machine (another port): the browser sends its Origin.
    const elsewhere = createServer((_req, res) => res.end('<!doctype html><title>elsewhere</title>'))
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve))
    try {
      const origin = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`
      await page.goto(`${origin}/`)
      const closed = await page.evaluate(
        (url) =>
          new Promise<{ code: number; reason: string }>((resolve) => {
            const socket = new WebSocket(url)
            socket.addEventListener('close', (event) => resolve({ code: event.code, reason: event.reason }))
          }),
        `${relay.url}/orchard`
      )
      expect(closed.code).toBe(4403)
      expect(closed.reason).toBe(`origin-forbidden: pages from ${origin} may not connect to this relay; add the origin to the relay's allowed origins`.slice(0, 120))
    } finally {
      elsewhere.close()
    }
  })

  it('[OBSERVER-3] projects, people, agents and activity are live: a change made by the Node instance appears', async () => {
    const projects = vic.locator('[data-panel="projects"]')
    await poll(() => projects.innerText()).toContain('Pear App')
    const card = vic.locator(`[data-project-id="${projectId}"]`)
    await poll(() => card.innerText()).toMatch(/#release alice, bob/)
    expect(await card.innerText()).toContain('GitHub (github)')
    expect(await card.innerText()).toContain('/work/pear-app')
    expect(await card.innerText()).toContain('host: laptop')

    host.store.addProjectChannel(projectId, 'Design Review')
    host.store.updateProject(projectId, { name: 'Pear App (renamed)' })
    await poll(() => card.innerText()).toContain('#design-review')
    await poll(() => card.locator('[data-role="project-name"]').innerText()).toBe('Pear App (renamed)')

    // Presence: the Node instance with its member name, role and label; "idle" from its reported activity.
    const people = vic.locator('[data-panel="people"]')
    await poll(() => people.locator(`[data-instance-id="${host.instanceId}"]`).innerText()).toContain('Ana owner · laptop')
    host.presence.set({ activeAt: Date.now() - 10 * 60_000 })
    await poll(() => people.locator(`[data-instance-id="${host.instanceId}"]`).innerText()).toMatch(/idle 10m ago/)
    expect(await people.innerText()).toContain('Vic viewer · browser (this page)')

    // Agents with state and the lease holder; the activity feed.
    const row = vic.locator(`[data-panel="agents"] [data-agent-id="${agent.id}"]`)
    await poll(() => row.innerText()).toContain('claude running · nobody is typing')
    await host.claim(agent.id)
    await poll(() => row.innerText()).toContain('typing: Ana on laptop')
    await host.release(agent.id)
    await poll(() => row.innerText()).toContain('nobody is typing')
    const feed = vic.locator('[data-panel="activity"]')
    await poll(() => feed.innerText()).toMatch(/Ana spawned claude in Pear App/)
    await poll(() => feed.innerText()).toMatch(/Ana claimed/)
  })

  it('[OBSERVER-4] every name is text: a project named like an HTML tag shows as those characters and runs nothing', async () => {
    const projects = vic.locator('[data-panel="projects"]')
    await poll(() => projects.innerText()).toContain(XSS_NAME)
    expect(await projects.locator('img').count()).toBe(0)
    expect(await vic.locator('img').count()).toBe(0)
    expect(dialogs).toEqual([])
  })

  it('[OBSERVER-5] a live terminal streams into xterm.js; a window resize scales the font, never the agent\'s PTY; a PTY resize by the host is followed', async () => {
    await poll(() => terminalText(vic)).toContain('agent ready')
    broker.print(agent.id, '\x1b[32mbuilding pear-app\x1b[0m: 42 files\r\n')
    await poll(() => terminalText(vic)).toContain('building pear-app: 42 files')
    const pane = vic.locator(`[data-agent-id="${agent.id}"].pane`)
    const before = Number(await pane.getAttribute('data-font-size'))
    await vic.setViewportSize({ width: 700, height: 800 })
    await poll(async () => Number(await pane.getAttribute('data-font-size'))).toBeLessThan(before)
    // The page never asked the host to resize (the xterm keeps 100 x 20, the agent's size).
    expect(broker.resized).toEqual([])
    expect(await vic.locator(`[data-agent-id="${agent.id}"] .xterm-rows > div`).count()).toBe(20)
    await vic.setViewportSize({ width: 1280, height: 800 })
    await shot(vic, 'terminal')
    // The host resizing the PTY is another matter: the page follows it.
    broker.resizePty(agent.id, 120, 30)
    await poll(() => vic.locator(`[data-agent-id="${agent.id}"] .xterm-rows > div`).count()).toBe(30)
    broker.resizePty(agent.id, 100, 20)
    await poll(() => vic.locator(`[data-agent-id="${agent.id}"] .xterm-rows > div`).count()).toBe(20)
  })

  it('[OBSERVER-6] a viewer\'s keystrokes change nothing; an editor claims and types with a lease', async () => {
    await vic.locator(`[data-agent-id="${agent.id}"] .xterm`).click()
    await vic.keyboard.type('rm -rf ~\r')
    expect(await vic.locator(`[data-agent-id="${agent.id}"] [data-action="claim"]`).count()).toBe(0)
    expect(await vic.locator(`[data-agent-id="${agent.id}"].pane`).innerText()).toContain('view only')

    const editor = await newPage()
    await joinByLink(editor, await host.createInvite('editor'), 'Eve')
    await poll(() => editor.locator('[data-role="me"]').innerText()).toBe('Eve (editor)')
    const claim = editor.locator(`[data-agent-id="${agent.id}"] [data-action="claim"]`)
    await claim.click()
    await poll(() => vic.locator(`[data-agent-id="${agent.id}"].pane [data-role="lease"]`).innerText()).toBe('typing: Eve on browser')
    await editor.locator(`[data-agent-id="${agent.id}"] .xterm`).click()
    await editor.keyboard.type('ls\r')
    // The editor's keys arrive; by then the viewer's (typed earlier, same relay) would have too.
    await vi.waitFor(() => expect(broker.written.map((entry) => entry.text).join('')).toBe('ls\r'), { timeout: 10_000 })
    await shot(editor, 'editor-typing')
    await editor.locator(`[data-agent-id="${agent.id}"] [data-action="release"]`).click()
    await poll(() => vic.locator(`[data-agent-id="${agent.id}"].pane [data-role="lease"]`).innerText()).toBe('nobody is typing')
  })

  it('[OBSERVER-8][BROWSER-2] a reload keeps the membership: no join form, the same member and instance', async () => {
    const members = host.controlDoc.getMap('members').size
    const seat = await vic.evaluate(() => localStorage.getItem('orchard.seat'))
    await vic.reload()
    await poll(() => vic.locator('[data-role="me"]').innerText()).toBe('Vic (viewer)')
    await poll(() => terminalText(vic)).toContain('building pear-app')
    expect(host.controlDoc.getMap('members').size).toBe(members)
    expect(await vic.evaluate(() => localStorage.getItem('orchard.seat'))).toBe(seat)
  })

  it('[OBSERVER-7] a relay restart shows the offline banner, and the page resumes where it was', async () => {
    const banner = vic.locator('#banner')
    expect(await banner.isHidden()).toBe(true)
    await relay.stop()
    await poll(() => banner.isVisible()).toBe(true)
    expect(await banner.innerText()).toContain('Offline')
    await shot(vic, 'offline')
    await relay.start()
    await poll(() => banner.isHidden()).toBe(true)
    await vi.waitFor(() => expect(host.status).toBe('connected'), { timeout: 15_000 })
    broker.print(agent.id, 'after the restart\r\n')
    await poll(() => terminalText(vic)).toContain('after the restart')
    host.store.addProjectChannel(projectId, 'after-restart')
    await poll(() => vic.locator(`[data-project-id="${projectId}"]`).innerText()).toContain('#after-restart')
  })

  it('[OBSERVER-9] a late page starts from the host\'s screen snapshot, says so, then streams', async () => {
    // More output than the relay keeps: a page opened now cannot get it all.
    const line = `${'x'.repeat(90)}\r\n`
    for (let i = 0; i < Math.ceil((RING_BYTES * 2) / line.length); i++) broker.print(agent.id, line)
    broker.print(agent.id, 'LAST LINE BEFORE THE LATE PAGE\r\n')
    await poll(() => terminalText(vic)).toContain('LAST LINE BEFORE THE LATE PAGE')
    const late = await newPage()
    await joinByLink(late, await host.createInvite('viewer'), 'Lou')
    const notice = late.locator(`[data-agent-id="${agent.id}"] [data-role="gap-notice"]`)
    await poll(() => notice.innerText()).toContain('Started from the host\'s screen')
    await poll(() => terminalText(late)).toContain('LAST LINE BEFORE THE LATE PAGE')
    broker.print(agent.id, 'live for the late page\r\n')
    await poll(() => terminalText(late)).toContain('live for the late page')
    await shot(late, 'late-page')
  })

  it('[OBSERVER-11] a member the owner removes is told so in a banner, and can forget this browser', async () => {
    const members = await host.listMembers()
    const lou = members.find((member) => member.name === 'Lou')
    expect(lou).toBeDefined()
    const page = contexts.at(-1)?.pages()[0] as Page
    await host.removeMember(lou?.id ?? '')
    const banner = page.locator('#banner')
    await poll(() => banner.innerText()).toContain('You were removed from this workspace')
    await page.locator('[data-action="forget"]').click()
    await poll(() => page.locator('[data-action="join"]').count()).toBe(1)
    expect(await page.evaluate(() => localStorage.getItem('orchard.seat'))).toBeNull()
  })

  it('[OBSERVER-10][BROWSER-3] "Leave" forgets the membership: the join form returns and a reload stays out', async () => {
    await vic.locator('[data-action="leave"]').click()
    await poll(() => vic.locator('[data-action="join"]').count()).toBe(1)
    expect(await vic.evaluate(() => localStorage.getItem('orchard.seat'))).toBeNull()
    await vic.reload()
    await poll(() => vic.locator('[data-action="join"]').count()).toBe(1)
  })
})
