// fence: crash stuck -> recovery fails -> FENCING. sweep ms-crash over the whole episode
import { run, check } from './lib.mjs';
const [from, to, step] = process.argv.slice(2).map(Number);
let bad = 0;
for (let at = from; at <= to; at += step) {
  const r = await run({ name: 'sweep', hosts: 6, managementServers: 2, seed: 42,
    steps: [ { at: '5m', do: 'bmc-slow', host: 'h3', delay: '3s' }, { at: '6m', do: 'crash', host: 'h3', stuck: true }, { at, do: 'ms-crash', ms: 'ms2' } ],
    run: '60m' });
  const p = check(r, { crashed: ['h3'] });
  if (p.length) { bad++; console.log(at, p.join(' | ').slice(0, 800)); }
}
console.log('done', bad);
