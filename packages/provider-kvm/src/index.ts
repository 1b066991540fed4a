export type {
  HeartbeatRecord, AgentHealth, AgentConnectivity, HeartbeatObservation, NeighborExecutor, KvmHostFacts, KvmInventory,
} from './ports.js';
