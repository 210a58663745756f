// Keystroke -> echo latency. Through the relay: from `sendInput` on a holder session (it
// claimed the agent) to the echoed byte arriving on that same session's TerminalStream;
// the host is another process (pty-host.ts). The floor: the same NodePtyBroker and
// program in this process, timed from broker.write to the echo in its output callback.
import { WorkspaceSession, type TerminalSink } from '@orchard/client'
import { NodePtyBroker } from '@orchard/client/pty'
import { ECHO_COMMAND } from './echo-command.js'
import { sleep, withDeadline } from './proc.js'
import type { Rng } from './stats.js'

export interface EchoResult {
  latenciesMs: number[]
  timeouts: number
}

const KEYS = 'abcdefghijklmnopqrstuvwxyz'

/** Waits for text in a growing output; resolves with the time it appeared. */
class EchoWatch {
  private text = ''
  private want: { needle: string; resolve: (at: number) => void } | null = null

  feed(data: Uint8Array): void {
    const at = performance.now()
    this.text = (this.text + Buffer.from(data).toString('latin1')).slice(-4096)
    if (this.want && this.text.includes(this.want.needle)) {
      const { resolve } = this.want
      this.want = null
      this.text = ''
      resolve(at)
    }
  }

  /** Clears what was seen and waits for `needle` in what comes next. */
  next(needle: string, timeoutMs: number): Promise<number | null> {
    this.text = ''
    return withDeadline(new Promise<number>((resolve) => (this.want = { needle, resolve })), timeoutMs, `echo of ${JSON.stringify(needle)}`).catch(() => {
      this.want = null
      return null
    })
  }

  expect(needle: string, timeoutMs: number): Promise<number | null> {
    if (this.text.includes(needle)) {
      this.text = ''
      return Promise.resolve(performance.now())
    }
    return this.next(needle, timeoutMs)
  }
}

async function typeAndTime(watch: EchoWatch, send: (key: string) => void, count: number, warmup: number, rng: Rng): Promise<EchoResult> {
  const latenciesMs: number[] = []
  let timeouts = 0
  for (let i = 0; i < warmup + count; i++) {
    const key = KEYS[i % KEYS.length] as string
    const echoed = watch.next(key, 2_000)
    const t0 = performance.now()
    send(key)
    const at = await echoed
    if (at === null) timeouts++
    else if (i >= warmup) latenciesMs.push(at - t0)
    await sleep(5 + rng() * 5)
  }
  return { latenciesMs, timeouts }
}

export async function echoThroughRelay(url: string, credential: string, agentId: string, count: number, rng: Rng): Promise<EchoResult> {
  const holder = await WorkspaceSession.open({ credential, relayUrl: url, instanceId: 'bench-holder', label: 'bench-holder', connectTimeoutMs: 10_000 })
  try {
    await withDeadline(holder.claim(agentId), 10_000, 'claim')
    const watch = new EchoWatch()
    const stream = holder.terminal(agentId)
    stream.on('data', (data) => watch.feed(data))
    if ((await watch.expect('READY', 15_000)) === null) throw new Error('the echo program never said READY through the relay')
    return await typeAndTime(watch, (key) => holder.sendInput(agentId, key), count, 20, rng)
  } finally {
    await holder.close()
  }
}

export async function echoFloor(count: number, rng: Rng): Promise<EchoResult> {
  const broker = new NodePtyBroker()
  const watch = new EchoWatch()
  const sink: TerminalSink = {
    output: (_agentId, data) => watch.feed(data),
    restarted: () => {},
    exited: () => {},
    resized: () => {}
  }
  broker.attach(sink)
  try {
    await broker.spawn({ agentId: 'floor', projectId: 'floor', name: 'floor', options: ECHO_COMMAND })
    if ((await watch.expect('READY', 15_000)) === null) throw new Error('the echo program never said READY')
    return await typeAndTime(watch, (key) => broker.write('floor', new TextEncoder().encode(key)), count, 20, rng)
  } finally {
    await broker.stopAll()
  }
}
