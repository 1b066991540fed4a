/* Tokens are registry symbols (`Symbol.for`), so two copies of @hafence/core share them. */
/** DI token: the {@link Clock}. */
export const CLOCK = Symbol.for('hafence.Clock');
/** DI token: the {@link StateStore}. */
export const STATE_STORE = Symbol.for('hafence.StateStore');
/** DI token: every {@link HAProvider} (resolve with `resolveAll`); the engine gets them all. */
export const HA_PROVIDERS = Symbol.for('hafence.HAProviders');
/** DI token: every {@link PowerDriver} (resolve with `resolveAll`); the power service gets them all. */
export const POWER_DRIVERS = Symbol.for('hafence.PowerDrivers');
/** DI token: the validated configuration. */
export const HA_CONFIG = Symbol.for('hafence.Config');
/** DI token: the {@link Logger}. */
export const LOGGER = Symbol.for('hafence.Logger');
/** DI token: overrides of the power service's settings (`Partial<PowerServiceConfig>`). */
export const POWER_CONFIG = Symbol.for('hafence.PowerConfig');
/** DI token: the `PowerManagementService` the container builds from every registered driver. */
export const POWER_SERVICE = Symbol.for('hafence.PowerService');
/** DI token: the power backend the engine uses (the power management service). */
export const POWER_BACKEND = Symbol.for('hafence.PowerBackend');
/** DI token: the {@link HaService}. */
export const HA_SERVICE = Symbol.for('hafence.HaService');
