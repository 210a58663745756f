/**
 * Which RelayCast agent is which member (RC-12): the host knows it from each connection's
 * WELCOME and posts it on the channel, so in peer mode the others can still refuse a
 * viewer's doc writes. Only the host's posts are read for it.
 */
import type { MemberRole } from '@orchard/protocol'

export type Roster = Record<string, { memberId: string; role: MemberRole }>

export function writeRoster(roster: Roster): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(roster))
}

export function readRoster(payload: Uint8Array): Roster {
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(payload))
    if (typeof parsed !== 'object' || parsed === null) return {}
    const roster: Roster = {}
    for (const [agent, value] of Object.entries(parsed as Record<string, unknown>)) {
      const entry = value as { memberId?: unknown; role?: unknown }
      if (typeof entry?.memberId === 'string' && (entry.role === 'owner' || entry.role === 'editor' || entry.role === 'viewer')) {
        roster[agent] = { memberId: entry.memberId, role: entry.role }
      }
    }
    return roster
  } catch {
    return {}
  }
}
