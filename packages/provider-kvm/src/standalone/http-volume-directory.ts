import { NotFoundError, ProtocolError } from '@hafence/core';
import type { VmVolume, VmVolumeDirectory } from '../ports.js';
import { isVolumeName, MAX_LISTED_VOLUMES } from '../agent/vm-inventory.js';
import { agentRequest } from './agent-client.js';
import type { HttpPortsOptions } from './http-ports.js';

/**
 * {@link VmVolumeDirectory} over the hafence agent's HTTP API (`GET /volumes`): each host's
 * agent lists the volumes of its running VMs while it answers, and the directory keeps the
 * last list — the one that matters on the day the host's agent no longer answers.
 * A volume listed by a host is dropped from every other host's list (a VM migrated away
 * from a host that later dies is not that host's any more). A malformed or oversized
 * answer is refused (`ProtocolError`) and the last list stands.
 */
export class HttpVolumeDirectory implements VmVolumeDirectory {
  private readonly lists = new Map<string, readonly VmVolume[]>();
  /** Which host's list names each volume (the latest to list it). */
  private readonly owner = new Map<string, string>();

  /** Binds the directory to the agent directory and token. */
  constructor(private readonly options: HttpPortsOptions) {}

  volumesOf(host: string): readonly VmVolume[] | undefined {
    return this.lists.get(host);
  }

  async refresh(host: string, signal: AbortSignal): Promise<void> {
    const agents = this.options.agents;
    const url = typeof agents === 'function' ? agents(host) : Object.hasOwn(agents, host) ? agents[host] : undefined;
    if (!url) throw new NotFoundError('agent address', host);
    const answer = await agentRequest<unknown>(host, url, '/volumes', this.options.token, {
      method: 'GET',
      timeoutMs: this.options.replyTimeoutMs ?? 10_000,
      signal,
      clock: this.options.clock,
      tls: this.options.tls,
      keepAliveMs: this.options.keepAliveMs,
    });
    const list = checkedVolumes(host, answer);
    for (const { volume } of this.lists.get(host) ?? []) if (this.owner.get(volume) === host) this.owner.delete(volume);
    // A volume runs on one host at a time: one that moved here (a migrated VM) is no longer
    // the other hosts'. Otherwise a dead host's last list would keep naming a volume that a
    // live VM elsewhere writes, and the dead host would never be recovered.
    const losers = new Set<string>();
    for (const { volume } of list) {
      const before = this.owner.get(volume);
      if (before !== undefined && before !== host) losers.add(before);
      this.owner.set(volume, host);
    }
    this.lists.set(host, list);
    for (const other of losers) {
      this.lists.set(
        other,
        (this.lists.get(other) ?? []).filter((v) => this.owner.get(v.volume) === other),
      );
    }
  }
}

function checkedVolumes(host: string, answer: unknown): VmVolume[] {
  const list = (answer as { volumes?: unknown } | null)?.volumes;
  if (!Array.isArray(list) || list.length > MAX_LISTED_VOLUMES)
    throw new ProtocolError(host, `volumes answer must list at most ${MAX_LISTED_VOLUMES} volumes`);
  return list.map((entry: { vm?: unknown; volume?: unknown } | null) => {
    if (!isVolumeName(entry?.vm) || !isVolumeName(entry?.volume))
      throw new ProtocolError(
        host,
        'volumes answer with an entry that is not {vm, volume} strings without control characters',
      );
    return { vm: entry!.vm as string, volume: entry!.volume as string };
  });
}
