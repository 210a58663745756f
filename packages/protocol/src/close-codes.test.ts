import { describe, expect, it } from 'vitest'
import { CloseCode, ERROR_CODES, isErrorCode, isRetryableClose } from './index.js'

describe('close codes and error codes', () => {
  it('[WIRE-17] has the fixed close code values', () => {
    expect(CloseCode).toStrictEqual({
      normal: 1000, tryAgain: 1013, badRequest: 4400, unauthorized: 4401, forbidden: 4403, notFound: 4404,
      tooLarge: 4413, rateLimited: 4429, versionMismatch: 4426, replaced: 4409
    })
  })

  it('[WIRE-17] retries everything except 1000 and 4400-4499', () => {
    for (const code of [1000, 4400, 4401, 4403, 4404, 4409, 4413, 4426, 4429, 4499]) expect(isRetryableClose(code), String(code)).toBe(false)
    for (const code of [1001, 1006, 1011, 1012, 1013, 3000, 4000, 4399, 4500, 4999]) expect(isRetryableClose(code), String(code)).toBe(true)
  })

  it('[WIRE-18] lists the seventeen error codes and recognises exactly them', () => {
    expect(ERROR_CODES).toStrictEqual([
      'bad-frame', 'unknown-kind', 'unsupported-version', 'unauthorized', 'forbidden', 'read-only', 'too-large',
      'rate-limited', 'not-found', 'invalid-params', 'stale-epoch', 'not-holder', 'host-offline', 'host-error',
      'conflict', 'timeout', 'internal'
    ])
    for (const code of ERROR_CODES) expect(isErrorCode(code)).toBe(true)
    for (const code of ['', 'Bad-Frame', 'teapot', 'internal ']) expect(isErrorCode(code)).toBe(false)
  })
})
