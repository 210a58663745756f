// Drives instances.ts children: start (bounded wait for {ready}), call a command (bounded
// wait for its answer), stop (exit command, then SIGKILL after a deadline). Every child
// is registered so an exiting benchmark never leaves one behind.
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { REPO_ROOT, readCpuMs, sleep } from './common.js'

const SCRIPT = fileURLToPath(new URL('./instances.ts', import.meta.url))
const live = new Set<ChildProcess>()
process.on('exit', () => {
  for (const c of live) {
    try {
      c.kill('SIGKILL')
    } catch {
      /* gone */
    }
  }
})

export interface InstancesChild {
  pid: number
  sessions: number
  call<T = Record<string, unknown>>(command: Record<string, unknown>, timeoutMs?: number): Promise<T & { ok: boolean; message?: string }>
  cpuMs(): number
  stop(): Promise<void>
}

export function startInstances(relayUrl: string, credentials: string[], prefix: string, readyTimeoutMs = 90_000): Promise<InstancesChild> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@orchard/source', '--import', 'tsx', SCRIPT], {
      cwd: REPO_ROOT,
      env: { ...process.env, ORCHARD_RELAY_URL: relayUrl, ORCHARD_CREDENTIALS: credentials.join(','), ORCHARD_PREFIX: prefix, NODE_ENV: 'production' },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    live.add(child)
    let stderr = ''
    child.stderr!.setEncoding('utf8')
    child.stderr!.on('data', (d: string) => (stderr = (stderr + d).slice(-4000)))
    const exited = new Promise<void>((done) =>
      child.once('exit', () => {
        live.delete(child)
        done()
      }),
    )
    const waiting = new Map<number, (value: Record<string, unknown>) => void>()
    let nextId = 1
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`instances ${prefix} not ready within ${readyTimeoutMs} ms: ${stderr}`))
    }, readyTimeoutMs)
    void exited.then(() => {
      clearTimeout(timer)
      reject(new Error(`instances ${prefix} exited: ${stderr}`))
    })
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return
      const message = JSON.parse(line) as Record<string, unknown>
      if (message.ready) {
        clearTimeout(timer)
        resolve(handle(Number(message.sessions)))
      } else waiting.get(message.id as number)?.(message)
    })
    const handle = (sessions: number): InstancesChild => ({
      pid: child.pid!,
      sessions,
      call(command, timeoutMs = 30_000) {
        const id = nextId++
        return new Promise((done, fail) => {
          const deadline = setTimeout(() => {
            waiting.delete(id)
            fail(new Error(`instances ${prefix}: no answer to ${JSON.stringify(command)} within ${timeoutMs} ms: ${stderr}`))
          }, timeoutMs)
          waiting.set(id, (value) => {
            clearTimeout(deadline)
            waiting.delete(id)
            done(value as never)
          })
          child.stdin!.write(JSON.stringify({ id, ...command }) + '\n')
        })
      },
      cpuMs: () => readCpuMs(child.pid!),
      async stop() {
        if (child.exitCode !== null || child.signalCode !== null) return
        const id = nextId++
        child.stdin!.write(JSON.stringify({ id, cmd: 'exit' }) + '\n')
        const outcome = await Promise.race([exited.then(() => 'exited' as const), sleep(15_000).then(() => 'timeout' as const)])
        if (outcome === 'timeout') {
          child.kill('SIGKILL')
          await Promise.race([exited, sleep(2_000)])
        }
      },
    })
  })
}
