/**
 * The observer page: join with the invite in the fragment (or pasted), or reconnect with
 * the seat this browser keeps; then the live workspace. "Leave" forgets the seat.
 */
import '@xterm/xterm/css/xterm.css'
import { BrowserSession, LocalSeatStore, relayUrlFor, type BrowserSessionOptions } from '@orchard/client/browser'
import { inviteFromFragment } from './invite-link.js'
import { showJoin } from './JoinView.js'
import { WorkspaceView } from './WorkspaceView.js'

const root = document.getElementById('app') as HTMLElement
const banner = document.getElementById('banner') as HTMLElement
const options: BrowserSessionOptions = {
  seats: new LocalSeatStore(localStorage, 'orchard.seat'),
  // The relay that served this page: the observer's socket is always same-origin (ORIGIN-1).
  relayUrl: relayUrlFor(location),
  label: 'browser',
  backoff: { initialMs: 250, maxMs: 5_000 }
}
let current: { view: WorkspaceView; session: BrowserSession } | null = null

function enter(session: BrowserSession): void {
  performance.mark('orchard:entered')
  // The redeemed invite leaves the address bar and history (it is spent anyway).
  if (location.hash) history.replaceState(null, '', location.pathname)
  const view = new WorkspaceView(root, banner, session, () => {
    exit()
    session.leave()
    showJoin(root, '', options, enter)
  })
  current = { view, session }
}

function exit(): void {
  current?.view.dispose()
  current?.session.close()
  current = null
  banner.hidden = true
}

// Another invite link opened in this tab (only the fragment changed, so no reload): join with it.
window.addEventListener('hashchange', () => {
  const next = inviteFromFragment(location.hash)
  if (!next) return
  exit()
  showJoin(root, next, options, enter)
})

const invite = inviteFromFragment(location.hash)
const session = invite ? null : BrowserSession.open(options)
if (session) enter(session)
else showJoin(root, invite ?? '', options, enter)
