import { describe, expect, it } from 'vitest'
import { BaseTransport } from './BaseTransport.js'

/** The least a transport writes on top: send and close, and it says when it opens or hears. */
class Loopback extends BaseTransport {
  readonly sent: Uint8Array[] = []
  send(data: Uint8Array): void {
    if (!this.closing.closed) this.sent.push(data)
  }
  close(code = 1000, reason = ''): void {
    this.closing.close(code, reason)
  }
  up(): void {
    this.opened()
  }
  hear(data: Uint8Array): void {
    this.deliver(data)
  }
}

describe('BaseTransport: the listening half of a transport', () => {
  it('[TRANSPORT-2] open and message listeners are each told, in the order they were added, every frame whole', () => {
    const transport = new Loopback()
    const heard: string[] = []
    transport.onOpen(() => heard.push('open 1'))
    transport.onOpen(() => heard.push('open 2'))
    transport.onMessage((data) => heard.push(`a ${[...data].join(',')}`))
    transport.onMessage((data) => heard.push(`b ${[...data].join(',')}`))
    transport.up()
    transport.hear(new Uint8Array([1, 2]))
    transport.hear(new Uint8Array([3]))
    expect(heard).toEqual(['open 1', 'open 2', 'a 1,2', 'b 1,2', 'a 3', 'b 3'])
  })

  it('[TRANSPORT-3] the end reaches onClose once with the first code, also for a listener added after it', () => {
    const transport = new Loopback()
    const closes: Array<[number, string]> = []
    transport.onClose((code, reason) => closes.push([code, reason]))
    transport.close(4401, 'revoked')
    transport.close(1000, 'again')
    transport.onClose((code, reason) => closes.push([code, reason]))
    expect(closes).toEqual([[4401, 'revoked'], [4401, 'revoked']])
  })
})
