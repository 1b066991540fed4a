import type { HeartbeatRecord } from '@hafence/provider-kvm';

/** What the operating system of a simulated host is doing. */
export type SimOsState = 'up' | 'booting' | 'crashed' | 'off';

/** A VM of a simulated host, with its volume on the shared store. */
export interface SimVm {
  readonly id: string;
  /** The VM runs (in memory); it writes its volume while its host reaches the store. */
  running: boolean;
}

/**
 * One simulated KVM host: its OS (boot model), its agent (control connection, armed
 * watchdog, heartbeat counter) and its VMs. {@link SimKvmCluster} drives it; tests read it.
 */
export class SimHost {
  /** OS state; `booting` turns `up` at {@link SimHost.bootUntil}. */
  os: SimOsState = 'up';
  bootUntil = 0;
  /** A power cycle does not cure the crash (`crash` with `stuck: true`). */
  stuck = false;
  /** Only the agent's control connection is down (`agent-down`). */
  agentLinkDown = false;
  /**
   * The agent process is dead, hung or starved (`agent-crash`): no health answer, no
   * heartbeat, no peer answers, no self-fence — while the VMs run on and write.
   */
  agentCrashed = false;
  /** The VMs write their volumes (`vms-busy`, the default); `vms-idle`: they run but write nothing. */
  vmsBusy = true;
  /** The host lost every network (`isolate`): no agent, no store, VMs still in memory. */
  isolated = false;
  /** The agent holds its watchdog open for HA (docs/behaviour.md#kvm-hosts). */
  armed = true;
  /** The `armGen` of the last arm/disarm request the agent applied (0: none since it started). */
  armGen = 0;
  /** Cut the host off as soon as its agent has applied the next arm/disarm request (scenario knob). */
  isolateOnArmRequest = false;
  /** Operator maintenance mode (a control-plane fact). */
  maintenance = false;
  /** Heartbeat counter, increased on every successful write. */
  counter = 0;
  /** Last successful heartbeat write (virtual ms). */
  lastWriteOkAt: number;
  /** Last authenticated request from a management server that reached the agent. */
  lastMsRequestAt: number;
  /** How many times the agent fenced its own host. */
  selfFences = 0;
  readonly vms: SimVm[] = [];

  /**
   * Builds a running host with `vms` VMs, alive since `now`. `resetMarginMs` is the
   * agent's worst case from `selfFenceAfter` to the reset (the sim checks once per heartbeat).
   */
  constructor(
    readonly id: string,
    vms: number,
    now: number,
    readonly selfFenceAfter: number,
    readonly resetMarginMs = 0,
  ) {
    this.lastWriteOkAt = now;
    this.lastMsRequestAt = now;
    for (let i = 1; i <= vms; i++) this.vms.push({ id: `${id}-vm${i}`, running: true });
  }

  /** The OS runs (a booting host becomes `up` once its boot time has passed). */
  alive(now: number): boolean {
    if (this.os === 'booting' && now >= this.bootUntil) this.os = 'up';
    return this.os === 'up';
  }

  /** The host's agent answers management servers. */
  agentReachable(now: number): boolean {
    return this.alive(now) && !this.agentLinkDown && !this.isolated && !this.agentCrashed;
  }

  /** The host's agent runs and is on the cluster network (peer agents can talk to it). */
  agentOnNetwork(now: number): boolean {
    return this.onNetwork(now) && !this.agentCrashed;
  }

  /** The host is on the cluster network (peers can reach it). */
  onNetwork(now: number): boolean {
    return this.alive(now) && !this.isolated;
  }

  /** The heartbeat record the agent writes now. */
  record(): HeartbeatRecord {
    return {
      counter: this.counter,
      armed: this.armed,
      selfFenceAfter: this.selfFenceAfter,
      watchdog: 'simulated',
      resetMarginMs: this.resetMarginMs,
      armGen: this.armGen,
    };
  }

  /** The chassis lost power or was switched off: the OS and every VM stop. */
  powerOff(): void {
    this.os = 'off';
    this.stopVms();
  }

  /** The chassis was switched on or reset: the OS boots for `bootTime` unless the crash is stuck. */
  boot(now: number, bootTime: number): void {
    this.stopVms();
    if (this.stuck) {
      this.os = 'crashed';
      return;
    }
    this.os = 'booting';
    this.bootUntil = now + bootTime;
    // The agent starts fresh: its isolation clock begins at boot; it remembers no armGen.
    this.agentCrashed = false;
    this.armGen = 0;
    this.lastWriteOkAt = now + bootTime;
    this.lastMsRequestAt = now + bootTime;
  }

  /** Stops every VM (the control plane restarts them elsewhere once released). */
  stopVms(): void {
    for (const vm of this.vms) vm.running = false;
  }
}
