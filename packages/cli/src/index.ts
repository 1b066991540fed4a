/**
 * `@hafence/cli`: the `hafence` command. Its library entry point runs the command in
 * process (`run(argv)`), e.g. from a wrapper script or a test.
 * @packageDocumentation
 */
export { buildProgram, run } from './program.js';
export { EXIT, exitCodeFor, worstExitCode } from './exit-codes.js';
