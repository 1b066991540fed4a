/**
 * `@hafence/fuzz-helpers` (private workspace package, never published): fast-check
 * arbitraries and run counts shared by the packet fuzz tests.
 * @packageDocumentation
 */
export { FUZZ_SEED, fuzzRuns, mutated, noise } from './packet-arbitraries.js';
