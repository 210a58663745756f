/**
 * The relay's /metrics, on prom-client (the standard Prometheus client for Node): the
 * exposition format, escaping and types are its job, not ours. Each relay core has its
 * own registry, so several cores in one process (tests, an embedding app) do not mix.
 * Rates (updates per second...) are left to Prometheus's rate(); the relay only counts.
 *
 * The fields keep the shape the relay's code already writes to (`metrics.bytesIn += n`):
 * counters only ever go up, so an assignment adds the difference.
 */
import { createRequire } from 'node:module'
import type { Counter, Gauge, Registry } from 'prom-client'

export interface MetricsGauges {
  docsLoaded: number
  workspacesLoaded: number
}

type CounterKey = 'updates' | 'out' | 'in' | 'persisted'

interface Instruments {
  registry: Registry
  connections: Gauge
  counters: Record<CounterKey, Counter>
}

/**
 * prom-client is loaded when the registry is first needed (a scrape, or an app reading
 * `registry`), not when the relay starts: an idle relay nobody scrapes does not pay for it
 * (issue 12: idle RSS, start to listening). It is CommonJS, so `require` loads it in one
 * synchronous step.
 */
function loadPromClient(): typeof import('prom-client') {
  return createRequire(import.meta.url)('prom-client') as typeof import('prom-client')
}

export class RelayMetrics {
  private instruments: Instruments | null = null
  private gauges: () => MetricsGauges = () => ({ docsLoaded: 0, workspacesLoaded: 0 })
  private connectionCount = 0
  private readonly counted: Record<CounterKey, number> = { updates: 0, out: 0, in: 0, persisted: 0 }

  /** This core's own prom-client registry (merge it into an app's), built on first use. */
  get registry(): Registry {
    return this.build().registry
  }

  get connections(): number {
    return this.connectionCount
  }
  set connections(value: number) {
    this.connectionCount = value
    this.instruments?.connections.set(value)
  }

  get updatesTotal(): number {
    return this.counted.updates
  }
  countUpdates(count: number): void {
    this.add('updates', count)
  }

  get bytesOut(): number {
    return this.counted.out
  }
  set bytesOut(value: number) {
    this.add('out', value - this.counted.out)
  }

  get bytesIn(): number {
    return this.counted.in
  }
  set bytesIn(value: number) {
    this.add('in', value - this.counted.in)
  }

  get persistedBytes(): number {
    return this.counted.persisted
  }
  set persistedBytes(value: number) {
    this.add('persisted', value - this.counted.persisted)
  }

  /** Prometheus text exposition; `gauges` is read at each scrape. */
  render(gauges: MetricsGauges): Promise<string> {
    this.gauges = () => gauges
    return this.build().registry.metrics()
  }

  private add(key: CounterKey, delta: number): void {
    if (delta <= 0) return
    this.counted[key] += delta
    this.instruments?.counters[key].inc(delta)
  }

  /** The prom-client instruments, made on first use and caught up with what was counted before. */
  private build(): Instruments {
    if (this.instruments) return this.instruments
    const { Counter, Gauge, Registry } = loadPromClient()
    const registry = new Registry()
    const registers = [registry]
    // Registered in the order /metrics has always listed them.
    const connections = new Gauge({ name: 'orchard_connections', help: 'Open client connections.', registers })
    const counters: Record<CounterKey, Counter> = {
      updates: new Counter({ name: 'orchard_updates_total', help: 'Client and relay updates stored.', registers }),
      out: new Counter({ name: 'orchard_bytes_out_total', help: 'Bytes sent to clients.', registers }),
      in: new Counter({ name: 'orchard_bytes_in_total', help: 'Bytes received from clients.', registers }),
      persisted: new Counter({ name: 'orchard_persisted_bytes_total', help: 'Bytes of updates appended to storage.', registers })
    }
    const metrics = this
    new Gauge({ name: 'orchard_docs_loaded', help: 'Documents held in memory.', registers, collect() { this.set(metrics.gauges().docsLoaded) } })
    new Gauge({ name: 'orchard_workspaces_loaded', help: 'Workspaces held in memory.', registers, collect() { this.set(metrics.gauges().workspacesLoaded) } })
    connections.set(this.connectionCount)
    for (const key of Object.keys(counters) as CounterKey[]) if (this.counted[key] > 0) counters[key].inc(this.counted[key])
    this.instruments = { registry, connections, counters }
    return this.instruments
  }
}
