/**
 * Joining (OBSERVER-1/2): the invite from the link (or pasted) and a display name. The
 * invite is redeemed once; errors say which case it is, in words.
 */
import { BrowserSession, SessionError, type BrowserSessionOptions } from '@orchard/client/browser'
import { h, replace } from './dom.js'
import { joinErrorTitle } from './words.js'

const NAME_KEY = 'orchard.name'

export function showJoin(root: HTMLElement, invite: string, options: BrowserSessionOptions, onJoined: (session: BrowserSession) => void): void {
  const inviteField = h('textarea', { attrs: { rows: '3', placeholder: 'orchard-invite:…', spellcheck: 'false', autocomplete: 'off' }, data: { field: 'invite' } })
  inviteField.value = invite
  const nameField = h('input', { attrs: { type: 'text', maxlength: '80', placeholder: 'Your name', autocomplete: 'name' }, data: { field: 'name' } })
  nameField.value = localStorage.getItem(NAME_KEY) ?? ''
  const error = h('div', { class: 'error', hidden: true, data: { role: 'join-error' } })
  const button = h('button', { attrs: { type: 'submit' }, data: { action: 'join' } }, 'Join')
  const form = h(
    'form',
    { class: 'join' },
    h('h1', null, 'Join an Orchard workspace'),
    h('p', { class: 'muted' }, invite ? 'You opened an invite link. Pick the name others will see.' : 'Paste the invite you were given and pick the name others will see.'),
    h('label', { hidden: Boolean(invite) }, 'Invite', inviteField),
    h('label', null, 'Name', nameField),
    button,
    error
  )
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const name = nameField.value.trim()
    if (!name) {
      showError(error, 'A name is needed', 'Type the name others will see next to your instance.')
      return
    }
    localStorage.setItem(NAME_KEY, name)
    performance.mark('orchard:join-submitted')
    button.disabled = true
    replace(button, 'Joining…')
    error.hidden = true
    BrowserSession.join(inviteField.value.trim(), { ...options, name }).then(onJoined, (failure: unknown) => {
      button.disabled = false
      replace(button, 'Join')
      if (failure instanceof SessionError) showError(error, joinErrorTitle(failure.code), failure.message)
      else showError(error, 'Could not join', failure instanceof Error ? failure.message : String(failure))
    })
  })
  replace(root, form)
  ;(invite ? nameField : inviteField).focus()
}

function showError(element: HTMLElement, title: string, message: string): void {
  replace(element, h('strong', null, title), h('div', null, message))
  element.hidden = false
}
