/**
 * Two replicas of one workspace, each with its own projects.json, edit apart ("offline")
 * and then merge. Run: npx -y pnpm@10.34.8 example:offline-merge
 */
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as Y from 'yjs'
import { createPearStore, type PearStore } from '@orchard/workspace'

const dir = mkdtempSync(join(tmpdir(), 'orchard-offline-merge-'))
const fileA = join(dir, 'laptop', 'projects.json')
const fileB = join(dir, 'desktop', 'projects.json')
const { mkdirSync } = await import('node:fs')
mkdirSync(join(dir, 'laptop'))
mkdirSync(join(dir, 'desktop'))

// The laptop imports Pear's existing projects.json; the desktop starts from a copy of
// the laptop's file (as if it had synced once), so both hold the same workspace.
copyFileSync(new URL('../packages/workspace/test/fixtures/pear-projects.sample.json', import.meta.url), fileA)
const laptop = createPearStore({ file: fileA })
await laptop.flush()
copyFileSync(fileA, fileB)
const desktop = createPearStore({ file: fileB })

function show(title: string, file: string): void {
  const projects = JSON.parse(readFileSync(file, 'utf8')).projects as Array<{ name: string; channels: string[]; integrations: Array<{ name: string }> }>
  console.log(`  ${title}`)
  for (const project of projects) {
    console.log(`    - ${project.name.padEnd(22)} channels: ${project.channels.join(', ').padEnd(40)} integrations: ${project.integrations.map((i) => i.name).join(', ') || '-'}`)
  }
}

// Offline: each machine edits on its own, and each save reaches only its own file.
laptop.updateProject('pear-app', { name: 'Pear (laptop rename)' })
laptop.addProjectChannel('infra', 'Incidents')
const data = laptop.loadStore() // Pear's own read-modify-write pattern
data.projects[1]!.channels.push('on-call')
laptop.saveStore(data)

desktop.addProjectIntegration('infra', 'PagerDuty', 'pagerduty')
desktop.removeProjectChannel('pear-app', 'release-notes')
desktop.addProject('Website', '/home/ana/code/site')
await Promise.all([laptop.flush(), desktop.flush()])

console.log('Before merging (each file has only its own edits):')
show('laptop  projects.json', fileA)
show('desktop projects.json', fileB)

// Back online: exchange what the other is missing (a relay provider does exactly this).
sync(laptop, desktop)
await Promise.all([laptop.flush(), desktop.flush()])

console.log('\nAfter merging (both files hold every edit, conflict-free):')
show('laptop  projects.json', fileA)
show('desktop projects.json', fileB)

const same = JSON.stringify(laptop.loadStore().projects) === JSON.stringify(desktop.loadStore().projects)
console.log(`\nBoth replicas identical: ${same}. Files are in ${dir}`)
await Promise.all([laptop.close(), desktop.close()])
if (!same) process.exit(1)

function sync(a: PearStore, b: PearStore): void {
  const forB = Y.encodeStateAsUpdateV2(a.doc, Y.encodeStateVector(b.doc))
  const forA = Y.encodeStateAsUpdateV2(b.doc, Y.encodeStateVector(a.doc))
  Y.applyUpdateV2(b.doc, forB, 'sync')
  Y.applyUpdateV2(a.doc, forA, 'sync')
}
