/** Counters for /metrics (Prometheus text exposition format). */
export class RelayMetrics {
  connections = 0
  bytesIn = 0
  bytesOut = 0
  updatesTotal = 0
  persistedBytes = 0
  private readonly window: Array<{ at: number; count: number }> = []

  countUpdates(count: number): void {
    this.updatesTotal += count
    const now = Date.now()
    this.window.push({ at: now, count })
    while (this.window.length > 0 && (this.window[0] as { at: number }).at < now - 10_000) this.window.shift()
  }

  /** Client updates stored per second over the last ten seconds. */
  updatesPerSecond(): number {
    const cutoff = Date.now() - 10_000
    let sum = 0
    for (const entry of this.window) if (entry.at >= cutoff) sum += entry.count
    return sum / 10
  }

  render(gauges: { docsLoaded: number; workspacesLoaded: number }): string {
    const lines: string[] = []
    const metric = (name: string, type: 'gauge' | 'counter', help: string, value: number) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`)
    }
    metric('orchard_connections', 'gauge', 'Open client connections.', this.connections)
    metric('orchard_docs_loaded', 'gauge', 'Documents held in memory.', gauges.docsLoaded)
    metric('orchard_workspaces_loaded', 'gauge', 'Workspaces held in memory.', gauges.workspacesLoaded)
    metric('orchard_updates_total', 'counter', 'Client and relay updates stored.', this.updatesTotal)
    metric('orchard_updates_per_second', 'gauge', 'Updates stored per second, averaged over 10 s.', this.updatesPerSecond())
    metric('orchard_bytes_out_total', 'counter', 'Bytes sent to clients.', this.bytesOut)
    metric('orchard_bytes_in_total', 'counter', 'Bytes received from clients.', this.bytesIn)
    metric('orchard_persisted_bytes_total', 'counter', 'Bytes of updates appended to storage.', this.persistedBytes)
    return lines.join('\n') + '\n'
  }
}
