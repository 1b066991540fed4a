import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimBmc } from '@hafence/sim';
import {
  HafenceProcess,
  dumpChildren,
  e2eClusterYaml,
  freePorts,
  startE2eAgent,
  waitFor,
  type E2eAgentSetup,
} from './e2e-kvm-processes.js';

/** One event line of `hafence serve --json`. */
export type ServeEvent = { t: number; type: string; [k: string]: unknown };

/** Options of {@link ServeRig}. */
export interface ServeRigOptions {
  /** Names the temporary folder. */
  readonly name: string;
  readonly password: string;
  readonly token: string;
  readonly hosts: readonly string[];
  /** Extra `ha:` lines of the cluster file (see `e2eClusterYaml`). */
  readonly ha?: Parameters<typeof e2eClusterYaml>[2];
  /** Extra arguments of every `hafence serve` (e.g. `--http …`), given the rig's folder. */
  readonly serveArgs?: (dir: string) => readonly string[];
}

/**
 * One standalone cluster of real processes for a test: a folder with the agents' token and
 * the cluster file (its SQLite state lands beside it), one SimBmc per host over UDP, one
 * `hafence agent` per host, and `hafence serve --json` processes started on demand (a
 * restart is a second one on the same file).
 */
export class ServeRig {
  readonly dir: string;
  readonly tokenFile: string;
  readonly configFile: string;
  readonly setup: E2eAgentSetup & { urls: Map<string, string> };
  readonly children: HafenceProcess[] = [];
  readonly bmcs = new Map<string, SimBmc>();
  readonly agents = new Map<string, HafenceProcess>();
  readonly serves: HafenceProcess[] = [];

  /** Names the folder; nothing starts before {@link ServeRig.start}. */
  constructor(private readonly o: ServeRigOptions) {
    this.dir = mkdtempSync(join(tmpdir(), `hafence-${o.name}-`));
    this.tokenFile = join(this.dir, 'agent.token');
    this.configFile = join(this.dir, 'cluster.yaml');
    this.setup = { mount: join(this.dir, 'mount'), tokenFile: this.tokenFile, urls: new Map<string, string>() };
  }

  /** The token file, the BMCs, the agents and the cluster file; then one serve, unless told not to. */
  async start(o: { serve?: boolean } = {}): Promise<void> {
    writeFileSync(this.tokenFile, `${this.o.token}\n`);
    chmodSync(this.tokenFile, 0o600);
    const ports = await freePorts(this.o.hosts.length);
    const users = [{ name: 'admin', password: this.o.password, privilege: 4 }];
    for (const [i, h] of this.o.hosts.entries()) {
      this.setup.urls.set(h, `http://127.0.0.1:${ports[i]}`);
      this.bmcs.set(h, await SimBmc.start({ users, power: 'ON' }));
    }
    for (const h of this.o.hosts) this.startAgent(h);
    const hosts = this.o.hosts.map((h) => ({
      id: h,
      agentUrl: this.setup.urls.get(h)!,
      bmcPort: this.bmcs.get(h)!.port,
    }));
    writeFileSync(this.configFile, e2eClusterYaml(hosts, this.tokenFile, this.o.ha));
    if (o.serve ?? true) this.startServe();
  }

  /** Starts (or restarts) host `host`'s agent. */
  startAgent(host: string): HafenceProcess {
    const p = startE2eAgent(host, this.setup);
    this.children.push(p);
    this.agents.set(host, p);
    return p;
  }

  /**
   * Starts another `hafence serve --json` on the cluster file, with `extra` flags (e.g. `--observe-only`);
   * `json: false` leaves `--json` out (readable lines).
   */
  startServe(extra: readonly string[] = [], o: { json?: boolean } = {}): HafenceProcess {
    const json = o.json === false ? [] : ['--json'];
    const args = ['serve', '--config', this.configFile, ...json, ...(this.o.serveArgs?.(this.dir) ?? []), ...extra];
    const p = new HafenceProcess(`serve #${this.serves.length + 1}`, args, { E2E_BMC_PW: this.o.password });
    this.children.push(p);
    this.serves.push(p);
    return p;
  }

  /** The latest serve. */
  get serve(): HafenceProcess {
    return this.serves.at(-1)!;
  }

  /** Every event of every serve so far, in start order. */
  allEvents(): ServeEvent[] {
    return this.serves.flatMap((s) => s.json<ServeEvent>());
  }

  /** Waits until the latest serve reports every host AVAILABLE (it must stay alive meanwhile). */
  async allAvailable(ms = 45_000): Promise<void> {
    await waitFor('every host AVAILABLE', ms, () => {
      const s = this.serve;
      if (!s.alive) throw new Error(`serve exited ${s.exitCode}: ${s.stderr}`);
      const list = s.json<ServeEvent>();
      return this.o.hosts.every((h) => stateOf(h, list) === 'AVAILABLE');
    });
  }

  /** Prints every child's output when `test` failed. */
  dumpIfFailed(test: { state?: string } | undefined): void {
    if (test?.state === 'failed') for (const s of this.serves) dumpChildren(this.children, s);
  }

  /** Kills every process, closes the BMCs and removes the folder. */
  async close(): Promise<void> {
    for (const c of this.children) c.killGroup();
    await Promise.all(this.children.map((c) => c.waitExit(5_000).catch(() => undefined)));
    await Promise.all([...this.bmcs.values()].map((b) => b.close()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The HA state `host` last entered in `events`. */
export function stateOf(host: string, events: readonly ServeEvent[]): unknown {
  return events.filter((e) => e.type === 'resource.transition' && e.resource === host).at(-1)?.to;
}
