/**
 * Secrets on the relay side: random ids and the hashes the relay stores instead of
 * secrets (AUTH-2). The pasteable formats live in @orchard/protocol (tokens.ts).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

export { formatCredential, formatInvite, isInviteToken, parseCredential, parseInvite } from '@orchard/protocol'

export function randomId(bytes = 12): string {
  return randomBytes(bytes).toString('base64url')
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url')
}

/** Constant-time comparison of a presented secret with a stored hash. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = Buffer.from(hashSecret(secret))
  const stored = Buffer.from(storedHash)
  return presented.length === stored.length && timingSafeEqual(presented, stored)
}
