// Worker-thread entry for ThreadedSqliteStorage. Plain JavaScript so it starts the same
// way under the CLI, under vitest and in an embedding app: it registers tsx to load the
// TypeScript implementation next to it.
import { register } from 'tsx/esm/api'

register()
await import('./sqlite-writer-thread.ts')
