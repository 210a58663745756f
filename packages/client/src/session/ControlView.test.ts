import type { ActivityEntry, AgentRecord, LeaseRecord } from '@orchard/protocol'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { ControlView } from './ControlView.js'

const entry = (type: string, at: number): ActivityEntry => ({ at, type, actor: null })
const agent = (id: string, createdAt: number) => ({ id, projectId: 'p', name: id, hostInstanceId: 'h', status: 'running', createdAt, updatedAt: createdAt }) as unknown as AgentRecord

describe('ControlView: the control doc as a session reads it', () => {
  it('[SESSION-5] each new activity entry is one `activity` event, in order, as it arrives; the head the relay trims is not news', () => {
    const doc = new Y.Doc()
    const feed = doc.getArray<ActivityEntry>('activity')
    feed.push([entry('joined', 1)])
    const view = new ControlView(doc)
    const heard: string[] = []
    view.on('activity', (news) => heard.push(news.type))
    feed.push([entry('spawned', 2), entry('claimed', 3)])
    doc.transact(() => {
      feed.delete(0, 1)
      feed.push([entry('stopped', 4)])
    })
    expect(heard).toEqual(['spawned', 'claimed', 'stopped'])
    expect(view.activity().map((news) => news.type)).toEqual(['spawned', 'claimed', 'stopped'])
    view.destroy()
    feed.push([entry('left', 5)])
    expect(heard).toHaveLength(3)
  })

  it('[SESSION-5] agents newest first; one agent, a lease, members and instances as the relay wrote them', () => {
    const doc = new Y.Doc()
    const view = new ControlView(doc)
    doc.getMap<AgentRecord>('agents').set('a', agent('a', 10))
    doc.getMap<AgentRecord>('agents').set('c', agent('c', 30))
    doc.getMap<AgentRecord>('agents').set('b', agent('b', 20))
    const lease = { agentId: 'b', holder: 'i1', epoch: 3, expiresAt: 99 } as unknown as LeaseRecord
    doc.getMap<LeaseRecord>('leases').set('b', lease)
    doc.getMap('members').set('m1', { id: 'm1', name: 'Ana', role: 'owner' })
    doc.getMap('instances').set('i1', { instanceId: 'i1', memberId: 'm1' })
    expect(view.agents().map((record) => record.id)).toEqual(['c', 'b', 'a'])
    expect(view.agent('b')?.createdAt).toBe(20)
    expect(view.agent('zz')).toBeUndefined()
    expect(view.leaseOf('b')).toEqual(lease)
    expect(view.leaseOf('a')).toBeUndefined()
    expect([...view.members().keys()]).toEqual(['m1'])
    expect(view.instances().get('i1')).toMatchObject({ memberId: 'm1' })
  })
})
