// The web observer in Debian's Chromium against a real relay, beside baselines measured in
// the same run on this machine:
//   1. opening the invite link -> the first terminal frame painted (and a reload with the
//      stored seat), beside a Node client joining and receiving its first terminal byte;
//   2. terminal bytes per second drawn by the page, beside xterm.js writing the same bytes
//      in the same browser with no network (the ceiling);
//   3. the page's JS heap and DOM nodes after a chatty agent (10 minutes; --quick: 20 s),
//      beside the same page just after joining.
//   npx tsx bench/observer/run.ts [--quick] [--runs N] [--minutes M]
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { parseArgs } from 'node:util'
import type { Page } from 'playwright-core'
import { WorkspaceSession } from '@orchard/client'
import { ensureObserverBuilt } from '../../packages/observer/test/harness/build.js'
import { chromiumMissing, launchChromium } from '../../packages/observer/test/harness/chromium.js'
import { ScriptedBroker, startHost } from '../../packages/observer/test/harness/host.js'
import { startObserverRelay } from '../../packages/observer/test/harness/relay.js'
import { median, table } from '../stats.js'
import { chattyChunk } from './chatty.js'

const { values: flags } = parseArgs({ options: { quick: { type: 'boolean' }, runs: { type: 'string' }, minutes: { type: 'string' } } })
const quick = flags.quick ?? false
const config = {
  runs: Number(flags.runs ?? (quick ? 3 : 5)),
  throughputBytes: quick ? 4 * 1024 * 1024 : 16 * 1024 * 1024,
  chunkBytes: 16 * 1024,
  chatMs: flags.minutes ? Number(flags.minutes) * 60_000 : quick ? 20_000 : 10 * 60_000,
  /** A chatty agent: this much every 50 ms (160 KiB/s). */
  chatBytesPerTick: 8 * 1024
}
const out = (text = '') => console.log(text)
const fmt = (n: number, digits = 0) => n.toFixed(digits)
const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1)

const missing = chromiumMissing()
if (missing) {
  console.error(missing)
  process.exit(1)
}

const [dist, browser] = await Promise.all([ensureObserverBuilt(), launchChromium()])
const { build } = await import('vite')
await build({ configFile: fileURLToPath(new URL('./ceiling/vite.config.ts', import.meta.url)), logLevel: 'error' })
const relay = await startObserverRelay(dist)
const ceilingServer = await startObserverRelay(fileURLToPath(new URL('./artifacts/ceiling-dist', import.meta.url)))
const broker = new ScriptedBroker({ cols: 100, rows: 20 })
const host = await startHost(relay.url, relay.ownerCredential, broker)
const project = host.store.addProject('Bench', '/work/bench')
host.store.setProjectHost(project.id, { instanceId: host.instanceId, label: 'bench-host' })
await host.provider.whenPersisted()
const agent = await host.spawn(project.id, 'chatty')
let printed = 0
let line = 0
function print(bytes: number): void {
  const chunk = chattyChunk(line, bytes)
  line = chunk.next
  const encoded = new TextEncoder().encode(chunk.text)
  printed += encoded.byteLength
  broker.print(agent.id, encoded)
}
print(2048)
const pane = `[data-agent-id="${agent.id}"].pane`
const turn = () => new Promise((resolve) => setImmediate(resolve))

interface Marks {
  loaded: number
  submitted: number
  entered: number
  firstBytes: number
  firstFrame: number
  /** xterm.js created and opened, the stream subscribed. */
  terminalOpen: number
}

async function joinPage(name: string): Promise<{ page: Page; ms: number; marks: Marks }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  const page = await context.newPage()
  const invite = await host.createInvite('viewer')
  const start = performance.now()
  await page.goto(`${relay.page}#invite=${encodeURIComponent(invite)}`)
  await page.locator('[data-field="name"]').fill(name)
  await page.locator('[data-action="join"]').click()
  await page.waitForSelector(`${pane}[data-first-frame="1"]`, { state: 'attached', timeout: 30_000 })
  const ms = performance.now() - start
  return { page, ms, marks: await marksOf(page) }
}

/** The page's own clock (ms since navigation start) at each step the observer marks. */
async function marksOf(page: Page): Promise<Marks> {
  // A string, not a function: tsx would wrap a function's inner helpers in __name(), which the page lacks.
  return (await page.evaluate(`(() => {
    const at = (name) => performance.getEntriesByName(name)[0]?.startTime ?? NaN
    const navigation = performance.getEntriesByType('navigation')[0]
    return {
      loaded: navigation ? navigation.domContentLoadedEventEnd : NaN,
      submitted: at('orchard:join-submitted'),
      entered: at('orchard:entered'),
      firstBytes: at('orchard:first-terminal-bytes'),
      firstFrame: at('orchard:first-terminal-frame'),
      terminalOpen: at('orchard:terminal-open')
    }
  })()`)) as Marks
}

async function caughtUp(page: Page, target: number, timeoutMs = 120_000): Promise<void> {
  await page.waitForFunction(
    ([selector, want]) => Number(document.querySelector<HTMLElement>(selector as string)?.dataset.position ?? 0) >= (want as number),
    [pane, target] as const,
    { polling: 5, timeout: timeoutMs }
  )
}

out(`# Web observer bench${quick ? ' (--quick)' : ''}`)
out()
out(`Chromium ${browser.version()}, Node ${process.version}, ${config.runs} runs each, medians.`)
out()

// 1. Time to the first terminal frame.
const linkMs: number[] = []
const linkMarks: Marks[] = []
const reloadMs: number[] = []
const reloadMarks: Marks[] = []
const nodeMs: number[] = []
for (let run = 0; run < config.runs; run++) {
  const joined = await joinPage(`bench-${run}`)
  linkMs.push(joined.ms)
  linkMarks.push(joined.marks)
  const start = performance.now()
  await joined.page.reload()
  await joined.page.waitForSelector(`${pane}[data-first-frame="1"]`, { state: 'attached', timeout: 30_000 })
  reloadMs.push(performance.now() - start)
  reloadMarks.push(await marksOf(joined.page))
  await joined.page.context().close()

  const invite = await host.createInvite('viewer')
  const nodeStart = performance.now()
  const session = await WorkspaceSession.join(invite, { name: `node-${run}`, label: 'bench-node' })
  const stream = session.terminal(agent.id)
  await new Promise<void>((resolve) => {
    stream.once('data', () => resolve())
    stream.once('gap', () => resolve())
  })
  nodeMs.push(performance.now() - nodeStart)
  stream.close()
  await session.close()
}
const step = (marks: Marks[], pick: (m: Marks) => number) => fmt(median(marks.map(pick)))
out('## Opening the link -> first terminal frame painted')
out()
out('Page steps on the page\'s clock (median ms): page loaded = DOMContentLoaded after navigation; join = form submitted -> joined and synced (excludes the test driver typing the name); then -> first terminal bytes -> first frame painted.')
out()
out(
  table(
    ['what', 'total ms (driver clock)', 'page loaded', 'join', 'joined -> xterm open', 'xterm open -> first bytes', 'first bytes -> frame painted'],
    [
      ['observer: invite link, name typed, first frame', fmt(median(linkMs)), step(linkMarks, (m) => m.loaded), step(linkMarks, (m) => m.entered - m.submitted), step(linkMarks, (m) => m.terminalOpen - m.entered), step(linkMarks, (m) => m.firstBytes - m.terminalOpen), step(linkMarks, (m) => m.firstFrame - m.firstBytes)],
      ['observer: reload with the stored seat', fmt(median(reloadMs)), step(reloadMarks, (m) => m.loaded), '-', step(reloadMarks, (m) => m.terminalOpen - m.entered), step(reloadMarks, (m) => m.firstBytes - m.terminalOpen), step(reloadMarks, (m) => m.firstFrame - m.firstBytes)],
      ['baseline: Node client joins and gets its first terminal byte', fmt(median(nodeMs)), '-', '-', '-', '-', '-']
    ]
  )
)
out()

// 2. Throughput: the page against xterm.js alone, and against a Node viewer (the same host
// and relay without the browser: what the pipeline itself delivers on this machine).
const nodeRates: number[] = []
{
  const session = await WorkspaceSession.join(await host.createInvite('viewer'), { name: 'node-throughput', label: 'bench-node' })
  const stream = session.terminal(agent.id)
  let position = 0
  stream.on('data', (_data, at) => (position = at.offset + _data.byteLength))
  stream.on('gap', (gap) => (position = gap.to))
  for (let run = 0; run < config.runs; run++) {
    const start = performance.now()
    const target = printed + config.throughputBytes
    while (printed < target) {
      print(config.chunkBytes)
      await turn()
    }
    const deadline = Date.now() + 120_000
    while (position < target && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2))
    nodeRates.push(config.throughputBytes / ((performance.now() - start) / 1000))
  }
  stream.close()
  await session.close()
}
const viewer = await joinPage('throughput')
const cdp = await viewer.page.context().newCDPSession(viewer.page)
await cdp.send('Performance.enable')
async function heap(): Promise<{ heap: number; nodes: number }> {
  await cdp.send('HeapProfiler.collectGarbage')
  const { metrics } = await cdp.send('Performance.getMetrics')
  const value = (name: string) => metrics.find((metric) => metric.name === name)?.value ?? Number.NaN
  return { heap: value('JSHeapUsedSize'), nodes: value('Nodes') }
}
const before = await heap()
const pageRates: number[] = []
const skips: number[] = []
for (let run = 0; run < config.runs; run++) {
  await caughtUp(viewer.page, printed)
  const skippedBefore = Number(await viewer.page.locator(pane).getAttribute('data-skipped'))
  const start = performance.now()
  const target = printed + config.throughputBytes
  while (printed < target) {
    print(config.chunkBytes)
    await turn()
  }
  await caughtUp(viewer.page, target)
  const seconds = (performance.now() - start) / 1000
  const skipped = Number(await viewer.page.locator(pane).getAttribute('data-skipped')) - skippedBefore
  pageRates.push((config.throughputBytes - skipped) / seconds)
  skips.push(skipped)
}
const ceilingContext = await browser.newContext({ viewport: { width: 1280, height: 800 } })
const ceilingPage = await ceilingContext.newPage()
await ceilingPage.goto(ceilingServer.page)
await ceilingPage.waitForFunction(() => 'runCeiling' in globalThis)
const ceilingRates: number[] = []
for (let run = 0; run < config.runs; run++) {
  const ms = await ceilingPage.evaluate(
    ([total, chunk]) => (globalThis as unknown as { runCeiling: (t: number, c: number) => Promise<number> }).runCeiling(total as number, chunk as number),
    [config.throughputBytes, config.chunkBytes] as const
  )
  ceilingRates.push(config.throughputBytes / (ms / 1000))
}
await ceilingContext.close()
out(`## Terminal throughput (${mib(config.throughputBytes)} MiB of coloured build-log lines in ${config.chunkBytes / 1024} KiB chunks)`)
out()
out(
  table(
    ['what', 'MiB/s drawn', 'bytes skipped ahead (median)'],
    [
      ['observer page (host -> relay -> browser -> xterm.js)', mib(median(pageRates)), fmt(median(skips))],
      ['baseline: a Node viewer on the same host and relay (no browser, no xterm)', mib(median(nodeRates)), '-'],
      ['ceiling: xterm.js alone in the same browser, same bytes, no network', mib(median(ceilingRates)), '-']
    ]
  )
)
out()

// 3. Memory after a chatty agent (on top of the throughput runs: the scrollback is full).
const afterThroughput = await heap()
const chatStart = performance.now()
const chatBefore = printed
while (performance.now() - chatStart < config.chatMs) {
  print(config.chatBytesPerTick)
  await new Promise((resolve) => setTimeout(resolve, 50))
}
await caughtUp(viewer.page, printed)
const after = await heap()
out(`## Page memory after a chatty agent (${fmt(config.chatMs / 1000)} s at ${config.chatBytesPerTick / 1024} KiB every 50 ms: ${mib(printed - chatBefore)} MiB, after the ${mib(config.throughputBytes * config.runs)} MiB of the throughput runs; scrollback 1000 lines)`)
out()
out(
  table(
    ['when', 'JS heap used (MiB)', 'DOM nodes'],
    [
      ['just after joining (baseline)', mib(before.heap), fmt(before.nodes)],
      ['after the throughput runs', mib(afterThroughput.heap), fmt(afterThroughput.nodes)],
      ['after the chatty agent', mib(after.heap), fmt(after.nodes)]
    ]
  )
)
out()
const assets = readdirSync(join(dist, 'assets')).map((name) => readFileSync(join(dist, 'assets', name)))
const raw = assets.reduce((sum, file) => sum + file.byteLength, 0)
const gzip = assets.reduce((sum, file) => sum + gzipSync(file, { level: 9 }).byteLength, 0)
out(`Bundle (dist/assets, JS + CSS): ${fmt(raw / 1024)} KiB raw, ${fmt(gzip / 1024)} KiB gzip.`)

await viewer.page.context().close()
await browser.close()
await host.close()
await relay.close()
await ceilingServer.close()
