/**
 * The Pear rules a reader needs (PEAR-4, PEAR-5, PEAR-7): pure functions with no node:
 * imports, so the read path (project-view, WorkspaceModel) also runs in a browser.
 * pear-rules.ts re-exports them with the rest of Pear's normalization.
 */

/** PEAR-4: channel names become lowercase ascii slugs. */
export function normalizeChannelName(value: string): string {
  return value
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '')
}

function stringEntries(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((entry): entry is string => typeof entry === 'string') : []
}

/** PEAR-4/PEAR-5: slugged, deduped, never empty ('general'). */
export function normalizeChannels(value: unknown): string[] {
  const deduped = Array.from(new Set(stringEntries(value).map(normalizeChannelName).filter(Boolean)))
  return deduped.length > 0 ? deduped : ['general']
}

/**
 * PEAR-7: trimmed, empty dropped, deduped case-insensitively; the first spelling's
 * position with the last spelling's case (Pear's Map-based dedupe).
 */
export function normalizePeopleList(value: unknown): string[] {
  const trimmed = stringEntries(value)
    .map((entry) => entry.trim())
    .filter(Boolean)
  return Array.from(new Map(trimmed.map((name) => [name.toLowerCase(), name])).values())
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
