/** Pure (no node: imports), so the read path also runs in a browser. */
import { isRecord } from './channel-rules.js'

/** JSON with object keys sorted: equal values give equal strings on every replica. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value))
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (isRecord(value)) {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value).sort()) {
      const entry = value[key]
      if (entry !== undefined) out[key] = sortKeys(entry)
    }
    return out
  }
  return value
}
