/**
 * What users paste: member credentials and invite tokens (WIRE-19). Pure formatting and
 * parsing; the relay stores only hashes of the secrets inside.
 *
 *   member credential   orc_m.<workspaceId>.<memberId>.<secret>
 *   invite token        orchard-invite:<base64url JSON { v: 1, relay, workspaceId, inviteId, secret }>
 */
import * as buffer from 'lib0/buffer'

export const CREDENTIAL_PREFIX = 'orc_m.'
export const INVITE_PREFIX = 'orchard-invite:'

export interface MemberCredential {
  workspaceId: string
  memberId: string
  secret: string
}

export function formatCredential(credential: MemberCredential): string {
  return `${CREDENTIAL_PREFIX}${credential.workspaceId}.${credential.memberId}.${credential.secret}`
}

export function parseCredential(text: string): MemberCredential | undefined {
  if (!text.startsWith(CREDENTIAL_PREFIX)) return undefined
  const [workspaceId, memberId, secret, ...rest] = text.slice(CREDENTIAL_PREFIX.length).split('.')
  if (!workspaceId || !memberId || !secret || rest.length > 0) return undefined
  return { workspaceId, memberId, secret }
}

export interface InviteToken {
  v: 1
  /** The relay's WebSocket URL, so a pasted invite is all a user needs. */
  relay: string
  workspaceId: string
  inviteId: string
  secret: string
}

export function formatInvite(invite: Omit<InviteToken, 'v'>): string {
  return INVITE_PREFIX + base64url(JSON.stringify({ v: 1, ...invite }))
}

/** Undefined for anything that is not a well-formed invite (a typo, a truncated paste). */
export function parseInvite(text: string): InviteToken | undefined {
  const trimmed = text.trim()
  if (!trimmed.startsWith(INVITE_PREFIX)) return undefined
  try {
    const value = JSON.parse(fromBase64url(trimmed.slice(INVITE_PREFIX.length))) as Record<string, unknown>
    const { v, relay, workspaceId, inviteId, secret } = value
    if (v !== 1 || typeof relay !== 'string' || typeof workspaceId !== 'string' || typeof inviteId !== 'string' || typeof secret !== 'string') {
      return undefined
    }
    return { v, relay, workspaceId, inviteId, secret }
  } catch {
    return undefined
  }
}

export function isInviteToken(text: string): boolean {
  return text.trim().startsWith(INVITE_PREFIX)
}

// lib0's base64url (already a dependency, and the same code Yjs uses), not a hand-rolled copy.
function base64url(text: string): string {
  return buffer.toBase64UrlEncoded(new TextEncoder().encode(text))
}

function fromBase64url(text: string): string {
  // lib0 decodes leniently; an invite is refused unless it is strictly base64url.
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error('not base64url')
  return new TextDecoder('utf-8', { fatal: true }).decode(buffer.fromBase64UrlEncoded(text))
}
