import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { coreWith } from './harness.js'

describe('a hook that throws', () => {
  it('[HOOK-5] is logged and ignored; the connection and the relay carry on', async () => {
    const errors: string[] = []
    const boom = () => {
      throw new Error('hook exploded')
    }
    const { core, connect } = await coreWith({ onConnect: boom, afterPersist: boom, onActivity: boom }, errors)
    const a = connect('a')
    const b = connect('b')
    await Promise.all([a.whenSynced(), b.whenSynced()])
    ;(a.docs.workspace as Y.Doc).getMap('m').set('still', 'works')
    await a.whenPersisted()
    expect(errors.some((line) => line.includes('hook onConnect') && line.includes('hook exploded'))).toBe(true)
    expect(errors.some((line) => line.includes('hook afterPersist'))).toBe(true)
    expect(a.status).toBe('connected')
    a.destroy()
    b.destroy()
    await core.close()
  })
})
