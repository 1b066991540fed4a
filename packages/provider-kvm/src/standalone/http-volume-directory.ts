import { NotFoundError, ProtocolError } from '@hafence/core';
import { hasControlChars } from '@hafence/core/internal';
import type { VmVolume, VmVolumeDirectory } from '../ports.js';
import { MAX_LISTED_VOLUMES } from '../agent/vm-inventory.js';
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
    });
    const list = checkedVolumes(host, answer);
    this.lists.set(host, list);
    // A volume runs on one host at a time: one that moved here (a migrated VM) is no longer
    // the other hosts'. Otherwise a dead host's last list would keep naming a volume that a
    // live VM elsewhere writes, and the dead host would never be recovered.
    const here = new Set(list.map((v) => v.volume));
    for (const [other, volumes] of this.lists) {
      if (other !== host && volumes.some((v) => here.has(v.volume)))
        this.lists.set(
          other,
          volumes.filter((v) => !here.has(v.volume)),
        );
    }
  }
}

function checkedVolumes(host: string, answer: unknown): VmVolume[] {
  const list = (answer as { volumes?: unknown } | null)?.volumes;
  if (!Array.isArray(list) || list.length > MAX_LISTED_VOLUMES)
    throw new ProtocolError(host, `volumes answer must list at most ${MAX_LISTED_VOLUMES} volumes`);
  const ok = (v: unknown) => typeof v === 'string' && v.length > 0 && v.length <= 1024 && !hasControlChars(v);
  return list.map((entry: { vm?: unknown; volume?: unknown } | null) => {
    if (!ok(entry?.vm) || !ok(entry?.volume))
      throw new ProtocolError(
        host,
        'volumes answer with an entry that is not {vm, volume} strings without control characters',
      );
    return { vm: entry!.vm as string, volume: entry!.volume as string };
  });
}
