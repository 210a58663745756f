import { describe, expect, it } from 'vitest'
import { CloseLatch } from './CloseLatch.js'

describe('CloseLatch: a transport tells its end once', () => {
  it('[TRANSPORT-3] every listener hears the first end once; a second close (the peer\'s, after ours) changes nothing', () => {
    const latch = new CloseLatch()
    const heard: string[] = []
    latch.listen((code, reason) => heard.push(`a ${code} ${reason}`))
    latch.listen((code, reason) => heard.push(`b ${code} ${reason}`))
    expect(latch.closed).toBeNull()
    latch.close(4401, 'revoked')
    latch.close(1006, '')
    expect(heard).toEqual(['a 4401 revoked', 'b 4401 revoked'])
    expect(latch.closed).toEqual({ code: 4401, reason: 'revoked' })
  })

  it('[TRANSPORT-3] a listener added after the end hears it at once, with the first outcome', () => {
    const latch = new CloseLatch()
    latch.close(1000, 'bye')
    latch.close(1011, 'later')
    const heard: Array<[number, string]> = []
    latch.listen((code, reason) => heard.push([code, reason]))
    expect(heard).toEqual([[1000, 'bye']])
  })

  it('[TRANSPORT-3] a listener added by another while the end is being told hears it once, not twice', () => {
    const latch = new CloseLatch()
    const heard: number[] = []
    latch.listen(() => latch.listen((code) => heard.push(code)))
    latch.close(1012, 'restart')
    expect(heard).toEqual([1012])
  })
})
