/** Plain-text tables for `orchard members` and `orchard invites` (JSON stays behind --json). */

export interface Column<T> {
  header: string
  value: (row: T) => string
}

export function renderTable<T>(rows: readonly T[], columns: ReadonlyArray<Column<T>>, empty: string): string {
  if (rows.length === 0) return empty
  const cells = rows.map((row) => columns.map((column) => column.value(row)))
  const widths = columns.map((column, index) => Math.max(column.header.length, ...cells.map((line) => (line[index] ?? '').length)))
  const format = (line: readonly string[]) =>
    line
      .map((cell, index) => cell.padEnd(widths[index] ?? 0))
      .join('  ')
      .trimEnd()
  return [format(columns.map((column) => column.header)), ...cells.map(format)].join('\n')
}

/** A timestamp as a person reads it: local date and time to the minute, e.g. 2026-12-04 16:05. */
export function formatTime(ms: number | null | undefined, never = '-'): string {
  if (ms === null || ms === undefined) return never
  const date = new Date(ms)
  const pad = (value: number) => String(value).padStart(2, '0')
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`
}
