/**
 * Which web pages may open a socket to the relay (ORIGIN-n). Browsers send an Origin header
 * with every WebSocket upgrade and let any page open a socket anywhere, so without this
 * check a page on another site could use a credential it got hold of, or a browser's
 * stored one, from a visitor's machine. Non-browser clients (Node, Pear, the CLI) send no
 * Origin and are judged by their credential alone.
 */
import type { IncomingHttpHeaders } from 'node:http'

export interface OriginPolicyOptions {
  /**
   * Origins allowed besides the relay's own ("https://team.example"); '*' allows any page.
   * Default: none, so only pages the relay served itself (the observer) may connect.
   */
  allowedOrigins?: readonly string[]
}

/** Null when the socket may proceed, else the sentence to close it with (4403). */
export function checkOrigin(headers: IncomingHttpHeaders, options: OriginPolicyOptions = {}): string | null {
  const origin = headers.origin
  if (origin === undefined) return null
  const allowed = options.allowedOrigins ?? []
  if (allowed.includes('*')) return null
  const normalized = normalizeOrigin(origin)
  if (normalized && allowed.some((entry) => normalizeOrigin(entry) === normalized)) return null
  const host = headers.host
  if (normalized && host && (normalized === `http://${host.toLowerCase()}` || normalized === `https://${host.toLowerCase()}`)) return null
  return `origin-forbidden: pages from ${origin.slice(0, 60)} may not connect to this relay; add the origin to the relay's allowed origins`
}

/** scheme://host[:port], lowercased, default ports dropped; null for "null" and junk. */
function normalizeOrigin(value: string): string | null {
  try {
    const url = new URL(value)
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null
    return `${url.protocol}//${url.host}`.toLowerCase()
  } catch {
    return null
  }
}
