import { keyedRandom, type ChassisCommand, type Clock, type TimerHandle } from '@hafence/core';
import { ArmRefusedError } from '@hafence/provider-kvm';
import type { FakeBmcFault } from '@hafence/testkit';
import { SimBmcDriver } from './sim-bmc-driver.js';
import { SimHost } from './sim-host.js';
import { SimSharedStore, type MountState } from './sim-shared-store.js';

/** Something the simulation did on its own (not the engine): for logs and assertions. */
export interface SimNote {
  readonly t: number;
  readonly type: 'sim.self-fence' | 'sim.booted' | 'sim.unsafe-release' | 'sim.cut-off-after-arm-request';
  readonly host: string;
}

/** Options of {@link SimKvmCluster}. */
export interface SimKvmClusterOptions {
  readonly clock: Clock;
  /** Host ids (default `h1..h6`). */
  readonly hosts?: readonly string[];
  readonly vmsPerHost?: number;
  /** Seeds the heartbeat phases (default 1). */
  readonly seed?: number;
  /** Boot time after a power-on or reset (default 90 s, docs/behaviour.md#scheduling-and-guards). */
  readonly bootTimeMs?: number;
  /** Heartbeat write interval (default 10 s). */
  readonly heartbeatIntervalMs?: number;
  /** Isolation time after which an armed agent fences its host (default 60 s). */
  readonly selfFenceAfterMs?: number;
  /** Password every BMC expects (default `sim-kvm-pw`). */
  readonly password?: string;
  /** Base BMC answer latency (default 5 ms). */
  readonly bmcLatencyMs?: number;
  /** What the watchdog does when an isolated agent stops feeding it: reset (default) or power off. */
  readonly watchdogAction?: 'reset' | 'off';
  /** Learns of what the simulation did by itself (self-fence, boot done). */
  readonly onNote?: (note: SimNote) => void;
}

/**
 * A simulated KVM cluster in virtual time: hosts with agents and VMs (which write their
 * volumes on the shared store while they run, busy by default), a shared store with
 * per-host outages, and in-process BMCs with a boot model. Every fault of docs/behaviour.md#scenarios
 * (except the `ms-*` ones) is a method here; the port implementations read it.
 *
 * @example
 * const sim = new SimKvmCluster({ clock, hosts: ['h1', 'h2', 'h3'] });
 * sim.start();
 * sim.crash('h2');
 */
export class SimKvmCluster {
  readonly store = new SimSharedStore();
  readonly bmc: SimBmcDriver;
  readonly password: string;
  readonly bootTimeMs: number;
  readonly heartbeatIntervalMs: number;
  readonly selfFenceAfterMs: number;
  private readonly hostMap = new Map<string, SimHost>();
  private readonly timers = new Map<string, TimerHandle>();
  private readonly clock: Clock;
  private readonly seed: number;

  /** Builds the cluster with every host running and its chassis ON; call {@link SimKvmCluster.start}. */
  constructor(private readonly options: SimKvmClusterOptions) {
    this.clock = options.clock;
    this.seed = options.seed ?? 1;
    this.password = options.password ?? 'sim-kvm-pw';
    this.bootTimeMs = options.bootTimeMs ?? 90_000;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 10_000;
    this.selfFenceAfterMs = options.selfFenceAfterMs ?? 60_000;
    this.bmc = new SimBmcDriver(
      { clock: this.clock, password: this.password, latencyMs: options.bmcLatencyMs ?? 5 },
      (host, command, before, after) => this.onChassis(host, command, before, after),
    );
    const ids = options.hosts ?? ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'];
    for (const id of ids) {
      this.hostMap.set(
        id,
        new SimHost(id, options.vmsPerHost ?? 2, this.clock.now(), this.selfFenceAfterMs, this.heartbeatIntervalMs),
      );
      this.bmc.host(id).power = 'ON';
    }
  }

  /** Every host id, in order. */
  get hostIds(): string[] {
    return [...this.hostMap.keys()];
  }

  /** The simulated host `id`; throws for an unknown id. */
  host(id: string): SimHost {
    const h = this.hostMap.get(id);
    if (!h) throw new Error(`unknown simulated host '${id}'`);
    return h;
  }

  /** Starts every agent's heartbeat loop, each with its own seeded phase. */
  start(): void {
    for (const id of this.hostMap.keys()) {
      const phase = Math.floor(keyedRandom(this.seed, id, 'heartbeat-phase', 0) * this.heartbeatIntervalMs);
      this.schedule(id, phase);
    }
  }

  /** Stops every timer of the simulation. */
  stop(): void {
    for (const t of this.timers.values()) this.clock.clearTimeout(t);
    this.timers.clear();
  }

  /** `crash`: the OS dies; the BMC works and power stays ON. */
  crash(id: string, stuck = false): void {
    const h = this.host(id);
    h.os = 'crashed';
    h.stuck = stuck;
  }

  /** `agent-down` / `agent-up`: only the agent's control connection. */
  setAgentLink(id: string, up: boolean): void {
    this.host(id).agentLinkDown = !up;
  }

  /**
   * `agent-crash` / `agent-start`: the agent process dies (no health answer, heartbeat,
   * peer answer or self-fence) while the OS and the VMs run on; a start is a fresh agent
   * that remembers no armGen (its isolation clock starts now).
   */
  setAgentCrashed(id: string, crashed: boolean): void {
    const h = this.host(id);
    if (!crashed && h.agentCrashed) {
      const now = this.clock.now();
      [h.armGen, h.lastWriteOkAt, h.lastMsRequestAt] = [0, now, now];
    }
    h.agentCrashed = crashed;
  }

  /** `vms-idle` / `vms-busy`: the host's VMs stop / resume writing their volumes (they still run). */
  setVmsBusy(id: string, busy: boolean): void {
    this.host(id).vmsBusy = busy;
  }

  /** `isolate` / `rejoin`: every network of the host. */
  setIsolated(id: string, isolated: boolean): void {
    this.host(id).isolated = isolated;
  }

  /**
   * `isolate` with `when: next-arm-request`: the host loses every network right after its
   * agent has applied the next arm/disarm request — before any heartbeat says so.
   */
  isolateOnArmRequest(id: string): void {
    this.host(id).isolateOnArmRequest = true;
  }

  /**
   * The agent of `id` received an arm/disarm request from a management server and
   * applies it (the heartbeat shows it at the next write). A request with an `armGen`
   * lower than the applied one (or equal with the other decision) is refused ({@link ArmRefusedError}).
   */
  applyArm(id: string, armed: boolean, armGen: number): void {
    const h = this.host(id);
    const now = this.clock.now();
    h.lastMsRequestAt = now;
    if (armGen < h.armGen || (armGen === h.armGen && armed !== h.armed)) throw new ArmRefusedError(armGen, h.armGen);
    h.armGen = armGen;
    // Arming restarts the isolation count: a disarmed spell is not isolation.
    if (armed && !h.armed) h.lastWriteOkAt = now;
    h.armed = armed;
    if (h.isolateOnArmRequest) {
      h.isolateOnArmRequest = false;
      h.isolated = true;
      this.note('sim.cut-off-after-arm-request', id);
    }
  }

  /** `power-off` / `power-on`: the chassis is switched outside the framework. */
  externalPower(id: string, on: boolean): void {
    const c = this.bmc.host(id);
    const before = c.power;
    c.power = on ? 'ON' : 'OFF';
    this.onChassis(id, on ? 'on' : 'off', before, c.power);
  }

  /** `power-loss`: chassis OFF and BMC unreachable. `power-restore`: BMC answers, chassis stays OFF. */
  setPowerLoss(id: string, lost: boolean): void {
    if (lost) this.externalPower(id, false);
    this.bmc.host(id).fault = lost ? 'down' : 'none';
  }

  /** `bmc-down` / `bmc-auth-broken` and their ends: the BMC's fault. */
  setBmcFault(id: string, fault: FakeBmcFault): void {
    this.bmc.host(id).fault = fault;
  }

  /** `bmc-slow` / `bmc-fast`: extra answer delay of the BMC. */
  setBmcDelay(id: string, ms: number): void {
    this.bmc.host(id).latencyMs = ms;
  }

  /** `storage-down` / `storage-up`: the shared mount for the listed hosts (all when empty). */
  setStorage(state: MountState, hosts: readonly string[] = []): void {
    for (const id of hosts.length > 0 ? hosts : this.hostIds) this.store.setMount(this.host(id).id, state);
  }

  /** `maintenance` / `maintenance-end`. */
  setMaintenance(id: string, on: boolean): void {
    this.host(id).maintenance = on;
  }

  /**
   * Checks a `workloads.released` against the simulation's ground truth: releasing a
   * host whose VMs still run is the one thing HA must never do. Notes `sim.unsafe-release`
   * and returns false when it happened.
   */
  checkRelease(id: string): boolean {
    const h = this.host(id);
    const unsafe = h.alive(this.clock.now()) && h.vms.some((vm) => vm.running);
    if (unsafe) this.note('sim.unsafe-release', id);
    return !unsafe;
  }

  /** Peers that `id` reaches over the network (both alive and on the network). */
  reachablePeers(id: string): SimHost[] {
    const now = this.clock.now();
    if (!this.host(id).agentOnNetwork(now)) return [];
    return [...this.hostMap.values()].filter((p) => p.id !== id && p.agentOnNetwork(now));
  }

  private schedule(id: string, ms: number): void {
    this.timers.set(
      id,
      this.clock.setTimeout(() => {
        this.tick(this.host(id));
        this.schedule(id, this.heartbeatIntervalMs);
      }, ms),
    );
  }

  private tick(h: SimHost): void {
    const now = this.clock.now();
    const wasBooting = h.os === 'booting';
    if (!h.alive(now)) return;
    if (wasBooting) this.note('sim.booted', h.id);
    const storageOk = !h.isolated && this.store.mount(h.id) === 'up';
    // The VMs write whatever their agent does; an idle VM writes nothing.
    if (storageOk && h.vmsBusy) for (const vm of h.vms) if (vm.running) this.store.touchVolume(vm.id);
    if (h.agentCrashed) return;
    if (storageOk) {
      h.counter++;
      h.lastWriteOkAt = now;
      this.store.writeHeartbeat(h.id, h.record());
    }
    if (this.isolatedLongEnough(h, now) && !this.peersShareLoss(h)) this.selfFence(h, now);
  }

  private isolatedLongEnough(h: SimHost, now: number): boolean {
    return (
      h.armed && now - h.lastWriteOkAt >= this.selfFenceAfterMs && now - h.lastMsRequestAt >= this.selfFenceAfterMs
    );
  }

  /**
   * A majority of reachable peers lost storage or MS contact too: a shared outage, hold (docs/behaviour.md#kvm-hosts).
   */
  private peersShareLoss(h: SimHost): boolean {
    const peers = this.reachablePeers(h.id);
    const now = this.clock.now();
    const lost = (p: SimHost) => this.store.mount(p.id) !== 'up' || now - p.lastMsRequestAt >= this.selfFenceAfterMs;
    const sharing = peers.filter(lost).length;
    return peers.length > 0 && sharing * 2 > peers.length;
  }

  /** Best-effort VM stop, then the watchdog resets the host (or powers it off); it comes back disarmed. */
  private selfFence(h: SimHost, now: number): void {
    h.selfFences++;
    h.stopVms();
    if (this.options.watchdogAction === 'off') {
      this.bmc.host(h.id).power = 'OFF';
      h.powerOff();
    } else {
      h.boot(now, this.bootTimeMs);
    }
    h.armed = false;
    this.note('sim.self-fence', h.id);
  }

  private onChassis(id: string, command: ChassisCommand, before: 'ON' | 'OFF', after: 'ON' | 'OFF'): void {
    const h = this.hostMap.get(id);
    if (!h) return;
    const now = this.clock.now();
    if (after === 'OFF') {
      if (before === 'ON') h.powerOff();
    } else if (before === 'OFF' || command === 'cycle' || command === 'reset') {
      h.boot(now, this.bootTimeMs);
    }
  }

  private note(type: SimNote['type'], host: string): void {
    this.options.onNote?.({ t: this.clock.now(), type, host });
  }
}
