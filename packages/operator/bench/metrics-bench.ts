/**
 * `npm run bench` (in @hafence/operator) — the cost of `/metrics` at scale: a real
 * HaService in virtual time with `BENCH_RESOURCES` hosts (default 10,000) in clusters of
 * 1,000, each with a fake BMC, run until every host is AVAILABLE; then `BENCH_SCRAPES`
 * scrapes (default 20) are timed (wall clock, mean / p50 / max) and the text's size and
 * series count printed, with the cost of the per-check hook (ns per call), of the resource
 * counts a scrape reads, and of describeResources() (which a scrape no longer reads).
 */
import { performance } from 'node:perf_hooks';
import { HaService, MemoryStateStore, PowerManagementService, Secret, parseConfig } from '@hafence/core';
import { FakePowerDriver, FakeProvider, TestClock } from '@hafence/testkit';
import { createMetrics } from '@hafence/operator';

const RESOURCES = Number(process.env.BENCH_RESOURCES ?? 10_000);
const SCRAPES = Number(process.env.BENCH_SCRAPES ?? 20);
const PER_CLUSTER = 1_000;
const PASSWORD = 'bench-pw';

async function main(): Promise<void> {
  const clock = new TestClock();
  const config = parseConfig({ defaultPowerDrivers: ['fake'] });
  const driver = new FakePowerDriver({ clock, password: PASSWORD });
  const power = new PowerManagementService({ clock, drivers: [driver], config: { defaultPowerDrivers: ['fake'] } });
  const provider = new FakeProvider({ clock, power: driver, recordCalls: false });
  const service = new HaService({
    providers: [provider],
    clock,
    store: new MemoryStateStore(),
    config,
    power,
    joinPowerEvents: true,
  });
  const metrics = createMetrics(service);
  await service.start();
  await service.addPartition({ id: 'z1', kind: 'zone', enabled: true, haEnabled: true });
  await service.addPartition({ id: 'p1', kind: 'pod', parent: 'z1', enabled: true, haEnabled: true });
  const built = performance.now();
  for (let i = 0; i < RESOURCES; i++) {
    const cluster = `c${Math.floor(i / PER_CLUSTER) + 1}`;
    if (i % PER_CLUSTER === 0)
      await service.addPartition({ id: cluster, kind: 'cluster', parent: 'p1', enabled: true, haEnabled: true });
    const id = `h${i + 1}`;
    const binding = { target: { host: id, address: `bmc-${id}`, username: 'admin', password: new Secret(PASSWORD) } };
    await service.addResource({ ref: { type: 'host', id }, partition: cluster, power: binding });
  }
  power.startSync();
  for (let i = 0; i < 20 && service.list().some((r) => r.state !== 'AVAILABLE'); i++) await clock.advance(60_000);
  const available = service.list().filter((r) => r.state === 'AVAILABLE').length;
  const setupMs = performance.now() - built;

  const times: number[] = [];
  let text = '';
  for (let i = 0; i < SCRAPES; i++) {
    const t0 = performance.now();
    text = await metrics.metrics();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const d0 = performance.now();
  for (let i = 0; i < SCRAPES; i++) service.describeResources();
  const describeMs = (performance.now() - d0) / SCRAPES;
  const c0 = performance.now();
  for (let i = 0; i < SCRAPES; i++) service.resourceCounts();
  const countsMs = (performance.now() - c0) / SCRAPES;
  const series = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;

  // The per-check hook: what the engine pays for metrics on every health check.
  const hook = (metrics as unknown as { onCheck(k: string, r: string, ms: number): void }).onCheck.bind(metrics);
  const calls = 1_000_000;
  const h0 = performance.now();
  for (let i = 0; i < calls; i++) hook(i % 7 === 0 ? 'activity' : 'health', i % 5 === 0 ? 'failed' : 'ok', i % 900);
  const hookNs = ((performance.now() - h0) * 1e6) / calls;

  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
  console.log(`metrics bench: ${RESOURCES} resources (${available} AVAILABLE; set-up ${fmt(setupMs)})`);
  console.log(
    `  scrape: mean ${fmt(mean)}, p50 ${fmt(times[Math.floor(times.length / 2)]!)}, max ${fmt(times.at(-1)!)} over ${SCRAPES}`,
  );
  console.log(`  of which resourceCounts(): ${fmt(countsMs)} per call`);
  console.log(`  (describeResources(), which a scrape read before: ${fmt(describeMs)} per call)`);
  console.log(`  text: ${text.length} bytes, ${series} series`);
  console.log(`  check hook: ${hookNs.toFixed(0)} ns per call`);
  metrics.close();
  power.stopSync();
  await service.stop();
  await power.close();
}

await main();
