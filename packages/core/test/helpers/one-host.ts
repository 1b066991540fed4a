import { Secret, type HaService } from '@hafence/core';

/** Starts `ha` with cluster c1 and host h1, whose controller is BMC `h1` (password `pw`). */
export async function startOneHost(ha: HaService): Promise<void> {
  await ha.start();
  await ha.addPartition({ id: 'c1', kind: 'cluster', enabled: true, haEnabled: true });
  await ha.addResource({
    ref: { type: 'host', id: 'h1' },
    partition: 'c1',
    power: { target: { host: 'h1', address: 'a', password: new Secret('pw') } },
  });
}
