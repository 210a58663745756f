/**
 * Invites travel in the URL fragment (`#invite=...`): the browser never sends a fragment to
 * a server, so the secret stays out of server logs and Referer headers (OBSERVER-1). Once
 * redeemed, the fragment is removed from the address bar and history.
 */
export function inviteFromFragment(hash: string): string | null {
  const fragment = hash.startsWith('#') ? hash.slice(1) : hash
  for (const part of fragment.split('&')) {
    const [key, ...rest] = part.split('=')
    if (key !== 'invite') continue
    let value: string
    try {
      value = decodeURIComponent(rest.join('='))
    } catch {
      return null
    }
    return value.trim() || null
  }
  return null
}

/** The link an owner hands out: the relay's page with the invite in the fragment. */
export function observerLink(pageUrl: string, invite: string): string {
  return `${pageUrl.replace(/[#?].*$/, '').replace(/\/*$/, '/')}#invite=${encodeURIComponent(invite)}`
}
