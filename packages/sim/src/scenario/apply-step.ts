import type { SimKvmEnv } from '../kvm/create-sim-kvm-env.js';
import { UnsupportedScenarioError } from './scenario-error.js';
import type { ScenarioStep } from './scenario-schema.js';

/** Applies one fault of docs/behaviour.md#scenarios to a running simulated environment. */
export async function applyStep(env: SimKvmEnv, step: ScenarioStep): Promise<void> {
  const sim = env.sim;
  switch (step.do) {
    case 'crash':
      return sim.crash(step.host, step.stuck ?? false);
    case 'agent-down':
      return sim.setAgentLink(step.host, false);
    case 'agent-up':
      return sim.setAgentLink(step.host, true);
    case 'agent-crash':
      return sim.setAgentCrashed(step.host, true);
    case 'agent-start':
      return sim.setAgentCrashed(step.host, false);
    case 'vms-idle':
      return sim.setVmsBusy(step.host, false);
    case 'vms-busy':
      return sim.setVmsBusy(step.host, true);
    case 'isolate':
      return step.when === 'next-arm-request' ? sim.isolateOnArmRequest(step.host) : sim.setIsolated(step.host, true);
    case 'rejoin':
      return sim.setIsolated(step.host, false);
    case 'power-off':
      return sim.externalPower(step.host, false);
    case 'power-on':
      return sim.externalPower(step.host, true);
    case 'power-loss':
      return sim.setPowerLoss(step.host, true);
    case 'power-restore':
      return sim.setPowerLoss(step.host, false);
    case 'bmc-down':
      return sim.setBmcFault(step.host, 'down');
    case 'bmc-up':
      return sim.setBmcFault(step.host, 'none');
    case 'bmc-auth-broken':
      return sim.setBmcFault(step.host, 'auth');
    case 'bmc-auth-fixed':
      return sim.setBmcFault(step.host, 'none');
    case 'bmc-slow':
      return sim.setBmcDelay(step.host, step.delay);
    case 'bmc-fast':
      return sim.setBmcDelay(step.host, 0);
    case 'maintenance':
      return sim.setMaintenance(step.host, true);
    case 'maintenance-end':
      return sim.setMaintenance(step.host, false);
    case 'storage-down':
      return sim.setStorage(step.mode ?? 'down', step.hosts);
    case 'storage-up':
      return sim.setStorage('up', step.hosts);
    case 'ha-disable':
      return env.servers
        ? env.servers.setHaEnabled(step.cluster, false)
        : env.service.setHaEnabled(step.cluster, false);
    case 'ha-enable':
      return env.servers ? env.servers.setHaEnabled(step.cluster, true) : env.service.setHaEnabled(step.cluster, true);
    default:
      return applyServerStep(env, step);
  }
}

/** The faults of several management servers (docs/behaviour.md#several-servers). */
async function applyServerStep(env: SimKvmEnv, step: Extract<ScenarioStep, { ms: string }>): Promise<void> {
  const servers = env.servers;
  if (!servers) throw new UnsupportedScenarioError(`the '${step.do}' fault with one management server`);
  switch (step.do) {
    case 'ms-crash':
      return servers.crash(step.ms);
    case 'ms-start':
      return servers.start(step.ms);
    case 'ms-isolate':
      return servers.isolate(step.ms, true);
    case 'ms-rejoin':
      return servers.isolate(step.ms, false);
  }
}
