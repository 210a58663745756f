import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { formatCredential, formatInvite, isInviteToken, parseCredential, parseInvite } from './tokens.js'

describe('pasteable tokens', () => {
  it('[WIRE-19] credentials and invites round-trip, and garbage parses as undefined', () => {
    const credential = { workspaceId: 'ws_1', memberId: 'm-2', secret: 'S3cr_t' }
    expect(parseCredential(formatCredential(credential))).toEqual(credential)
    const invite = { relay: 'ws://127.0.0.1:4455', workspaceId: 'ws_1', inviteId: 'inv', secret: 'shh' }
    const token = formatInvite(invite)
    expect(token.startsWith('orchard-invite:')).toBe(true)
    expect(isInviteToken(`  ${token} `)).toBe(true)
    expect(parseInvite(` ${token}\n`)).toEqual({ v: 1, ...invite })
    expect(parseInvite(token.slice(0, -4))).toBeUndefined()
    expect(parseInvite('orchard-invite:!!!')).toBeUndefined()
    expect(parseCredential('orc_m.a.b')).toBeUndefined()
    expect(parseCredential('orc_m.a.b.c.d')).toBeUndefined()
    fc.assert(
      fc.property(fc.string(), (text) => {
        expect(() => parseInvite(text)).not.toThrow()
        expect(() => parseInvite('orchard-invite:' + text)).not.toThrow()
        expect(() => parseCredential(text)).not.toThrow()
      })
    )
  })
})
