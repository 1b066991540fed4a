import { SimBmc } from '@hafence/power-ipmi/sim';

// A SimBmc in its own process, so the benchmark's client CPU excludes the server.
const port = Number(process.argv[2]);
const password = process.env.SIMBMC_PASSWORD ?? 'bench-pw';
const bmc = await SimBmc.start({ port, users: [{ name: 'admin', password, privilege: 4 }], power: 'ON' });
console.log('ready');
process.on('SIGTERM', () => {
  void bmc.close().then(() => process.exit(0));
});
