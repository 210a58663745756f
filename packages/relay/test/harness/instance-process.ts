/**
 * Drives fixtures/instance-child.mjs: one Orchard instance per process, on plain Node and the
 * built @orchard/client (scripts/built-packages.ts: rebuilt before the tests whenever a source
 * is newer than the build), as an app embedding the library runs it. Under tsx on the sources
 * each start cost about half a second of CPU more, five at once in the races.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { builtEnv, repoRoot } from '../../../../scripts/built-packages.js'

const script = fileURLToPath(new URL('../fixtures/instance-child.mjs', import.meta.url))

export interface InstanceProcess {
  child: ChildProcess
  call(command: Record<string, unknown>, timeoutMs?: number): Promise<Record<string, unknown>>
  kill9(): Promise<void>
}

export function startInstance(relayUrl: string, instanceId: string, credential: string): Promise<InstanceProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, relayUrl, instanceId], {
      cwd: repoRoot,
      env: builtEnv({ ORCHARD_CREDENTIAL: credential }),
      stdio: ['pipe', 'pipe', 'pipe']
    })
    let stderr = ''
    let nextId = 1
    const waiting = new Map<number, (value: Record<string, unknown>) => void>()
    const exited = new Promise<void>((done) => child.once('exit', () => done()))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`instance ${instanceId} did not start: ${stderr}`))
    }, 20_000)
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.trim()) return
      const message = JSON.parse(line) as Record<string, unknown>
      if (message.ready) {
        clearTimeout(timer)
        resolve(instance)
      } else waiting.get(message.id as number)?.(message)
    })
    const instance: InstanceProcess = {
      child,
      call(command, timeoutMs = 15_000) {
        const id = nextId++
        return new Promise((done, fail) => {
          const deadline = setTimeout(() => fail(new Error(`instance ${instanceId}: no answer to ${JSON.stringify(command)}: ${stderr}`)), timeoutMs)
          waiting.set(id, (value) => {
            clearTimeout(deadline)
            waiting.delete(id)
            done(value)
          })
          child.stdin?.write(JSON.stringify({ id, ...command }) + '\n')
        })
      },
      async kill9() {
        child.kill('SIGKILL')
        await exited
      }
    }
  })
}
