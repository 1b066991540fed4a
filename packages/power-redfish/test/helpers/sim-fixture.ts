import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { Secret, type ChassisPower, type LogFields, type Logger, type PowerTarget } from '@hafence/core';
import { RedfishPowerDriver, type RedfishPowerDriverOptions } from '@hafence/power-redfish';
import { RedfishSim, type RedfishSimOptions, type RedfishVariant } from '@hafence/sim';
import type { PowerDriverFixture } from '@hafence/testkit/mocha';

/** The password of every simulated BMC in these tests (asserted absent from logs and errors). */
export const SIM_PASSWORD = 'rf-sim-secret-7';

/** Short power delays, so that the conformance suite's settle time holds. */
export const FAST_DELAYS = { forceOffMs: 30, gracefulShutdownMs: 300, onMs: 30 };

/** A logger that keeps every line (to assert warnings, and that no secret is ever logged). */
export class CaptureLogger implements Logger {
  /** Every line logged, with its level. */
  readonly lines: { level: string; message: string; fields?: LogFields }[] = [];
  /** Debug detail. */
  debug(message: string, fields?: LogFields): void {
    this.lines.push({ level: 'debug', message, fields });
  }
  /** Normal operation. */
  info(message: string, fields?: LogFields): void {
    this.lines.push({ level: 'info', message, fields });
  }
  /** Warnings. */
  warn(message: string, fields?: LogFields): void {
    this.lines.push({ level: 'warn', message, fields });
  }
  /** Errors. */
  error(message: string, fields?: LogFields): void {
    this.lines.push({ level: 'error', message, fields });
  }
  /** Everything logged, as one text. */
  text(): string {
    return JSON.stringify(this.lines);
  }
}

/** Starts a simulator. */
export async function startSim(variant: RedfishVariant, extra: Partial<RedfishSimOptions> = {}): Promise<RedfishSim> {
  const sim = new RedfishSim({
    username: 'admin',
    password: SIM_PASSWORD,
    variant,
    powerDelays: FAST_DELAYS,
    ...extra,
  });
  await sim.start();
  return sim;
}

/** The target of a simulator. */
export function simTarget(sim: RedfishSim, options: Record<string, unknown> = {}): PowerTarget {
  return {
    host: `rf-${sim.port}`,
    address: '127.0.0.1',
    port: sim.port,
    username: 'admin',
    password: new Secret(SIM_PASSWORD),
    options,
  };
}

/** A driver that trusts the simulator's certificate as its CA. */
export function simDriver(sim: RedfishSim, extra: RedfishPowerDriverOptions = {}): RedfishPowerDriver {
  return new RedfishPowerDriver({ ca: sim.certPem, taskPollMs: 20, ...extra });
}

/** A TCP port where nothing listens (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 1;
}

/** The simulator's power as the conformance suite reads it. */
export const simPower = (sim: RedfishSim): ChassisPower => (sim.powerState() === 'Off' ? 'OFF' : 'ON');

/** A conformance fixture: a simulator of `variant`, our driver, a wrong password and a closed port. */
export async function simFixture(variant: RedfishVariant): Promise<PowerDriverFixture> {
  const sim = await startSim(variant);
  const driver = simDriver(sim);
  const target = simTarget(sim);
  const offersCycle = variant === 'generic' || variant === 'dell';
  return {
    driver,
    target,
    readPower: async () => simPower(sim),
    setPower: async (p) => sim.setPowerState(p === 'ON' ? 'On' : 'Off'),
    wrongPasswordTarget: { ...target, password: new Secret('not-the-password') },
    unreachableTarget: { ...target, host: 'closed-port', port: await closedPort() },
    ...(offersCycle ? {} : { unsupported: ['cycle'] as const }),
    close: async () => {
      await driver.close();
      await sim.close();
    },
  };
}

/** Reads a document of the simulator behind the driver's back (HTTP Basic, its own connection). */
export function simGet(sim: RedfishSim, path: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const auth = Buffer.from(`admin:${SIM_PASSWORD}`).toString('base64');
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port: sim.port,
        path,
        ca: sim.certPem,
        agent: false,
        headers: { Authorization: `Basic ${auth}` },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
          } catch (err) {
            reject(err as Error);
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}
