#!/usr/bin/env node
// The `orchard` executable: compiled to dist/bin.mjs and run by plain Node.
import { main } from './main.js'

const code = await main(process.argv.slice(2))
// Exit explicitly: a management command's socket or a relay's timers must not keep a
// finished command alive.
process.exit(code)
