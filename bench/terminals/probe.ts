// Preloaded into the server processes the benchmark starts (`node --import tsx --import
// probe.ts ...`): every 100 ms it reports the process's own memory and event-loop
// utilisation to the benchmark over the IPC channel, so heap numbers come from inside the
// server while RSS and CPU are read from /proc by the benchmark. Does nothing without IPC.
import { performance } from 'node:perf_hooks'

// On a {type:'gc'} message (with --expose-gc) it collects garbage first and marks the
// report `gc: true`: what is still reachable at that moment.
if (typeof process.send === 'function') {
  let last = performance.eventLoopUtilization()
  const report = (gc: boolean) => {
    const now = performance.eventLoopUtilization()
    const elu = performance.eventLoopUtilization(now, last).utilization
    last = now
    const m = process.memoryUsage()
    process.send?.({ type: 'probe', gc, at: Date.now(), rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, elu })
  }
  const timer = setInterval(() => report(false), 100)
  timer.unref()
  process.on('message', (message: { type?: string }) => {
    if (message?.type !== 'gc') return
    const gc = (globalThis as { gc?: () => void }).gc
    gc?.()
    report(gc !== undefined)
  })
  process.channel?.unref()
}
