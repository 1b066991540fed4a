import { expect } from 'chai';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { createServer } from 'node:net';
import { onPowerCycle, waitFor } from './e2e-kvm-processes.js';
import { ServeRig } from './serve-rig.js';

const PASSWORD = 'E2e-Page-Pw-7731';
const TOKEN = 'e2e-page-agent-token-5d1c9e0a7b';
const USER = { username: 'alice', password: 'e2e-page-api-token-3b8f0c6d2e9a41f7' };
const HOSTS = ['h1', 'h2', 'h3'] as const;
/** Debian's chromium (apt package `chromium`, installed by scripts/setup.sh); `HAFENCE_CHROMIUM` overrides. */
const CHROMIUM = process.env.HAFENCE_CHROMIUM ?? '/usr/bin/chromium';
/** Where the screenshot goes (git-ignored). */
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

/** A loopback port the system says is free, outside the 9500-9599 range the rig's agents take theirs from. */
function ephemeralPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

type Row = { id: string; state: string | null; power: string | null };

function rows(page: Page): Promise<Row[]> {
  return page.$$eval('tr[data-resource]', (trs) =>
    trs.map((tr) => ({
      id: tr.getAttribute('data-resource') ?? '',
      state: tr.getAttribute('data-state'),
      power: tr.getAttribute('data-power'),
    })),
  );
}

/**
 * Issue 12's browser test: a real `hafence serve --http` on three simulated hosts (SimBmcs,
 * real agents), its status page opened in Debian's chromium through puppeteer-core with the
 * API token as Basic credentials. The page shows every host; a crashed host's row leaves
 * AVAILABLE on the page, live, with no reload; a screenshot is written; without JavaScript
 * the server-rendered table shows the hosts.
 */
describe('status page of hafence serve in headless chromium (real processes)', function () {
  this.timeout(120_000);
  let port = 0;
  const rig = new ServeRig({
    name: 'e2e-page',
    password: PASSWORD,
    token: TOKEN,
    hosts: HOSTS,
    serveArgs: (dir) => ['--http', `127.0.0.1:${port}`, '--http-token-file', join(dir, 'api.tokens')],
  });
  let browser: Browser | undefined;
  let url = '';
  let restartWatch: NodeJS.Timeout | undefined;

  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: run npm run setup (apt package chromium)`);
    const apiTokens = join(rig.dir, 'api.tokens');
    writeFileSync(apiTokens, `# the status page's user\n${USER.username} ${USER.password}\n`);
    chmodSync(apiTokens, 0o600);
    port = await ephemeralPort();
    url = `http://127.0.0.1:${port}/`;
    await rig.start();
    await rig.allAvailable();
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
  });

  afterEach(function () {
    rig.dumpIfFailed(this.currentTest);
  });

  after(async () => {
    clearInterval(restartWatch);
    await browser?.close();
    await rig.close();
  });

  async function open(o: { js: boolean }): Promise<Page> {
    const page = await browser!.newPage();
    await page.setJavaScriptEnabled(o.js);
    await page.authenticate(USER);
    await page.setViewport({ width: 1200, height: 900 });
    const res = await page.goto(url);
    expect(res?.status()).to.equal(200);
    return page;
  }

  it('asks for credentials (401, Basic), then shows every host AVAILABLE and ON, and goes live', async () => {
    const anonymous = await fetch(url);
    expect(anonymous.status).to.equal(401);
    expect(anonymous.headers.get('www-authenticate')).to.match(/^Basic realm="hafence"/);
    const page = await open({ js: true });
    await page.waitForSelector('#live[data-live="live"]', { timeout: 10_000 });
    // The power sync reads every BMC each second: the rows are ON once it has run.
    const everyHostOn = `document.querySelectorAll('tr[data-state="AVAILABLE"][data-power="ON"]').length === ${HOSTS.length}`;
    await page.waitForFunction(everyHostOn, { timeout: 10_000 });
    expect(await rows(page)).to.deep.equal(HOSTS.map((id) => ({ id, state: 'AVAILABLE', power: 'ON' })));
    expect(await page.$$eval('section.cluster', (s) => s.map((e) => e.getAttribute('data-partition')))).to.deep.equal([
      'c1',
    ]);
    expect(await page.$('#observe-only')).to.equal(null);
    await page.close();
  });

  it('a crashed host leaves AVAILABLE on the page within a few seconds of the engine, with no reload', async () => {
    const page = await open({ js: true });
    await page.waitForSelector('#live[data-live="live"]', { timeout: 10_000 });
    await page.evaluate('window.loadedOnce = true');
    const serve = rig.serve;
    let engineAt: number | undefined;
    serve.onLine((line) => {
      if (engineAt === undefined && line.includes('"resource.transition"') && line.includes('"resource":"h2"'))
        engineAt = Date.now();
    });
    const bmc2 = rig.bmcs.get('h2')!;
    restartWatch = onPowerCycle(bmc2.chassis, () => rig.startAgent('h2'));
    rig.agents.get('h2')!.kill('SIGKILL');

    await page.waitForSelector('tr[data-resource="h2"]:not([data-state="AVAILABLE"])', { timeout: 60_000 });
    const pageAt = Date.now();
    const engine = await waitFor('the engine to report h2', 5_000, () => engineAt);
    process.stderr.write(`      [h2 left AVAILABLE on the page ${pageAt - engine} ms after serve printed it]\n`);
    expect(pageAt - engine, 'ms from the engine event to the page').to.be.lessThan(3_000);
    expect(await page.evaluate('window.loadedOnce')).to.equal(true);
    const h2 = await page.$eval(
      '#timeline li[data-type="resource.transition"][data-subject="h2"]',
      (li) => li.textContent,
    );
    expect(h2).to.include('h2 AVAILABLE →');
    expect((await rows(page)).filter((r) => r.id !== 'h2').map((r) => r.state)).to.deep.equal([
      'AVAILABLE',
      'AVAILABLE',
    ]);

    // The recovery power-cycles h2 through its BMC: the power column follows the stream too.
    await page.waitForSelector('tr[data-resource="h2"][data-power="OFF"]', { timeout: 60_000 });
    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, 'status-page.png');
    await page.screenshot({ path: shot, fullPage: true });
    process.stderr.write(`      [screenshot: ${shot}]\n`);
    expect(existsSync(shot)).to.equal(true);
    await page.close();
  });

  it('without JavaScript the server-rendered table shows the hosts (and the page refreshes itself)', async () => {
    const page = await open({ js: false });
    const list = await rows(page);
    expect(list.map((r) => r.id)).to.deep.equal([...HOSTS]);
    for (const r of list) expect(r.state, r.id).to.match(/^[A-Z]+$/);
    expect(await page.$eval('#live', (e) => e.getAttribute('data-live'))).to.equal('static');
    expect(await page.content()).to.include('<meta http-equiv="refresh" content="5">');
    await page.close();
  });
});
