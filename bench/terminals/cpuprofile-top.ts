// Top functions by self time in a V8 .cpuprofile (node --cpu-prof). Line numbers are
// 1-based as V8 reports them: for .ts files they are lines of tsx's transform, which keeps
// functions recognisable by name. Shares are of the non-idle sampled time.
//   npx tsx bench/terminals/cpuprofile-top.ts <file.cpuprofile> [top]
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
}
interface ProfileNode {
  id: number
  callFrame: CallFrame
}
export interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

export interface SelfRow {
  name: string
  where: string
  selfMs: number
  share: number
}

function where(url: string, line: number): string {
  if (!url) return ''
  const path = url.replace(/^file:\/\//, '')
  const short = path.includes('/node_modules/') ? path.slice(path.lastIndexOf('/node_modules/') + 14) : path.replace(/^.*?\/(packages|bench)\//, '$1/')
  return `${short}:${line + 1}`
}

/** Self time grouped by where the code lives, ms (non-idle samples only). */
export function selfByArea(profile: CpuProfile): Map<string, number> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const areas = new Map<string, number>()
  profile.samples.forEach((id, index) => {
    const frame = byId.get(id)?.callFrame
    if (!frame || frame.functionName === '(idle)') return
    const area = areaOf(frame)
    areas.set(area, (areas.get(area) ?? 0) + (profile.timeDeltas[index] ?? 0) / 1000)
  })
  return areas
}

function areaOf(frame: CallFrame): string {
  const url = frame.url
  if (frame.functionName === '(garbage collector)') return 'garbage collector'
  if (!url) return frame.functionName === 'writev' || frame.functionName === 'writeBuffer' || frame.functionName === 'writeUtf8String' ? 'socket writes (native)' : 'other native / (program)'
  if (url.includes('/packages/relay/')) return 'relay code (packages/relay)'
  if (url.includes('/packages/protocol/')) return 'frame codec (packages/protocol)'
  if (url.includes('/packages/')) return 'other Orchard packages'
  if (url.includes('/lib0/')) return 'lib0 (encoder/decoder)'
  if (url.includes('/node_modules/ws/')) return 'ws library'
  if (url.includes('/yjs/') || url.includes('/y-protocols/')) return 'yjs'
  if (url.includes('better-sqlite3')) return 'sqlite'
  if (url.startsWith('node:internal/modules') || url.includes('/tsx/') || url.includes('esbuild') || url.startsWith('node:internal/bootstrap') || url.includes('cjs-module-lexer')) return 'module loading (startup)'
  if (url.startsWith('node:')) return 'node internals (streams, events, ...)'
  if (url.includes('/bench/')) return 'bench code (probe, raw server)'
  return 'other'
}

/** Non-idle sampled time of the main thread, ms. */
export function busyMsOf(profile: CpuProfile): number {
  const idle = new Set(profile.nodes.filter((node) => node.callFrame.functionName === '(idle)').map((node) => node.id))
  let us = 0
  profile.samples.forEach((id, index) => {
    if (!idle.has(id)) us += profile.timeDeltas[index] ?? 0
  })
  return us / 1000
}

export function topSelf(profile: CpuProfile, top: number): SelfRow[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const self = new Map<string, { name: string; where: string; us: number }>()
  let total = 0
  profile.samples.forEach((id, index) => {
    const node = byId.get(id)
    if (!node) return
    const us = profile.timeDeltas[index] ?? 0
    const name = node.callFrame.functionName || '(anonymous)'
    if (name === '(idle)') return
    total += us
    const location = where(node.callFrame.url, node.callFrame.lineNumber)
    const key = `${name}@${location}`
    const row = self.get(key) ?? { name, where: location, us: 0 }
    row.us += us
    self.set(key, row)
  })
  return [...self.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((row) => ({ name: row.name, where: row.where, selfMs: row.us / 1000, share: row.us / total }))
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2]
  if (!file) {
    console.error('usage: cpuprofile-top.ts <file.cpuprofile> [top]')
    process.exit(2)
  }
  for (const row of topSelf(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(process.argv[3] ?? 25))) {
    console.log(`${row.selfMs.toFixed(0).padStart(8)} ms ${(row.share * 100).toFixed(1).padStart(5)}%  ${row.name}  ${row.where}`)
  }
}
