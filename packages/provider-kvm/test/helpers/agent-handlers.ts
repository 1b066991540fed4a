import type { AgentHandlers } from '@hafence/provider-kvm';

/**
 * Agent handlers for client tests against a real agent server: healthy, with a heartbeat read that takes 150 ms (so
 * concurrent `POST /read-heartbeat` requests overlap on the agent's connections).
 */
export const slowReadHandlers: AgentHandlers = {
  msRequest: () => {},
  health: () => ({ connected: true }),
  readHeartbeat: async () => {
    await new Promise((r) => setTimeout(r, 150));
    return { ok: false, reason: 'error', detail: 'n/a' };
  },
  volumes: async () => ({ volumes: [], truncated: false }),
  arm: async (armed, armGen) => ({ armGen: armGen ?? 1, armed, haEnabled: armed, watchdog: 'simulated' }),
  peerReach: async () => true,
  peerStatus: () => ({ host: 'h1', storageOk: true, msContactOk: true }),
};
