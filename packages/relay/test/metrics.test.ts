/**
 * RelayMetrics alone: prom-client is loaded at the first scrape (issue 12: an idle relay
 * does not pay for it), so what was counted before that scrape must show in it, and what is
 * counted after must keep adding up.
 */
import { describe, expect, it } from 'vitest'
import { RelayMetrics } from '../src/metrics.js'

const value = (text: string, name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1])

describe('RelayMetrics', () => {
  it('[METRICS-1] counts made before the first scrape and after it all show in /metrics', async () => {
    const metrics = new RelayMetrics()
    metrics.connections = 2
    metrics.bytesIn += 10
    metrics.bytesOut += 20
    metrics.persistedBytes += 30
    metrics.countUpdates(3)
    const first = await metrics.render({ docsLoaded: 4, workspacesLoaded: 2 })
    expect(value(first, 'orchard_connections')).toBe(2)
    expect(value(first, 'orchard_bytes_in_total')).toBe(10)
    expect(value(first, 'orchard_bytes_out_total')).toBe(20)
    expect(value(first, 'orchard_persisted_bytes_total')).toBe(30)
    expect(value(first, 'orchard_updates_total')).toBe(3)
    expect(value(first, 'orchard_docs_loaded')).toBe(4)
    expect(value(first, 'orchard_workspaces_loaded')).toBe(2)

    metrics.connections = 1
    metrics.bytesIn += 5
    metrics.bytesOut += 5
    metrics.persistedBytes += 5
    metrics.countUpdates(1)
    const second = await metrics.render({ docsLoaded: 0, workspacesLoaded: 0 })
    expect(value(second, 'orchard_connections')).toBe(1)
    expect(value(second, 'orchard_bytes_in_total')).toBe(15)
    expect(value(second, 'orchard_bytes_out_total')).toBe(25)
    expect(value(second, 'orchard_persisted_bytes_total')).toBe(35)
    expect(value(second, 'orchard_updates_total')).toBe(4)
    expect(value(second, 'orchard_docs_loaded')).toBe(0)
    // The registry an app merges into its own is the one /metrics reads.
    expect(await metrics.registry.metrics()).toBe(second)
  })
})
