/**
 * The `orchard` command's own costs (issue 12 goals): relay idle RSS (<= 60 MiB), start to
 * listening (<= 300 ms) and `orchard invite` (<= 500 ms), each the median of --runs; then
 * idle RSS beside the peers (idle-rss.ts: the y-websocket server, Hocuspocus 3 and 4, the
 * relay on in-memory storage and bare Node), with ratios to the best peer.
 *
 *   pnpm bench:cli                                   # the compiled CLI (run `pnpm build` first)
 *   pnpm bench:cli --label tsx --cli "node --conditions=@orchard/source --import tsx packages/cli/src/bin.ts"
 *   pnpm bench:cli --label before --cwd <old checkout> --cli "node packages/relay/bin/orchard.js"
 *
 * Start to listening: from spawn to the `--json` line (workspace created, invites minted:
 * a first start). Idle RSS: VmRSS of the relay process (all its threads, the SQLite writer
 * included) 3 s after that line, with no client, and how much of it is anonymous memory (the
 * rest is file pages, mostly the node binary's own code). Invite: wall time of a whole
 * `orchard invite` process against that relay. On a loaded machine wall times mostly measure
 * the load: the CPU time (user + system, all threads) the relay used up to its JSON line is
 * the steadier figure.
 */
import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { median, table } from '../stats.js'
import { idleRssBesidePeers, PEERS, procStatusField } from './idle-rss.js'

const { values } = parseArgs({
  options: {
    cli: { type: 'string', default: 'node packages/cli/dist/bin.mjs' },
    cwd: { type: 'string', default: fileURLToPath(new URL('../..', import.meta.url)) },
    label: { type: 'string', default: 'compiled' },
    runs: { type: 'string', default: '5' }
  }
})
const [command, ...prefix] = (values.cli as string).split(' ')
const runs = Number(values.runs)
const env = { ...process.env }
delete env.NODE_OPTIONS

/** user + system CPU of a live process (all its threads), from /proc, in ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  return ((Number(fields[11]) + Number(fields[12])) / 100) * 1000
}

async function once(): Promise<{ startMs: number; startCpuMs: number; rssMiB: number; anonMiB: number; inviteMs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'orchard-bench-cli-'))
  const data = join(dir, 'relay.db')
  const started = performance.now()
  let startCpuMs = 0
  const child = spawn(command as string, [...prefix, 'relay', '--json', '--port', '0', '--data', data], { cwd: values.cwd, env, stdio: ['ignore', 'pipe', 'inherit'] })
  try {
    await new Promise<void>((resolve, reject) => {
      let out = ''
      const timer = setTimeout(() => reject(new Error('relay did not start in 30 s')), 30_000)
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString()
        if (out.includes('}\n')) {
          clearTimeout(timer)
          startCpuMs = cpuMs(child.pid as number)
          resolve()
        }
      })
    })
    const startMs = performance.now() - started
    await new Promise((resolve) => setTimeout(resolve, 3_000)) // idle on purpose: RSS at rest
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8')
    const rssMiB = procStatusField(status, 'VmRSS') / 1024
    const anonMiB = procStatusField(status, 'RssAnon') / 1024
    const inviteStart = performance.now()
    await new Promise<void>((resolve, reject) =>
      execFile(command as string, [...prefix, 'invite', '--role', 'viewer', '--data', data], { cwd: values.cwd, env }, (error) => (error ? reject(error) : resolve()))
    )
    const inviteMs = performance.now() - inviteStart
    return { startMs, startCpuMs, rssMiB, anonMiB, inviteMs }
  } finally {
    child.kill('SIGTERM')
    await new Promise((resolve) => child.once('exit', resolve))
    rmSync(dir, { recursive: true, force: true })
  }
}

const samples: Array<Awaited<ReturnType<typeof once>>> = []
for (let run = 0; run < runs; run++) samples.push(await once())
const row = (pick: (sample: (typeof samples)[number]) => number) => median(samples.map(pick)).toFixed(0)
console.log(`orchard CLI, ${values.label}: \`${values.cli}\`, median of ${runs}, node ${process.version}, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`)
console.log(
  table(
    ['', 'start to listening (ms)', 'CPU to listening (ms)', 'idle RSS (MiB)', 'of which anonymous (MiB)', 'orchard invite (ms)'],
    [[values.label as string, row((s) => s.startMs), row((s) => s.startCpuMs), row((s) => s.rssMiB), row((s) => s.anonMiB), row((s) => s.inviteMs)]]
  )
)

const idle = await idleRssBesidePeers({ command: command as string, prefix, cwd: values.cwd as string }, runs, env)
const bestPeer = Math.min(...PEERS.map((name) => idle.get(name)?.rss ?? Number.POSITIVE_INFINITY))
console.log(`\nidle RSS beside the peers (5 s idle, no client), median of ${runs}; ratio to the best peer (${bestPeer.toFixed(1)} MiB)`)
console.log(
  table(
    ['target', 'RSS (MiB)', 'anonymous (MiB)', 'file-backed (MiB)', 'threads', 'ratio'],
    [...idle].map(([name, sample]) => [name === 'orchard' ? `orchard (${values.label})` : name, sample.rss.toFixed(1), sample.anon.toFixed(1), sample.file.toFixed(1), sample.threads, `${(sample.rss / bestPeer).toFixed(2)}x`])
  )
)
