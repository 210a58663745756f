export { fuzzParams } from './fuzz.js'
export { deepEmbedUpdate } from './hostile-updates.js'
