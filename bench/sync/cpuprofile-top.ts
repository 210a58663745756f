// Summarizes a V8 .cpuprofile (node --cpu-prof): top functions by self time and by
// inclusive time, with file:line. Positions in .ts files run through tsx are columns in
// tsx's one-line transform; they are mapped back to TypeScript lines through the source
// maps tsx keeps in its cache ($TMPDIR/tsx-<uid>/), choosing the newest cached transform
// of that file not newer than the profile.
//   npx tsx bench/sync/cpuprofile-top.ts <file.cpuprofile> [--top 25] [--filter relay/src] [--from-ms N] [--to-ms N]
// --from-ms/--to-ms keep only samples in that window (ms since the profile started).
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { REPO_ROOT } from './proc.js'

interface CallFrame { functionName: string; url: string; lineNumber: number; columnNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface Profile { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

/** Decodes source-map v3 mappings to, per generated line, sorted [genCol, srcLine] pairs (0-based). */
function decodeMappings(mappings: string): Array<Array<[number, number]>> {
  const lines: Array<Array<[number, number]>> = []
  let srcLine = 0
  for (const lineStr of mappings.split(';')) {
    const segs: Array<[number, number]> = []
    let genCol = 0
    for (const seg of lineStr.split(',')) {
      if (!seg) continue
      const vals: number[] = []
      let shift = 0
      let value = 0
      for (const ch of seg) {
        const d = B64.indexOf(ch)
        value += (d & 31) << shift
        if (d & 32) shift += 5
        else {
          vals.push(value & 1 ? -(value >>> 1) : value >>> 1)
          value = 0
          shift = 0
        }
      }
      genCol += vals[0] ?? 0
      if (vals.length >= 4) {
        srcLine += vals[2]!
        segs.push([genCol, srcLine])
      }
    }
    lines.push(segs)
  }
  return lines
}

const mapCache = new Map<string, Array<Array<[number, number]>> | null>()
let tsxEntries: Array<{ file: string; mtime: number; source: string }> | null = null

function tsxCacheIndex(notAfter: number): Array<{ file: string; mtime: number; source: string }> {
  if (tsxEntries) return tsxEntries
  tsxEntries = []
  const dir = join(tmpdir(), `tsx-${userInfo().uid}`)
  let names: string[] = []
  try {
    names = readdirSync(dir)
  } catch {
    return tsxEntries
  }
  for (const n of names) {
    const file = join(dir, n)
    try {
      const st = statSync(file)
      if (!st.isFile() || st.mtimeMs > notAfter) continue
      const text = readFileSync(file, 'utf8')
      const m = /"sources":\["([^"]+)"\]/.exec(text.slice(-4000))
      if (m?.[1]) tsxEntries.push({ file, mtime: st.mtimeMs, source: m[1] })
    } catch { /* not an entry */ }
  }
  return tsxEntries
}

function mappedLine(path: string, genLine: number, genCol: number, notAfter: number): number | null {
  if (!mapCache.has(path)) {
    const candidates = tsxCacheIndex(notAfter).filter((e) => e.source === path).sort((a, b) => b.mtime - a.mtime)
    let decoded: Array<Array<[number, number]>> | null = null
    const newest = candidates[0]
    if (newest) {
      try {
        const j = JSON.parse(readFileSync(newest.file, 'utf8')) as { map?: { mappings?: string } }
        if (j.map?.mappings) decoded = decodeMappings(j.map.mappings)
      } catch { /* unreadable */ }
    }
    mapCache.set(path, decoded)
  }
  const segs = mapCache.get(path)?.[genLine]
  if (!segs || segs.length === 0) return null
  let best: [number, number] | undefined
  for (const s of segs) {
    if (s[0] <= genCol) best = s
    else break
  }
  return (best ?? segs[0]!)[1] + 1
}

function where(cf: CallFrame, notAfter: number): string {
  if (!cf.url) return ''
  let path = cf.url
  if (path.startsWith('file://')) path = fileURLToPath(path)
  let line = cf.lineNumber + 1
  if (path.endsWith('.ts')) line = mappedLine(path, cf.lineNumber, cf.columnNumber, notAfter) ?? line
  const rel = path.startsWith(REPO_ROOT) ? relative(REPO_ROOT, path) : path
  return `${rel.replace(/^node_modules\/\.pnpm\/[^/]+\/node_modules\//, '')}:${line}`
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      top: { type: 'string', default: '25' },
      filter: { type: 'string' },
      'from-ms': { type: 'string', default: '0' },
      'to-ms': { type: 'string' }
    }
  })
  const [file] = positionals
  if (!file) throw new Error('usage: cpuprofile-top.ts <file.cpuprofile> [--top 25] [--filter substr] [--from-ms N] [--to-ms N]')
  const top = Number(values.top)
  const filter = values.filter
  const fromMs = Number(values['from-ms'])
  const toMs = values['to-ms'] === undefined ? Number.POSITIVE_INFINITY : Number(values['to-ms'])
  const notAfter = statSync(file).mtimeMs + 1000
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const selfUs = new Map<number, number>()
  let t = 0
  let total = 0
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0
    const ms = t / 1000
    if (ms < fromMs || ms > toMs) continue
    const dt = p.timeDeltas[i + 1] ?? 0 // the time until the next sample is spent where this sample landed
    selfUs.set(p.samples[i]!, (selfUs.get(p.samples[i]!) ?? 0) + dt)
    total += dt
  }
  const key = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'}\t${where(n.callFrame, notAfter)}`
  const self = new Map<string, number>()
  const incl = new Map<string, number>()
  let idle = 0
  let gc = 0
  let program = 0
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!
    const name = n.callFrame.functionName
    if (name === '(idle)') idle += us
    else if (name === '(garbage collector)') gc += us
    else if (name === '(program)') program += us
    const k = key(n)
    self.set(k, (self.get(k) ?? 0) + us)
    const seen = new Set<string>()
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const kk = key(byId.get(cur)!)
      if (seen.has(kk)) continue
      seen.add(kk)
      incl.set(kk, (incl.get(kk) ?? 0) + us)
    }
  }
  const busy = total - idle
  const ms = (us: number) => (us / 1000).toFixed(1)
  const pct = (us: number) => `${((100 * us) / busy).toFixed(1)} %`
  process.stdout.write(`${file}: ${ms(total)} ms profiled, busy (not idle) ${ms(busy)} ms; GC ${ms(gc)} ms (${pct(gc)}), (program) ${ms(program)} ms (${pct(program)})\n\n`)
  const rows = (m: Map<string, number>, title: string) => {
    process.stdout.write(`| ${title} ms | % of busy | function | where |\n|---|---|---|---|\n`)
    const list = [...m].filter(([k]) => !k.startsWith('(idle)') && !k.startsWith('(root)') && (!filter || k.includes(filter))).sort((a, b) => b[1] - a[1]).slice(0, top)
    for (const [k, us] of list) {
      const [fn, w] = k.split('\t')
      process.stdout.write(`| ${ms(us)} | ${pct(us)} | \`${fn}\` | ${w ? `\`${w}\`` : ''} |\n`)
    }
    process.stdout.write('\n')
  }
  rows(self, 'self')
  rows(incl, 'inclusive')
}

main()
