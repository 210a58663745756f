/**
 * Where a browser keeps its seat in a workspace: the member credential the invite earned,
 * the instance id (so a reload is the same instance to the relay and keeps its lease) and
 * what the relay said about the member. Never in a query string or a shared doc.
 */
import type { SeatIdentity } from '../session/MemberSeat.js'

/** Who the member is (workspace, member id, name, role), plus what this browser keeps. */
export interface BrowserSeat extends SeatIdentity {
  credential: string
  relayUrl: string
  instanceId: string
}

export interface SeatStore {
  load(): BrowserSeat | null
  save(seat: BrowserSeat): void
  clear(): void
}

/** In memory only: gone with the page (tests, kiosks). */
export class MemorySeatStore implements SeatStore {
  private seat: BrowserSeat | null = null
  load(): BrowserSeat | null {
    return this.seat
  }
  save(seat: BrowserSeat): void {
    this.seat = { ...seat }
  }
  clear(): void {
    this.seat = null
  }
}

interface KeyValueStorage {
  getItem(key: string): string | null
  setItem(key: string, value: string): void
  removeItem(key: string): void
}

/** In the page's localStorage under one key, so a reload reconnects and "leave" removes it. */
export class LocalSeatStore implements SeatStore {
  constructor(
    private readonly storage: KeyValueStorage,
    private readonly key = 'orchard.seat'
  ) {}

  load(): BrowserSeat | null {
    const text = this.storage.getItem(this.key)
    if (!text) return null
    try {
      const value = JSON.parse(text) as Partial<BrowserSeat>
      // A value some other script (or an older page) left is ignored, not trusted.
      if (typeof value.credential !== 'string' || typeof value.relayUrl !== 'string' || typeof value.instanceId !== 'string') return null
      return value as BrowserSeat
    } catch {
      return null
    }
  }

  save(seat: BrowserSeat): void {
    this.storage.setItem(this.key, JSON.stringify(seat))
  }

  clear(): void {
    this.storage.removeItem(this.key)
  }
}
