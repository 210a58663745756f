/**
 * WIRE-19, strictly: exactly the documented shapes parse. (Written to kill mutants the
 * round-trip test let live: a missing prefix check, standard base64 accepted, invalid UTF-8
 * turned into U+FFFD.)
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fuzzParams } from '../src/testing/index.js'
import { formatCredential, formatInvite, parseCredential, parseInvite } from '../src/tokens.js'

const invite = { relay: 'ws://127.0.0.1:4455', workspaceId: 'ws_1', inviteId: 'inv', secret: 'shh' }
const payloadOf = (token: string) => token.slice('orchard-invite:'.length)
const base64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url')

describe('pasteable tokens, strictly', () => {
  it('[WIRE-19] only the orc_m. prefix makes a credential, only orchard-invite: an invite', () => {
    expect(parseCredential('orc_x.ws.m.s')).toBeUndefined()
    expect(parseCredential('xorc_m.ws.m.s')).toBeUndefined()
    expect(parseCredential('orc_m.ws.m.s')).toEqual({ workspaceId: 'ws', memberId: 'm', secret: 's' })
    const token = formatInvite(invite)
    expect(parseInvite(`orchard-invitE:${payloadOf(token)}`)).toBeUndefined()
    expect(parseInvite(`xrchard-invite:${payloadOf(token)}`)).toBeUndefined()
  })

  it('[WIRE-19] invites are base64url with no padding for any content, and round-trip', () => {
    fc.assert(
      fc.property(fc.record({ relay: fc.string({ unit: 'grapheme' }), workspaceId: fc.string(), inviteId: fc.string({ unit: 'binary' }), secret: fc.string() }), (fields) => {
        // Lone surrogates cannot survive UTF-8; the token format is for well-formed text.
        fc.pre(!/\p{Cs}/u.test(Object.values(fields).join('')))
        const token = formatInvite(fields)
        expect(token).toMatch(/^orchard-invite:[A-Za-z0-9_-]*$/)
        expect(parseInvite(token)).toEqual({ v: 1, ...fields })
      }),
      fuzzParams(100)
    )
    // Payload lengths that need one and two padding characters in standard base64.
    for (const secret of ['a', 'ab', 'abc', '>>>?', '???>']) {
      const token = formatInvite({ ...invite, secret })
      expect(token).not.toContain('=')
      expect(parseInvite(token)?.secret).toBe(secret)
    }
  })

  it('[WIRE-19] standard base64 (+ / =) or stray characters in the payload parse as undefined', () => {
    const token = formatInvite({ ...invite, secret: '>>>???' }) // payload holds - and _
    const payload = payloadOf(token)
    expect(payload).toMatch(/[-_]/)
    const standard = payload.replace(/-/g, '+').replace(/_/g, '/')
    expect(parseInvite(`orchard-invite:${standard}`)).toBeUndefined()
    expect(parseInvite(`orchard-invite:${payload}==`)).toBeUndefined()
    expect(parseInvite(`orchard-invite:${payload.slice(0, 4)} ${payload.slice(4)}`)).toBeUndefined()
  })

  it('[WIRE-19] a payload that is not valid UTF-8 parses as undefined, even inside a string', () => {
    const json = new TextEncoder().encode(JSON.stringify({ v: 1, ...invite, secret: 'XX' }))
    const at = Buffer.from(json).indexOf('XX')
    const broken = Uint8Array.from(json)
    broken[at] = 0xff // an invalid UTF-8 byte inside the secret's string
    expect(parseInvite(`orchard-invite:${base64url(broken)}`)).toBeUndefined()
    expect(parseInvite(`orchard-invite:${base64url(json)}`)?.secret).toBe('XX')
  })

  it('[WIRE-19] a credential round-trips for any dot-free parts', () => {
    const part = fc.string({ minLength: 1 }).filter((text) => !text.includes('.'))
    fc.assert(
      fc.property(part, part, part, (workspaceId, memberId, secret) => {
        expect(parseCredential(formatCredential({ workspaceId, memberId, secret }))).toEqual({ workspaceId, memberId, secret })
      }),
      fuzzParams(200)
    )
  })
})
