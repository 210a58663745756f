import { beforeAll, describe, expect, it } from 'vitest'
import { runExample, type ExampleRun } from './run-example.js'

let run: ExampleRun

function section(title: string): string {
  const start = run.out.indexOf(title)
  expect(start, `no "${title}" in:\n${run.out}`).toBeGreaterThanOrEqual(0)
  const next = run.out.slice(start + title.length).search(/\n\d\. /)
  return next < 0 ? run.out.slice(start) : run.out.slice(start, start + title.length + next)
}

describe('examples/two-instances (relay + three instance processes)', () => {
  beforeAll(async () => {
    run = await runExample('examples/two-instances.ts', 30_000)
  }, 40_000)

  it('[SESSION-1] B joins by invite in its own process, sees the owner\'s projects and keeps its credential in its projects.json', () => {
    expect(run.code, run.out).toBe(0)
    const join = section('2. B joins with the editor invite')
    expect(join).toContain('B (editor, connected) sees 3 projects')
    expect(join).toContain('B sees the same projects as A.')
    const live = section('3. Live edits both ways')
    expect(live).toMatch(/B sees both:\n.*\n.*\n.*\n\s+- Website 2\.0\s+channels: general, launch/)
    expect(live).toMatch(/A sees it:\n\s+A \(owner, connected\) sees 4 projects:[\s\S]*- Mobile/)
    expect(run.out).toMatch(/B's projects\.json has the 4 merged projects and its own credential \(relayWorkspace\.authKey = orc_m\./)
    expect(run.out).toContain('Done in')
  })

  it('[PROVIDER-1] edits made while B is disconnected merge on both sides after it reconnects; both views are identical', () => {
    expect(run.code, run.out).toBe(0)
    const offline = section('4. B goes offline; both edit; B comes back')
    expect(offline).toContain('B disconnected (provider.disconnect(); status: disconnected)')
    expect(offline).toContain('B reconnected (provider.connect(); status: connected)')
    const merged = offline.slice(offline.indexOf('After reconnecting'))
    for (const edit of ['Infra (renamed by A)', 'design', 'mode: relayfile', 'Sentry']) expect(merged.split(edit).length - 1, edit).toBe(2)
    expect(offline).toContain('A and B views are identical.')
  })

  it('[ROLE-3] a viewer\'s edit is refused with the relay\'s message; its view and the others\' are unchanged', () => {
    expect(run.code, run.out).toBe(0)
    const viewer = section('5. A viewer cannot change anything')
    expect(viewer).toContain('C (viewer, connected) sees 4 projects')
    expect(viewer).toContain('WriteRefusedError (read-only): Viewers can read this workspace but not change it. Ask an owner to make you an editor.')
    expect(viewer).toContain('C\'s view is unchanged; A and B are unaffected')
    const projectLines = run.out.split('\n').filter((line) => line.trimStart().startsWith('- '))
    expect(projectLines.filter((line) => line.includes('from-viewer'))).toEqual([])
    expect(run.out).toContain('Relay stopped gracefully on SIGTERM (exit code 0).')
  })
})
