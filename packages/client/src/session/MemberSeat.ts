/**
 * Who this session is in the workspace, as the relay last said: workspace, member id, name
 * and role, updated live from the relay's WELCOME and its role-changed events (SESSION-3)
 * and kept where the platform keeps a seat (projects.json, a browser's SeatStore). Actions
 * the role forbids are refused here, before they touch anything, in the relay's own words
 * (ROLE-3).
 */
import { REFUSALS, can, type MemberRole, type WelcomeFields } from '@orchard/protocol'
import { WriteRefusedError } from '@orchard/workspace/browser'
import { ObservableV2 } from 'lib0/observable'
import type { RelayProviderEvents } from '../RelayProvider.js'

/** What every seat holds; a platform's seat may hold more (the relay URL, the credential). */
export interface SeatIdentity {
  workspaceId: string
  memberId: string
  name: string
  role: MemberRole
}

/** Something the role may forbid (`can` in @orchard/protocol). */
export type RoleAction = Parameters<typeof can>[1]

/** The provider's events a seat follows (a RelayProvider is one). */
export type SeatSource = ObservableV2<Pick<RelayProviderEvents, 'welcome' | 'event'>>

export type MemberSeatEvents = {
  /** The role changed (not emitted when the relay repeats the same role). */
  role: (role: MemberRole) => void
}

export class MemberSeat<T extends SeatIdentity> extends ObservableV2<MemberSeatEvents> {
  private seat: T

  /** `save` keeps the seat each time the relay says who we are (even unchanged). */
  constructor(
    source: SeatSource,
    initial: T,
    private readonly save: (seat: T) => void
  ) {
    super()
    this.seat = initial
    source.on('welcome', (welcome) => this.adopt(welcome))
    source.on('event', (event) => {
      if (event.type === 'role-changed' && typeof event.role === 'string') this.setRole(event.role as MemberRole)
    })
  }

  /** The seat as it stands now. */
  get value(): T {
    return this.seat
  }

  get role(): MemberRole {
    return this.seat.role
  }

  /** Throws the relay's refusal (a WriteRefusedError with `code`) unless the role allows `action`. */
  refuseUnless(action: RoleAction, code = 'forbidden'): void {
    if (!can(this.seat.role, action)) throw new WriteRefusedError(REFUSALS[action], code)
  }

  private adopt(welcome: WelcomeFields): void {
    this.seat = { ...this.seat, workspaceId: welcome.workspaceId, memberId: welcome.memberId, name: welcome.memberName }
    this.setRole(welcome.role)
  }

  private setRole(role: MemberRole): void {
    const changed = role !== this.seat.role
    this.seat = { ...this.seat, role }
    this.save(this.seat)
    if (changed) this.emit('role', [role])
  }
}
