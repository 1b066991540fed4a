import { TestClock, type TestClockOptions } from './test-clock.js';
import { TestClockOptionsError } from './test-clock-error.js';

/** The environment variable that picks a test suite's clock: `default`, `jitter` or `jitter:<seed>`. */
export const TEST_CLOCK_ENV = 'HAFENCE_TEST_CLOCK';

/** Seed of `jitter` without one. */
const DEFAULT_JITTER_SEED = 1;

/**
 * Reads a clock mode: empty or `default` → timers on time; `jitter` or `jitter:<seed>` →
 * timers up to 2 ms early and 50 ms late, seeded.
 */
export function parseTestClockMode(text: string | undefined): TestClockOptions {
  const mode = text?.trim() ?? '';
  if (mode === '' || mode === 'default') return {};
  const m = /^jitter(?::(-?\d+))?$/.exec(mode);
  const seed = m ? Number(m[1] ?? DEFAULT_JITTER_SEED) : NaN;
  if (!m || !Number.isSafeInteger(seed))
    throw new TestClockOptionsError(TEST_CLOCK_ENV, text, "'default', 'jitter' or 'jitter:<integer seed>'");
  return { jitter: { seed } };
}

/**
 * A {@link TestClock} in the mode `HAFENCE_TEST_CLOCK` names (see {@link parseTestClockMode}),
 * so a suite can be rerun under jittered timers without editing it.
 *
 * @example
 * // HAFENCE_TEST_CLOCK=jitter:7 npx mocha
 * const clock = testClockFromEnv();
 */
export function testClockFromEnv(
  start?: number,
  env: Readonly<Record<string, string | undefined>> = process.env,
): TestClock {
  return new TestClock(start, parseTestClockMode(env[TEST_CLOCK_ENV]));
}
