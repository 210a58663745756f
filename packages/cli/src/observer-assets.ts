/**
 * The web observer (CLI-10): `orchard relay` serves the page built ahead of time and shipped
 * in @orchard/observer's dist/. The CLI depends on that package for its files only and
 * imports none of its code (nothing imports the observer), so the folder is found through
 * the package's own package.json.
 */
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

/** The observer's built folder, or null when the package or its build is missing. */
export function findObserverDist(): string | null {
  let manifest: string
  try {
    manifest = createRequire(import.meta.url).resolve('@orchard/observer/package.json')
  } catch {
    return null
  }
  const dist = join(dirname(manifest), 'dist')
  return existsSync(join(dist, 'index.html')) ? dist : null
}

/**
 * The link to hand a person: the relay's page with the invite in the fragment, which a
 * browser never sends to a server, so the secret stays out of logs and Referer headers.
 */
export function observerLink(relayUrl: string, invite: string): string {
  return `${observerPage(relayUrl)}#invite=${encodeURIComponent(invite)}`
}

export function observerPage(relayUrl: string): string {
  return `${relayUrl.replace(/^ws(s?):\/\//, 'http$1://').replace(/\/*$/, '')}/`
}
