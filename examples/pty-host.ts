/**
 * Real terminals through the relay: one instance hosts a shell in a real PTY (node-pty);
 * an editor claims it and types while a viewer watches and cannot type; a late viewer
 * catches up from a screen snapshot instead of the whole history.
 * Run: npx -y pnpm@10.34.8 example:pty-host
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { TerminalMirror, WorkspaceSession, type TerminalStream } from '@orchard/client'
import { NodePtyBroker } from '@orchard/client/pty'

const root = fileURLToPath(new URL('..', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'orchard-pty-host-'))
const deadline = setTimeout(() => fail(new Error('the demo took longer than 60 s')), 60_000)
deadline.unref()

interface RelayInfo {
  url: string
  ownerToken: string
  editorInvite: string
  viewerInvite: string
}

// The `orchard` command as built (what `pnpm orchard` and `pnpm start` run; `pnpm install`
// builds it): the relay is a program of its own, started on plain Node.
const relayBin = join(root, 'packages/cli/dist/bin.mjs')
if (!existsSync(relayBin)) throw new Error(`the orchard command is not built (${relayBin}): run \`npx -y pnpm@10.34.8 build\` first`)
const relay = spawn(process.execPath, [relayBin, 'relay', '--json', '--demo', '--port', '0', '--data', join(dir, 'relay.db')], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit']
})
const info = await new Promise<RelayInfo>((resolve, reject) => {
  let out = ''
  relay.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString()
    const line = out.split('\n').find((entry) => entry.startsWith('{'))
    if (line) resolve(JSON.parse(line) as RelayInfo)
  })
  relay.once('exit', (code) => reject(new Error(`the relay exited (${code}) before starting`)))
})
console.log(`Relay at ${info.url} with the demo workspace.\n`)

/** A viewer's screen: its stream drawn into a headless terminal, gaps redrawn from the snapshot. */
function screenOf(stream: TerminalStream): { mirror: TerminalMirror; skipped: () => number } {
  let mirror = new TerminalMirror(100, 12)
  let skipped = 0
  stream.on('data', (data) => mirror.write(data))
  stream.on('gap', (gap) => {
    skipped += gap.to - gap.from
    mirror.dispose()
    mirror = new TerminalMirror(gap.cols, gap.rows)
    mirror.write(new TextEncoder().encode(gap.snapshot))
  })
  return {
    get mirror() {
      return mirror
    },
    skipped: () => skipped
  }
}

async function show(title: string, screen: { mirror: TerminalMirror }, lines = 6): Promise<void> {
  const { data } = await screen.mirror.snapshot()
  const plain = data.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').split(/\r?\n/).filter((line) => line.trim())
  console.log(`   ${title}:`)
  for (const line of plain.slice(-lines)) console.log(`     | ${line.slice(0, 90)}`)
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

function fail(error: unknown): never {
  console.error(`FAILED: ${error instanceof Error ? error.message : String(error)}`)
  relay.kill('SIGKILL')
  process.exit(1)
}

try {
  console.log('1. Ana\'s instance hosts the "Pear App" agents in real PTYs and starts a shell')
  const ana = await WorkspaceSession.open({ credential: info.ownerToken, relayUrl: info.url, file: join(dir, 'ana.json'), instanceId: 'ana-desktop', label: 'ana-desktop' })
  const broker = new NodePtyBroker({ cols: 100, rows: 12 })
  ana.host(broker)
  ana.store.setProjectHost('pear-app', { instanceId: 'ana-desktop', label: 'ana-desktop' })
  await ana.provider.whenPersisted()
  const shell = await ana.spawn('pear-app', 'shell', { options: { command: 'bash', args: ['--noprofile', '--norc', '-i'], env: { PS1: '$ ' } } })
  console.log(`   agent "${shell.name}" is ${shell.status} (pid ${(shell.info as { pid: number }).pid})\n`)

  console.log('2. Ben (editor) and Vic (viewer) join and watch the same terminal')
  const ben = await WorkspaceSession.join(info.editorInvite, { name: 'Ben', file: join(dir, 'ben.json'), label: 'ben-laptop' })
  const vic = await WorkspaceSession.join(info.viewerInvite, { name: 'Vic', file: join(dir, 'vic.json'), label: 'vic-laptop' })
  const benScreen = screenOf(ben.terminal(shell.id))
  const vicScreen = screenOf(vic.terminal(shell.id))

  console.log('\n3. Ben claims the terminal and types; everyone sees the output')
  const lease = await ben.claim(shell.id)
  console.log(`   Ben holds the terminal (epoch ${lease.epoch})`)
  ben.sendInput(shell.id, 'echo "hello from Ben: $((6*7))"\r')
  await until('the echo on Vic\'s screen', async () => (await vicScreen.mirror.snapshot()).data.includes('hello from Ben: 42'))
  await show('Ben sees', benScreen, 3)
  await show('Vic sees', vicScreen, 3)

  console.log('\n4. Vic tries to type and is refused')
  try {
    vic.sendInput(shell.id, 'rm -rf ~\r')
    throw new Error('a viewer was allowed to type')
  } catch (error) {
    console.log(`   ${(error as Error).name}: ${(error as Error).message}`)
  }

  console.log('\n5. A lot of output, then Dee joins late and catches up from a snapshot')
  ben.sendInput(shell.id, 'seq 1 150000; echo OUTPUT-DONE\r')
  await until('the output to finish', async () => (await benScreen.mirror.snapshot()).data.includes('OUTPUT-DONE'), 30_000)
  const dee = await WorkspaceSession.join(await ana.createInvite('viewer'), { name: 'Dee', file: join(dir, 'dee.json'), label: 'dee-tablet' })
  const deeScreen = screenOf(dee.terminal(shell.id))
  await until('Dee\'s screen', async () => (await deeScreen.mirror.snapshot()).data.includes('OUTPUT-DONE'))
  console.log(`   Dee skipped ${deeScreen.skipped().toLocaleString()} bytes of history and drew the screen from the host's snapshot:`)
  await show('Dee sees', deeScreen, 4)
  ben.sendInput(shell.id, 'echo "live again for Dee"\r')
  await until('live output on Dee\'s screen', async () => (await deeScreen.mirror.snapshot()).data.includes('live again for Dee'))
  console.log('   ...and then gets live output like everyone else.')

  console.log('\n6. Ana stops the agent; everyone closes; the relay stops')
  const stopped = await ana.stop(shell.id)
  console.log(`   agent "${stopped.name}" is ${stopped.status}`)
  for (const session of [dee, vic, ben, ana]) await session.close()
  await broker.stopAll()
  relay.kill('SIGTERM')
  await new Promise((resolve) => relay.once('exit', resolve))
  rmSync(dir, { recursive: true, force: true })
  console.log('\nDone: one PTY, four instances, only the holder typed.')
} catch (error) {
  fail(error)
}
