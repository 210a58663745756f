import { describe, expect, it } from 'vitest'
import { TerminalMirror } from './TerminalMirror.js'

const bytes = (text: string) => new TextEncoder().encode(text)

describe('TerminalMirror', () => {
  it('[TERM-4] a snapshot is the screen at an exact byte offset: everything before, nothing after', async () => {
    const mirror = new TerminalMirror(40, 5)
    mirror.write(bytes('first line\r\n\x1b[31mred\x1b[0m'))
    const at = mirror.snapshot()
    mirror.write(bytes(' written after the request'))
    const snapshot = await at
    expect(snapshot.offset).toBe(bytes('first line\r\n\x1b[31mred\x1b[0m').byteLength)
    expect(snapshot).toMatchObject({ cols: 40, rows: 5 })
    expect(snapshot.data).toContain('first line')
    expect(snapshot.data).toContain('\x1b[31mred')
    expect(snapshot.data).not.toContain('written after')
    const later = await mirror.snapshot()
    expect(later.data).toContain('written after')
    // Replaying a snapshot into a fresh terminal reproduces the screen.
    const replay = new TerminalMirror(40, 5)
    replay.write(bytes(later.data))
    expect((await replay.snapshot()).data).toBe(later.data)
    mirror.dispose()
    replay.dispose()
  })

  it('[TERM-7] a resize changes the snapshot\'s size', async () => {
    const mirror = new TerminalMirror()
    mirror.resize(132, 40)
    expect(await mirror.snapshot()).toMatchObject({ cols: 132, rows: 40 })
    mirror.dispose()
  })
})
