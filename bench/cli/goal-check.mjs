// Issue 12's goal check, not a benchmark (no peers): five times, the built CLI's start to its
// JSON 'listening' line, its RSS after 5 s idle, and one `orchard invite` against it.
// Run from the repo root after `pnpm build`: node bench/cli/goal-check.mjs
// Figures go in bench/RESULTS.md with the load (`uptime`).
import { spawn, execFileSync } from 'node:child_process'
import { readFileSync, rmSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
const results = []
for (let i = 0; i < 5; i++) {
  const dir = mkdtempSync(join(tmpdir(), 'm-'))
  const t0 = performance.now()
  const p = spawn('node', ['packages/cli/dist/bin.mjs', 'relay', '--json', '--port', '0', '--data', join(dir, 'r.db')], { stdio: ['ignore', 'pipe', 'pipe'] })
  let buf = ''
  const url = await new Promise((res, rej) => { p.stdout.on('data', (d) => { buf += d; const line = buf.split('\n').find((l) => l.startsWith('{')); if (line) res(performance.now() - t0) }); setTimeout(() => rej(new Error('no line: ' + buf)), 20000) })
  await new Promise((r) => setTimeout(r, 5000))
  const status = readFileSync(`/proc/${p.pid}/status`, 'utf8')
  const vmRss = /VmRSS:\s+(\d+)/.exec(status)?.[1]
  if (!vmRss) throw new Error(`no VmRSS line in /proc/${p.pid}/status: is this Linux?`)
  const rss = Number(vmRss) / 1024
  const t1 = performance.now()
  execFileSync('node', ['packages/cli/dist/bin.mjs', 'invite', '--role', 'viewer', '--data', join(dir, 'r.db')], { stdio: 'ignore' })
  const invite = performance.now() - t1
  p.kill('SIGINT'); await new Promise((r) => p.on('exit', r))
  rmSync(dir, { recursive: true, force: true })
  results.push({ listenMs: Math.round(url), rssMiB: +rss.toFixed(1), inviteMs: Math.round(invite) })
}
console.log(JSON.stringify(results))
