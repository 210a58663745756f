import { describe, expect, it } from 'vitest'
import { SessionError as BrowserSessionError } from '../browser.js'
import { SessionError as NodeSessionError } from '../index.js'
import { SessionError } from './SessionError.js'

describe('SessionError: why a join or open failed, in words', () => {
  it('[SESSION-1] [BROWSER-1] a refusal carries the relay\'s sentence as message, its reason as code (else "refused") and its close code', () => {
    const used = SessionError.refused({ code: 4401, reason: 'invite-used-up', message: 'This invite has been used as many times as it allows.' })
    expect(used).toBeInstanceOf(Error)
    expect(used).toMatchObject({ name: 'SessionError', code: 'invite-used-up', closeCode: 4401, message: 'This invite has been used as many times as it allows.' })
    expect(SessionError.refused({ code: 4403, reason: '', message: 'No.' })).toMatchObject({ code: 'refused', closeCode: 4403, message: 'No.' })
  })

  it('[SESSION-1] [BROWSER-1] the Node and browser entries export one class, so `instanceof` holds whichever an app imported', () => {
    expect(NodeSessionError).toBe(SessionError)
    expect(BrowserSessionError).toBe(SessionError)
  })
})
