/**
 * What the page says, in words: join errors by case (OBSERVER-2), who holds a terminal,
 * how long ago, how many bytes.
 */
import type { ControlInstance, LeaseRecord } from '@orchard/client/browser'

const JOIN_TITLES: Array<[RegExp, string]> = [
  [/^invite-used-up/, 'This invite is used up'],
  [/^invite-expired/, 'This invite has expired'],
  [/^invite-revoked/, 'This invite was revoked'],
  [/^invite-(unknown|malformed)/, 'This invite is not valid'],
  [/^unreachable/, 'The relay is unreachable'],
  [/^timeout/, 'The relay did not answer'],
  [/^origin-forbidden/, 'This page may not connect to that relay'],
  [/^(credential-unknown|member-removed|credential-malformed)/, 'This browser is no longer a member']
]

export function joinErrorTitle(code: string): string {
  for (const [pattern, title] of JOIN_TITLES) if (pattern.test(code)) return title
  return 'Could not join'
}

/**
 * "typing: alice on laptop" (the instance's label, as the relay stamped it). The relay
 * removes expired leases itself, so this page's clock (maybe skewed) is not consulted.
 */
export function leaseText(lease: LeaseRecord | undefined, instances: Map<string, ControlInstance>): string {
  if (!lease) return 'nobody is typing'
  const label = instances.get(lease.holderInstanceId)?.label || lease.holderInstanceId
  return `typing: ${lease.memberName} on ${label}`
}

export function ago(at: number, now: number): string {
  const seconds = Math.max(0, Math.round((now - at) / 1000))
  if (seconds < 60) return `${seconds}s ago`
  const minutes = Math.round(seconds / 60)
  if (minutes < 60) return `${minutes}m ago`
  return `${Math.round(minutes / 60)}h ago`
}

export function bytes(count: number): string {
  if (count < 1024) return `${count} B`
  if (count < 1024 * 1024) return `${(count / 1024).toFixed(1)} KB`
  return `${(count / 1024 / 1024).toFixed(1)} MB`
}
