export { fuzzParams } from './fuzz.js'
