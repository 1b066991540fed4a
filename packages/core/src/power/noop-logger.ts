import type { Logger } from '../spi/logger.js';

/** A {@link Logger} that discards everything: the default of the power service. */
export const noopLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
