/**
 * What each role may do (ROLE-1). The relay enforces this table; the client refuses
 * the same actions locally with the same messages (ROLE-3), so a viewer sees one error
 * whether or not the relay was asked.
 */
import type { MemberRole } from './frames.js'

export type Action =
  | 'doc.write'
  | 'invite.manage'
  | 'member.manage'
  | 'agent.spawn'
  | 'agent.stop'
  | 'agent.claim'
  | 'agent.takeover'
  | 'terminal.input'

const ALLOWED: Record<MemberRole, ReadonlySet<Action>> = {
  owner: new Set<Action>(['doc.write', 'invite.manage', 'member.manage', 'agent.spawn', 'agent.stop', 'agent.claim', 'agent.takeover', 'terminal.input']),
  editor: new Set<Action>(['doc.write', 'agent.spawn', 'agent.stop', 'agent.claim', 'terminal.input']),
  viewer: new Set<Action>()
}

export const REFUSALS: Record<Action, string> = {
  'doc.write': 'Viewers can read this workspace but not change it. Ask an owner to make you an editor.',
  'invite.manage': 'Only a workspace owner can create, list or revoke invites.',
  'member.manage': 'Only a workspace owner can change roles or remove members.',
  'agent.spawn': 'Viewers cannot start agents. Ask an owner to make you an editor.',
  'agent.stop': 'Viewers cannot stop or release agents. Ask an owner to make you an editor.',
  'agent.claim': 'Viewers cannot take over an agent\'s terminal. Ask an owner to make you an editor.',
  'agent.takeover': 'Only a workspace owner can take over a session someone else holds.',
  'terminal.input': 'Viewers can watch terminals but not type into them.'
}

export function can(role: MemberRole, action: Action): boolean {
  return ALLOWED[role].has(action)
}
