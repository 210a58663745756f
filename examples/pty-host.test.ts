import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { builtEnv, repoRoot as root } from '../scripts/built-packages.js'

describe('examples/pty-host', () => {
  it('[TERM-2] [INPUT-1] one real PTY: the holder types, a viewer is refused, a late viewer catches up from a snapshot', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'examples/pty-host.ts'], { cwd: root, env: builtEnv(), encoding: 'utf8', timeout: 60_000 })
    expect(out).toContain('hello from Ben: 42')
    expect(out).toContain('WriteRefusedError: Viewers can watch terminals but not type into them.')
    expect(out).toMatch(/Dee skipped [\d,]+ bytes of history/)
    expect(out).toContain('OUTPUT-DONE')
    expect(out).toContain('Done: one PTY, four instances, only the holder typed.')
  }, 70_000)
})
