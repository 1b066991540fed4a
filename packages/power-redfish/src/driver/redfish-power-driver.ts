import { createHash } from 'node:crypto';
import {
  DriverError,
  HaError,
  Secret,
  TimeoutError,
  UnsupportedOperationError,
  noopLogger,
  systemClock,
  type ChassisCommand,
  type ChassisPower,
  type Clock,
  type Logger,
  type PowerCallOptions,
  type PowerDriver,
  type PowerTarget,
} from '@hafence/core';
import { redact, withClockSignal } from '@hafence/core/internal';
import { readActionInfo, readSystem, type RedfishSystem } from '../protocol/resources.js';
import { chooseResetType } from '../protocol/reset-types.js';
import { RedfishBmc, type BmcAnswer } from '../transport/redfish-bmc.js';
import { statusError } from '../transport/status-errors.js';
import { followTask } from '../transport/task-monitor.js';
import { readTargetOptions, type RedfishTargetOptions } from './redfish-target.js';
import { TlsAgents, type TlsPolicy } from './tls-agents.js';

/** Options of {@link RedfishPowerDriver}. */
export interface RedfishPowerDriverOptions {
  readonly clock?: Clock;
  /** Where the insecure-TLS warning and debug detail go (never a password or token). */
  readonly logger?: Logger;
  /** PEM text of the CA that signed the BMC certificates (a target's `caFile` wins). */
  readonly ca?: string;
  /** PEM file of that CA. */
  readonly caFile?: string;
  /**
   * Accept any BMC certificate (self-signed ones) without verification. Off by default; a
   * warning is logged each time a driver is built with it.
   */
  readonly insecureTls?: boolean;
  /** Fall back to HTTP Basic when a service has no session login (default false). */
  readonly basicAuth?: boolean;
  /** Connections kept to each BMC (default 2). */
  readonly maxSockets?: number;
  /** Pause between task monitor polls (default 250 ms); a shorter `Retry-After` never polls faster. */
  readonly taskPollMs?: number;
  /** Times a `503` is retried within the call (default 2). */
  readonly busyRetries?: number;
  /**
   * After a BMC refused a login (401/403), calls with the same credentials fail at once with
   * an `AuthError` for this long without contacting it (default 30000 ms; 0: never), so that
   * retries do not lock the BMC account. Changed credentials are tried at once.
   */
  readonly authBackoffMs?: number;
  /** Deadline of each session logout on {@link RedfishPowerDriver.close} (default 2000 ms). */
  readonly logoutTimeoutMs?: number;
}

const INSECURE_WARNING =
  'redfish: TLS certificate verification is OFF (insecureTls): anyone on the path to the BMC can read its password';

/**
 * The Redfish power driver (`redfish`): DMTF Redfish over HTTPS with Node's own `https`,
 * one session per BMC and account (logged out on {@link RedfishPowerDriver.close}),
 * kept-alive connections, `ComputerSystem.Reset` with the `ResetType` the system offers,
 * task monitors followed to the end.
 *
 * @example
 * const driver = new RedfishPowerDriver({ caFile: '/etc/hafence/bmc-ca.pem' });
 * const target = { host: 'kvm1', address: '10.0.0.5', username: 'admin', password: new Secret(pw) };
 * await driver.control(target, 'off', { signal: AbortSignal.timeout(10000), timeoutMs: 10000 });
 */
export class RedfishPowerDriver implements PowerDriver {
  /** Registry name. */
  readonly name = 'redfish';
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #options: RedfishPowerDriverOptions;
  readonly #agents: TlsAgents;
  readonly #bmcs = new Map<string, RedfishBmc>();
  readonly #warnedHosts = new Set<string>();

  /** Creates the driver; warns when it is built with `insecureTls`. */
  constructor(options: RedfishPowerDriverOptions = {}) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? noopLogger;
    this.#agents = new TlsAgents(options.maxSockets ?? 2, () => this.#clock.now());
    if (options.insecureTls) warnInsecure(this.#logger, {});
    // read at once: a bad file is a ConfigError from the constructor, not from every call
    if (options.caFile !== undefined) this.#agents.caFromFile(options.caFile);
  }

  /** Reads `PowerState`: `Off` is OFF, every other state (`On`, `PoweringOff`…) ON. */
  status(target: PowerTarget, options: PowerCallOptions): Promise<ChassisPower> {
    return this.#run(target, options, 'status', async (bmc, signal) => (await this.#system(bmc, signal)).power);
  }

  /** `ComputerSystem.Reset` with the `ResetType` of `command` the system offers. */
  control(target: PowerTarget, command: ChassisCommand, options: PowerCallOptions): Promise<void> {
    return this.#run(target, options, command, async (bmc, signal, o) => {
      const sys = await this.#system(bmc, signal);
      if (alreadyThere(command, sys)) return;
      if (!sys.reset)
        throw new UnsupportedOperationError(`${command} (the system has no ComputerSystem.Reset)`, 'redfish');
      const reset = sys.reset;
      const allowable =
        reset.allowable ??
        (reset.actionInfo
          ? readActionInfo(await this.#doc(bmc, reset.actionInfo, 'ActionInfo', signal), bmc.host)
          : []);
      const ResetType = chooseResetType(command, allowable);
      const a = await this.#ifMatch(bmc, sys, signal, (headers) =>
        bmc.call({
          method: 'POST',
          path: reset.target,
          body: { ResetType },
          headers,
          what: `Reset ${ResetType}`,
          signal,
          accept: [412, 428],
        }),
      );
      if (a.status === 202) {
        const deadlineMs = o.taskTimeoutMs ?? options.timeoutMs;
        await followTask(bmc, a.headers.location, {
          clock: this.#clock,
          deadlineMs,
          pollMs: this.#options.taskPollMs ?? 250,
          signal,
          what: `Reset ${ResetType}`,
        });
      }
    });
  }

  /**
   * Turns the system's locator on (`seconds` > 0) or off (0): `LocationIndicatorActive`, or
   * `IndicatorLED` on older services. Redfish has no duration: the light stays on until turned off.
   */
  identify(target: PowerTarget, seconds: number, options: PowerCallOptions): Promise<void> {
    return this.#run(target, options, 'identify', async (bmc, signal) => {
      const sys = await this.#system(bmc, signal);
      const on = seconds > 0;
      if (!sys.indicator)
        throw new UnsupportedOperationError(
          'identify (the system has no LocationIndicatorActive or IndicatorLED)',
          'redfish',
        );
      const body =
        sys.indicator === 'LocationIndicatorActive'
          ? { LocationIndicatorActive: on }
          : { IndicatorLED: on ? 'Blinking' : 'Off' };
      await this.#ifMatch(bmc, sys, signal, (headers) =>
        bmc.call({ method: 'PATCH', path: sys.path, body, headers, what: 'identify', signal, accept: [412, 428] }),
      );
    });
  }

  /** Logs in, finds the system and reads it, changing nothing. */
  async validate(target: PowerTarget, options: PowerCallOptions): Promise<void> {
    await this.status(target, options);
  }

  /** Logs out of every session (each bounded) and closes every kept-alive connection. */
  async close(): Promise<void> {
    const bmcs = [...this.#bmcs.values()];
    this.#bmcs.clear();
    const ms = this.#options.logoutTimeoutMs ?? 2000;
    await Promise.all(
      bmcs.map((b) => withClockSignal(this.#clock, ms, 'redfish logout', (s) => b.logout(s)).catch(() => undefined)),
    );
    this.#agents.destroy();
  }

  /** Reads the system, finding it again once when its path is gone (404). */
  async #system(bmc: RedfishBmc, signal: AbortSignal): Promise<RedfishSystem & { etag?: string }> {
    for (let attempt = 0; ; attempt++) {
      const path = await bmc.systemPath(signal);
      const a = await bmc.call({ method: 'GET', path, what: 'system', signal, accept: attempt === 0 ? [404] : [] });
      if (a.status === 404) {
        bmc.forgetSystem();
        continue;
      }
      const sys = readSystem(need(a, bmc.host, 'system'), bmc.host, path);
      const etag = a.headers.etag;
      return typeof etag === 'string' && etag.length > 0 && etag.length <= 256 ? { ...sys, etag } : sys;
    }
  }

  async #doc(bmc: RedfishBmc, path: string, what: string, signal: AbortSignal) {
    return need(await bmc.call({ method: 'GET', path, what, signal }), bmc.host, what);
  }

  /** Sends with `If-Match` when the BMC wants it (learned from a 428, refreshed after a 412). */
  async #ifMatch(
    bmc: RedfishBmc,
    sys: RedfishSystem,
    signal: AbortSignal,
    send: (headers: Record<string, string>) => Promise<BmcAnswer>,
  ): Promise<BmcAnswer> {
    const first = await send(bmc.requiresIfMatch && sys.etag ? { 'If-Match': sys.etag } : {});
    if (first.status !== 412 && first.status !== 428) return first;
    bmc.requiresIfMatch = true;
    const fresh = await this.#system(bmc, signal);
    const again = await send({ 'If-Match': fresh.etag ?? '*' });
    if (again.status === 412 || again.status === 428) throw statusError(bmc.host, 'If-Match', again.status, again.doc);
    return again;
  }

  #bmc(target: PowerTarget, o: RedfishTargetOptions): RedfishBmc {
    const policy = this.#tls(target, o);
    const password = target.password ?? new Secret('');
    const basicAuth = o.basicAuth ?? this.#options.basicAuth ?? false;
    const port = o.redfishPort ?? target.port ?? 443;
    const key = [
      target.address,
      port,
      target.username ?? '',
      createHash('sha256').update(password.reveal()).digest('hex'),
      TlsAgents.keyOf(policy),
      o.systemId ?? '',
      basicAuth,
    ].join('\u0000');
    let bmc = this.#bmcs.get(key);
    if (!bmc) {
      bmc = new RedfishBmc({
        endpoint: {
          host: target.host,
          address: target.address,
          port,
          agent: this.#agents.agent(policy),
        },
        account: { username: target.username ?? '', password },
        basicAuth,
        ...(o.systemId !== undefined ? { systemId: o.systemId } : {}),
        clock: this.#clock,
        logger: this.#logger,
        busyRetries: this.#options.busyRetries ?? 2,
        authBackoffMs: this.#options.authBackoffMs ?? 30_000,
      });
      this.#bmcs.set(key, bmc);
    }
    return bmc;
  }

  #tls(target: PowerTarget, o: RedfishTargetOptions): TlsPolicy {
    if (o.insecureTls) {
      if (!this.#options.insecureTls && !this.#warnedHosts.has(target.host)) {
        this.#warnedHosts.add(target.host);
        warnInsecure(this.#logger, { host: target.host });
      }
      return { insecure: true };
    }
    if (o.caFile) return { insecure: false, ca: this.#agents.caFromFile(o.caFile, `${target.host}.options.caFile`) };
    if (this.#options.insecureTls) return { insecure: true };
    if (this.#options.caFile) return { insecure: false, ca: this.#agents.caFromFile(this.#options.caFile) };
    return this.#options.ca ? { insecure: false, ca: this.#options.ca } : { insecure: false };
  }

  async #run<T>(
    target: PowerTarget,
    options: PowerCallOptions,
    op: string,
    fn: (bmc: RedfishBmc, signal: AbortSignal, o: RedfishTargetOptions) => Promise<T>,
  ): Promise<T> {
    try {
      const o = readTargetOptions(target);
      const bmc = this.#bmc(target, o);
      return await withClockSignal(this.#clock, options.timeoutMs, `redfish ${op}`, (s) => fn(bmc, s, o), {
        parent: options.signal,
        timeoutReason: () => new TimeoutError(`redfish ${op}`, options.timeoutMs, target.host),
        race: true,
      });
    } catch (err) {
      // Typed errors and the caller's abort reason pass through (with any echo of the
      // password removed); anything else is a bug, reported as a DriverError with its cause.
      if (options.signal.aborted && err === options.signal.reason) throw err;
      const secrets = [target.password];
      if (err instanceof HaError) {
        err.message = redact(err.message, secrets);
        if (err.stack) err.stack = redact(err.stack, secrets);
        throw err;
      }
      throw new DriverError('redfish', target.host, redact(err instanceof Error ? err.message : String(err), secrets), {
        cause: err,
      });
    }
  }
}

function need(a: BmcAnswer, host: string, what: string) {
  if (!a.doc) throw new DriverError('redfish', host, `${what}: empty answer`);
  return a.doc;
}

/** A command whose end state the system is already in (a BMC may refuse `On` when on). */
function alreadyThere(command: ChassisCommand, sys: RedfishSystem): boolean {
  if (command === 'on') return sys.powerState === 'On';
  if (command === 'off' || command === 'soft') return sys.powerState === 'Off';
  return false;
}

function warnInsecure(logger: Logger, fields: Record<string, unknown>): void {
  logger.warn(INSECURE_WARNING, fields);
  if (logger === noopLogger) process.emitWarning(INSECURE_WARNING, { code: 'HAFENCE_REDFISH_INSECURE_TLS' });
}
