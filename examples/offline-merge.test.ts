import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { builtEnv, repoRoot as root } from '../scripts/built-packages.js'

describe('examples/offline-merge', () => {
  it('[MERGE-1] two replicas edited apart merge every edit into identical files', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'examples/offline-merge.ts'], { cwd: root, env: builtEnv(), encoding: 'utf8', timeout: 30_000 })
    const after = out.slice(out.indexOf('After merging'))
    expect(after).toContain('Pear (laptop rename)')
    expect(after).toContain('incidents, on-call')
    expect(after).toContain('PagerDuty')
    expect(after).toContain('Website')
    expect(after).not.toContain('release-notes')
    expect(out).toContain('Both replicas identical: true')
  }, 40_000)
})
