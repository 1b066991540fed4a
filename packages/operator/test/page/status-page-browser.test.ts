import { expect } from 'chai';
import type { Browser, Page } from 'puppeteer-core';
import { collectPageErrors, launchChromium } from './browser.js';
import { NOW, host, snapshot } from './fixtures.js';
import { FIXTURE_USER, PageFixtureServer } from './page-server.js';

type Row = { id: string; state?: string; power?: string; waiting: string; text: string };

/** Every host row as the browser sees it. */
function rows(page: Page): Promise<Row[]> {
  return page.$$eval('tr[data-resource]', (trs) =>
    trs.map((tr) => ({
      id: tr.getAttribute('data-resource') ?? '',
      state: tr.getAttribute('data-state') ?? undefined,
      power: tr.getAttribute('data-power') ?? undefined,
      waiting: tr.querySelector('td.waiting')?.textContent ?? '',
      text: tr.querySelector('th')?.textContent ?? '',
    })),
  );
}

/**
 * The status page in Debian's chromium (puppeteer-core), against a stand-in server that
 * speaks the contract's routes with Basic auth and CSP `default-src 'self'`: the page
 * renders, goes live on the event stream, updates rows from events and from
 * `/api/v1/resources`, reconnects, escapes hostile values, and works without JavaScript.
 */
describe('status page in a real browser (stand-in server)', function () {
  this.timeout(60_000);
  let browser: Browser;
  let server: PageFixtureServer;
  let url: string;
  let page: Page;
  let errors: string[];

  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  beforeEach(async () => {
    server = new PageFixtureServer(snapshot());
    url = await server.start();
    page = await browser.newPage();
    errors = collectPageErrors(page);
    await page.authenticate(FIXTURE_USER);
  });
  afterEach(async () => {
    await page.close();
    await server.close();
  });

  const isLive = () => page.waitForSelector('#live[data-live="live"]', { timeout: 5_000 });

  it('shows every host by cluster, goes live, and no script error or CSP violation is reported', async () => {
    await page.goto(url);
    await isLive();
    expect((await rows(page)).map((r) => [r.id, r.state, r.power])).to.deep.equal([
      ['h1', 'AVAILABLE', 'ON'],
      ['h2', 'AVAILABLE', 'ON'],
      ['h3', 'AVAILABLE', 'ON'],
      ['h4', 'AVAILABLE', 'ON'],
    ]);
    const clusters = await page.$$eval('section.cluster', (s) => s.map((e) => e.getAttribute('data-partition')));
    expect(clusters).to.deep.equal(['c1', 'c2']);
    expect(await page.$('#observe-only')).to.equal(null);
    expect(server.requests).to.include.members(['GET /status.js', 'GET /status.css', 'GET /api/v1/events/stream']);
    expect(errors).to.deep.equal([]);
  });

  it('updates a host row from the stream without a reload: state, power, then its waiting time', async () => {
    await page.goto(url);
    await isLive();
    await page.evaluate(() => {
      (window as unknown as { marker: number }).marker = 1;
    });
    server.snapshot = snapshot({
      resources: [
        host('h1', 'c1'),
        host('h2', 'c1', { state: 'SUSPECT', power: 'OFF', waiting: { for: 'activity', at: NOW + 30_000 } }),
        host('h3', 'c2'),
        host('h4', 'c2'),
      ],
    });
    server.push({ t: NOW, type: 'power.transition', host: 'h2', from: 'ON', to: 'OFF' });
    server.push({
      t: NOW,
      type: 'resource.transition',
      resource: 'h2',
      resourceType: 'host',
      from: 'AVAILABLE',
      to: 'SUSPECT',
      reason: 'health check failed',
    });
    await page.waitForSelector('tr[data-resource="h2"][data-state="SUSPECT"][data-power="OFF"]', { timeout: 3_000 });
    await page.waitForFunction(
      () => document.querySelector('tr[data-resource="h2"] td.waiting')?.textContent?.startsWith('activity check in '),
      { timeout: 3_000 },
    );
    const top = await page.$eval('#timeline li', (li) => [li.getAttribute('data-type'), li.textContent]);
    expect(top[0]).to.equal('resource.transition');
    expect(top[1]).to.include('h2 AVAILABLE → SUSPECT: health check failed');
    expect(await page.$$eval('#timeline li[data-type="power.transition"]', (l) => l.length)).to.equal(1);
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 'no reload').to.equal(1);
    expect(errors).to.deep.equal([]);
  });

  it('adds alerts with their codes; a host it did not know appears (the clusters are read again)', async () => {
    await page.goto(url);
    await isLive();
    server.snapshot = snapshot({ resources: [...snapshot().resources, host('h5', 'c2', { state: 'INITIALIZING' })] });
    server.push({ t: NOW, type: 'alert', level: 'critical', code: 'fence-failed', message: 'm', resource: 'h5' });
    await page.waitForSelector('#alerts li[data-code="fence-failed"][data-level="critical"]', { timeout: 3_000 });
    expect(await page.$$('#alerts li.none')).to.have.length(0);
    await page.waitForSelector('section[data-partition="c2"] tr[data-resource="h5"][data-state="INITIALIZING"]', {
      timeout: 3_000,
    });
    expect(errors).to.deep.equal([]);
  });

  it('says "reconnecting" when the stream drops, then "live" again', async () => {
    await page.goto(url);
    await isLive();
    server.dropStreams();
    await page.waitForSelector('#live[data-live="reconnecting"]', { timeout: 3_000 });
    await page.waitForSelector('#live[data-live="live"]', { timeout: 10_000 });
    expect(server.streamCount).to.equal(1);
  });

  it('renders hostile values as text, server-side and live: no element is made from them', async () => {
    const evil = '<img src=x id=pwned onerror="window.pwned=1">';
    server.snapshot = snapshot({
      resources: [host(evil, 'c1', { maintenance: { inventory: false, operator: { by: evil, at: NOW } } })],
    });
    await page.goto(url);
    await isLive();
    server.push({ t: NOW, type: 'alert', level: 'warning', code: evil, message: evil, resource: evil });
    server.push({
      t: NOW,
      type: 'resource.transition',
      resource: evil,
      resourceType: 'host',
      from: 'AVAILABLE',
      to: 'SUSPECT',
      reason: evil,
    });
    await page.waitForSelector('#timeline li[data-type="resource.transition"]', { timeout: 3_000 });
    expect((await rows(page)).map((r) => [r.id, r.text, r.state])).to.deep.equal([[evil, evil, 'SUSPECT']]);
    expect(await page.$$('img')).to.have.length(0);
    expect(await page.$eval('#alerts li', (li) => li.getAttribute('data-code'))).to.equal(evil);
    expect(await page.$eval('#timeline li', (li) => li.textContent)).to.include(`: ${evil}`);
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).to.equal(undefined);
  });

  it('without JavaScript: the server-rendered table shows the hosts and the page refreshes itself', async () => {
    await page.setJavaScriptEnabled(false);
    server.snapshot = snapshot({ server: { msId: 'ms-1', observeOnly: true, version: '0.1.0' } });
    await page.goto(url);
    expect((await rows(page)).map((r) => [r.id, r.state])).to.deep.equal([
      ['h1', 'AVAILABLE'],
      ['h2', 'AVAILABLE'],
      ['h3', 'AVAILABLE'],
      ['h4', 'AVAILABLE'],
    ]);
    expect(await page.$eval('#live', (e) => e.getAttribute('data-live'))).to.equal('static');
    expect(await page.$('#observe-only')).to.not.equal(null);
    expect(server.requests).to.not.include('GET /api/v1/events/stream');
    const html = await page.content();
    expect(html).to.include('<meta http-equiv="refresh" content="5">');
  });
});
