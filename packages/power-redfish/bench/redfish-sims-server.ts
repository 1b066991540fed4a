import { writeFileSync } from 'node:fs';
import { RedfishSim, generateSelfSignedCertificate, type RedfishVariant } from '@hafence/sim';

// COUNT RedfishSims in their own process (so the benchmark's client CPU excludes the servers), one certificate for
// all (written to argv[3] for the clients to trust), variants in turn. Prints the ports as JSON when ready.
const count = Number(process.argv[2] ?? '50');
const certFile = process.argv[3] ?? '';
const password = process.env.RFSIM_PASSWORD ?? 'bench-pw';
const variants: RedfishVariant[] = ['generic', 'dell', 'hpe', 'supermicro'];
const tls = generateSelfSignedCertificate({ notBeforeMs: Date.now() });
writeFileSync(certFile, tls.certPem);
const sims = Array.from(
  { length: count },
  (_, i) => new RedfishSim({ username: 'admin', password, tls, variant: variants[i % variants.length] }),
);
await Promise.all(sims.map((s) => s.start()));
console.log(JSON.stringify(sims.map((s) => ({ port: s.port, systemId: s.systemId }))));
// A line on stdin asks for the summed counters (connections and sessions show what a client reuses).
process.stdin.on('data', () => {
  const sum = { requests: 0, connections: 0, sessionsCreated: 0 };
  for (const s of sims) for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += s.stats[k];
  console.log(JSON.stringify(sum));
});
process.on('SIGTERM', () => {
  void Promise.all(sims.map((s) => s.close())).then(() => process.exit(0));
});
