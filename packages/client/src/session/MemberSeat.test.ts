import { REFUSALS, type MemberRole, type WelcomeFields } from '@orchard/protocol'
import { WriteRefusedError } from '@orchard/workspace/browser'
import { ObservableV2 } from 'lib0/observable'
import { describe, expect, it } from 'vitest'
import type { RelayProviderEvents } from '../RelayProvider.js'
import { MemberSeat, type SeatIdentity } from './MemberSeat.js'

type Seat = SeatIdentity & { credential: string }

/** Stands in for the provider: the seat only listens to its WELCOME and EVENT news. */
function harness(initial: Partial<Seat> = {}) {
  const relay = new ObservableV2<Pick<RelayProviderEvents, 'welcome' | 'event'>>()
  const saved: Seat[] = []
  const roles: MemberRole[] = []
  const seat = new MemberSeat<Seat>(relay, { workspaceId: 'w1', memberId: '', name: '', role: 'viewer', credential: 'orc_m.keep', ...initial }, (value) => saved.push(value))
  seat.on('role', (role) => roles.push(role))
  const welcome = (fields: Partial<WelcomeFields>) =>
    relay.emit('welcome', [{ workspaceId: 'w1', memberId: 'm1', memberName: 'Ana', role: 'viewer', instanceId: 'i1', limits: {} as WelcomeFields['limits'], server: 'test', ...fields }])
  return { relay, seat, saved, roles, welcome }
}

describe('MemberSeat: who this session is, as the relay last said', () => {
  it('[SESSION-3] a WELCOME sets member id, name and role, keeps what the platform added, and saves the seat', () => {
    const { seat, saved, roles, welcome } = harness()
    welcome({ workspaceId: 'w2', memberId: 'm7', memberName: 'Bo', role: 'editor' })
    expect(seat.value).toEqual({ workspaceId: 'w2', memberId: 'm7', name: 'Bo', role: 'editor', credential: 'orc_m.keep' })
    expect(seat.role).toBe('editor')
    expect(saved).toEqual([seat.value])
    expect(roles).toEqual(['editor'])
  })

  it('[SESSION-3] an owner\'s role change arrives live as a `role` event; the same role again is saved but not announced', () => {
    const { relay, seat, saved, roles, welcome } = harness({ role: 'editor' })
    welcome({ role: 'editor' })
    expect(roles).toEqual([])
    relay.emit('event', [{ type: 'role-changed', role: 'viewer' }])
    relay.emit('event', [{ type: 'role-changed', role: 'viewer' }])
    relay.emit('event', [{ type: 'role-changed' }])
    relay.emit('event', [{ type: 'lease-lost', role: 'owner' }])
    expect(seat.role).toBe('viewer')
    expect(roles).toEqual(['viewer'])
    expect(saved.map((value) => value.role)).toEqual(['editor', 'viewer', 'viewer'])
  })

  it('[ROLE-3] what the role forbids is refused with the relay\'s own words and the code asked for; what it allows passes', () => {
    const { relay, seat } = harness({ role: 'viewer' })
    expect(() => seat.refuseUnless('doc.write', 'read-only')).toThrow(expect.objectContaining({ name: 'WriteRefusedError', message: REFUSALS['doc.write'], code: 'read-only' }))
    const refused = (() => {
      try {
        seat.refuseUnless('terminal.input')
      } catch (error) {
        return error
      }
    })()
    expect(refused).toBeInstanceOf(WriteRefusedError)
    expect(refused).toMatchObject({ message: REFUSALS['terminal.input'], code: 'forbidden' })
    relay.emit('event', [{ type: 'role-changed', role: 'editor' }])
    expect(() => seat.refuseUnless('doc.write')).not.toThrow()
    expect(() => seat.refuseUnless('agent.takeover')).toThrow(REFUSALS['agent.takeover'])
  })
})
