/**
 * setImmediate for browsers. The provider merges a turn's updates and the terminal stream
 * paces its ACKs with setImmediate (Node); browsers lack it. A MessageChannel post runs
 * after the current task like setImmediate does, without setTimeout's 4 ms clamp, which
 * would slow a chatty terminal's ACKs and so its throughput.
 */
type Immediate = (callback: () => void) => unknown
type ClearImmediate = (handle: unknown) => void

export function installImmediate(scope: { setImmediate?: unknown; clearImmediate?: unknown } = globalThis as never): void {
  if (typeof scope.setImmediate === 'function') return
  const tasks = new Map<number, () => void>()
  let nextId = 1
  const channel = new MessageChannel()
  channel.port1.onmessage = (event: MessageEvent<number>) => {
    const task = tasks.get(event.data)
    tasks.delete(event.data)
    task?.()
  }
  const setImmediate: Immediate = (callback) => {
    const id = nextId++
    tasks.set(id, callback)
    channel.port2.postMessage(id)
    return id
  }
  const clearImmediate: ClearImmediate = (handle) => {
    tasks.delete(handle as number)
  }
  scope.setImmediate = setImmediate
  scope.clearImmediate = clearImmediate
}
