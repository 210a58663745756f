/**
 * The relay's /metrics, on prom-client (the standard Prometheus client for Node): the
 * exposition format, escaping and types are its job, not ours. Each relay core has its
 * own registry, so several cores in one process (tests, an embedding app) do not mix.
 * Rates (updates per second...) are left to Prometheus's rate(); the relay only counts.
 *
 * The fields keep the shape the relay's code already writes to (`metrics.bytesIn += n`):
 * counters only ever go up, so an assignment adds the difference.
 */
import { Counter, Gauge, Registry } from 'prom-client'

export interface MetricsGauges {
  docsLoaded: number
  workspacesLoaded: number
}

type CounterKey = 'updates' | 'out' | 'in' | 'persisted'

export class RelayMetrics {
  readonly registry = new Registry()
  private gauges: () => MetricsGauges = () => ({ docsLoaded: 0, workspacesLoaded: 0 })
  private readonly connectionsGauge = new Gauge({ name: 'orchard_connections', help: 'Open client connections.', registers: [this.registry] })
  private readonly updates = new Counter({ name: 'orchard_updates_total', help: 'Client and relay updates stored.', registers: [this.registry] })
  private readonly out = new Counter({ name: 'orchard_bytes_out_total', help: 'Bytes sent to clients.', registers: [this.registry] })
  private readonly in = new Counter({ name: 'orchard_bytes_in_total', help: 'Bytes received from clients.', registers: [this.registry] })
  private readonly persisted = new Counter({ name: 'orchard_persisted_bytes_total', help: 'Bytes of updates appended to storage.', registers: [this.registry] })
  private connectionCount = 0
  private readonly counted: Record<CounterKey, number> = { updates: 0, out: 0, in: 0, persisted: 0 }

  constructor() {
    const metrics = this
    new Gauge({ name: 'orchard_docs_loaded', help: 'Documents held in memory.', registers: [this.registry], collect() { this.set(metrics.gauges().docsLoaded) } })
    new Gauge({ name: 'orchard_workspaces_loaded', help: 'Workspaces held in memory.', registers: [this.registry], collect() { this.set(metrics.gauges().workspacesLoaded) } })
  }

  get connections(): number {
    return this.connectionCount
  }
  set connections(value: number) {
    this.connectionCount = value
    this.connectionsGauge.set(value)
  }

  get updatesTotal(): number {
    return this.counted.updates
  }
  countUpdates(count: number): void {
    this.add('updates', this.updates, count)
  }

  get bytesOut(): number {
    return this.counted.out
  }
  set bytesOut(value: number) {
    this.add('out', this.out, value - this.counted.out)
  }

  get bytesIn(): number {
    return this.counted.in
  }
  set bytesIn(value: number) {
    this.add('in', this.in, value - this.counted.in)
  }

  get persistedBytes(): number {
    return this.counted.persisted
  }
  set persistedBytes(value: number) {
    this.add('persisted', this.persisted, value - this.counted.persisted)
  }

  /** Prometheus text exposition; `gauges` is read at each scrape. */
  render(gauges: MetricsGauges): Promise<string> {
    this.gauges = () => gauges
    return this.registry.metrics()
  }

  private add(key: CounterKey, counter: Counter, delta: number): void {
    if (delta <= 0) return
    this.counted[key] += delta
    counter.inc(delta)
  }
}
