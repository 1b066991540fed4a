import { expect } from 'chai';
import { SimBmc } from '@hafence/sim';
import { waitFor } from './e2e-kvm-processes.js';
import { ServeRig, stateOf, type ServeEvent } from './serve-rig.js';

const PASSWORD = 'Cold-Bmc-Pw-8812';
const TOKEN = 'cold-bmc-token-4a7c1e93b2';
const HOSTS = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'] as const;
/** h1 and h6 healthy; h2 its BMC port closed, h3 a BMC refusing the password, h4 answering in 4 s, h5 down. */
const BAD = ['h2', 'h3', 'h4', 'h5'] as const;

/**
 * Issue 13, cold start reads power first: a not-eligible verdict before a host's first power read is held until
 * that read ends. Agents run without a watchdog (no armed self-fence lease), so a host whose BMC cannot be read
 * at all must still end UNSUPPORTED (not stay INITIALIZING), and the healthy ones AVAILABLE. Real serve and agents.
 */
describe('break: cold start with BMCs closed, refusing, slow and down (real processes)', function () {
  this.timeout(120_000);
  const rig = new ServeRig({ name: 'cold-bmcs', password: PASSWORD, token: TOKEN, hosts: HOSTS });

  before(async () => {
    await rig.start({ serve: false });
    const b = rig.bmcs;
    const h2 = b.get('h2')!;
    await h2.close(); // nothing listens: every datagram lost
    const h3 = b.get('h3')!;
    const port3 = h3.port;
    await h3.close();
    b.set(
      'h3',
      await SimBmc.start({
        users: [{ name: 'admin', password: 'not-the-one', privilege: 4 }],
        power: 'ON',
        port: port3,
      }),
    );
    b.get('h4')!.faults.slowMs = 4_000;
    b.get('h5')!.faults.down = true;
    // h2 is closed already: keep the rig's close() from closing it twice.
    b.delete('h2');
  });

  afterEach(function () {
    rig.dumpIfFailed(this.currentTest);
  });

  after(async () => {
    await rig.close();
  });

  it('h1, h6 AVAILABLE; h2–h5 UNSUPPORTED within 60 s (none stuck INITIALIZING); no power op anywhere', async () => {
    const s = rig.startServe();
    const want = (h: string) => (BAD.includes(h as (typeof BAD)[number]) ? 'UNSUPPORTED' : 'AVAILABLE');
    try {
      await waitFor('every host at its verdict', 60_000, () => {
        if (!s.alive) throw new Error(`serve exited ${s.exitCode}: ${s.stderr}`);
        const list = s.json<ServeEvent>();
        return HOSTS.every((h) => stateOf(h, list) === want(h));
      });
    } finally {
      const list = s.json<ServeEvent>();
      process.stderr.write(
        `      [states ${JSON.stringify(Object.fromEntries(HOSTS.map((h) => [h, stateOf(h, list)])))}]\n`,
      );
    }
    const list = s.json<ServeEvent>();
    expect(list.filter((e) => /fenc|power\.action|released/i.test(e.type)).map((e) => e.type)).to.deep.equal([]);
    for (const [h, b] of rig.bmcs) expect(b.chassis.log, `power ops on ${h}`).to.deep.equal([]);
  });
});
