import { afterEach, describe, expect, it } from 'vitest'
import { eventually } from '@orchard/relay/testing'
import { RelayCastWorld } from './harness.js'

let world: RelayCastWorld | null = null
afterEach(async () => {
  await world?.close()
  world = null
})

describe('smoke', () => {
  it('an edit reaches another instance', async () => {
    world = await RelayCastWorld.start()
    const ben = await world.instance('ben', await world.member('editor', 'Ben'))
    const id = ben.session.store.addProject('Pear', '/src/pear').id
    await eventually(() => world?.hostSession.store.model.getProject?.(id) !== undefined || JSON.stringify(world?.hostSession.store.doc.toJSON()).includes('Pear'), { what: 'host sees it' })
    expect(world.fake.violations).toEqual([])
  })
})
