// Attributes the rooms scenario's "heap per loaded doc" to object kinds: starts one target,
// loads N rooms exactly as scenario 3 does, and takes a V8 heap snapshot of the server
// before and after (node's --heapsnapshot-signal, so the server code is untouched), then
// prints which constructors / string / array kinds grew, per room.
//
//   npx tsx bench/sync/heap-diff.ts [--target orchard] [--rooms 100] [--top 40]
//
// Slow (two snapshots of the server, ~20-40 MB each) and for diagnosis only: the figures
// the report keeps come from run.ts.
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { closeAll } from './client.js'
import { sleep } from './proc.js'
import { Rooms, endpointsFor, loadRooms } from './scenarios.js'

const { values } = parseArgs({
  options: {
    target: { type: 'string', default: 'orchard' },
    rooms: { type: 'string', default: '100' },
    top: { type: 'string', default: '40' },
  },
})
// Read by targets.ts when it loads, hence the dynamic import below (orchard targets only).
const snapDir = mkdtempSync(join(tmpdir(), 'orchard-heapdiff-'))
const SIGNAL = 'SIGPWR'
process.env.ORCHARD_BENCH_RELAY_NODE_FLAGS = `${process.env.ORCHARD_BENCH_RELAY_NODE_FLAGS ?? ''} --heapsnapshot-signal=${SIGNAL} --diagnostic-dir=${snapDir}`
const { ALL_TARGETS } = await import('./targets.js')
const count = Number(values.rooms)
const top = Number(values.top)
const target = ALL_TARGETS.find((t) => t.name === values.target)
if (!target) throw new Error(`unknown target ${values.target}; one of ${ALL_TARGETS.map((t) => t.name).join(', ')}`)

async function snapshot(pid: number): Promise<string> {
  const before = new Set(readdirSync(snapDir))
  process.kill(pid, SIGNAL)
  const deadline = Date.now() + 120_000
  for (;;) {
    if (Date.now() > deadline) throw new Error('no heap snapshot within 120 s')
    await sleep(250)
    const fresh = readdirSync(snapDir).filter((f) => f.endsWith('.heapsnapshot') && !before.has(f))
    if (fresh.length === 0) continue
    const file = join(snapDir, fresh[0]!)
    const size = statSync(file).size
    await sleep(1000)
    // Written in one go; done when the size stops moving and the JSON closes.
    if (existsSync(file) && statSync(file).size === size && size > 0 && readFileSync(file, 'utf8').trimEnd().endsWith('}')) return file
  }
}

interface Kind { count: number; bytes: number }

function kinds(file: string): Map<string, Kind> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }
    nodes: number[]
    strings: string[]
  }
  const fields = snap.snapshot.meta.node_fields
  const types = snap.snapshot.meta.node_types[0]
  const nf = fields.length
  const iType = fields.indexOf('type')
  const iName = fields.indexOf('name')
  const iSize = fields.indexOf('self_size')
  const out = new Map<string, Kind>()
  for (let i = 0; i < snap.nodes.length; i += nf) {
    const type = types[snap.nodes[i + iType]!]!
    const name = snap.strings[snap.nodes[i + iName]!]!
    // Strings and code are grouped by type: their "names" are their contents.
    const key = type === 'object' || type === 'closure' ? `${type}:${name}` : type === 'native' ? `native:${name.slice(0, 40)}` : type
    const k = out.get(key) ?? { count: 0, bytes: 0 }
    k.count++
    k.bytes += snap.nodes[i + iSize]!
    out.set(key, k)
  }
  return out
}

const rt = await target.start()
try {
  const rooms = new Rooms(42)
  const warm = await loadRooms(await endpointsFor(rt, rooms, 20, 'warm'))
  await closeAll(warm)
  const eps = await endpointsFor(rt, rooms, count, 'room')
  await sleep(8000) // the warm-up rooms unload 5 s after their client left
  const baseFile = await snapshot(rt.pid)
  const clients = await loadRooms(eps)
  await sleep(200)
  const loadedFile = await snapshot(rt.pid)
  await closeAll(clients)
  const base = kinds(baseFile)
  const loaded = kinds(loadedFile)
  const rows: { key: string; dCount: number; dBytes: number }[] = []
  let total = 0
  for (const key of new Set([...base.keys(), ...loaded.keys()])) {
    const b = base.get(key) ?? { count: 0, bytes: 0 }
    const l = loaded.get(key) ?? { count: 0, bytes: 0 }
    total += l.bytes - b.bytes
    rows.push({ key, dCount: l.count - b.count, dBytes: l.bytes - b.bytes })
  }
  rows.sort((a, b) => b.dBytes - a.dBytes)
  process.stdout.write(`${target.name}: ${count} rooms, heap snapshot self sizes grew ${(total / 1024).toFixed(1)} KiB = ${(total / count / 1024).toFixed(2)} KiB per room\n`)
  process.stdout.write(`snapshots: ${baseFile} ${loadedFile}\n\n| kind | objects per room | bytes per room |\n| --- | ---: | ---: |\n`)
  for (const r of rows.slice(0, top)) process.stdout.write(`| ${r.key} | ${(r.dCount / count).toFixed(2)} | ${(r.dBytes / count).toFixed(0)} |\n`)
} finally {
  await rt.stop()
}
