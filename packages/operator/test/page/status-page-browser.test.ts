import { expect } from 'chai';
import type { OperatorServer } from '@hafence/operator';
import type { Browser, Page } from 'puppeteer-core';
import { collectPageErrors, launchChromium } from './browser.js';
import { NOW, cluster, host, snapshot } from './fixtures.js';
import { PAGE_USER, StubEngine, startPageServer } from './page-rig.js';

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
 * The status page in Debian's chromium (puppeteer-core), served by the real
 * `startOperatorServer` (Basic auth, CSP `default-src 'self'`, the SSE hub) over a stub
 * engine whose read model and events the test sets: the page renders, goes live, updates
 * rows from events and from `/api/v1/resources`, reconnects, escapes hostile values, and
 * works without JavaScript.
 */
describe('status page in a real browser (operator server over a stub engine)', function () {
  this.timeout(60_000);
  let browser: Browser;
  let engine: StubEngine;
  let server: OperatorServer;
  let url: string;
  let page: Page;
  let errors: string[];
  let requests: string[];

  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  beforeEach(async () => {
    engine = new StubEngine(snapshot());
    server = await startPageServer(engine);
    url = `http://127.0.0.1:${server.address.port}/`;
    page = await browser.newPage();
    errors = collectPageErrors(page);
    requests = [];
    page.on('request', (r) => requests.push(new URL(r.url()).pathname));
    await page.authenticate(PAGE_USER);
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
    expect(requests).to.include.members(['/status.js', '/status.css', '/api/v1/events/stream', '/api/v1/resources']);
    expect(errors).to.deep.equal([]);
  });

  it('updates a host row from the stream without a reload: state, power, then its waiting time', async () => {
    await page.goto(url);
    await isLive();
    await page.evaluate(() => {
      (window as unknown as { marker: number }).marker = 1;
    });
    engine.data = snapshot({
      resources: [
        host('h1', 'c1'),
        host('h2', 'c1', { state: 'SUSPECT', power: 'OFF', waiting: { for: 'activity', at: NOW + 30_000 } }),
        host('h3', 'c2'),
        host('h4', 'c2'),
      ],
    });
    engine.emit({ t: NOW, type: 'power.transition', host: 'h2', from: 'ON', to: 'OFF' });
    engine.emit({
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

  it('the server-rendered page has the events this server has seen, alerts with their codes', async () => {
    engine.emit({
      t: NOW - 2_000,
      type: 'alert',
      level: 'critical',
      code: 'fence-failed',
      message: 'm',
      resource: 'h1',
    });
    engine.emit({ t: NOW - 1_000, type: 'power.transition', host: 'h2', from: 'ON', to: 'UNKNOWN' });
    await page.setJavaScriptEnabled(false);
    await page.goto(url);
    expect(await page.$$eval('#alerts li', (l) => l.map((li) => li.getAttribute('data-code')))).to.deep.equal([
      'fence-failed',
    ]);
    expect(await page.$$eval('#timeline li', (l) => l.map((li) => li.getAttribute('data-type')))).to.deep.equal([
      'power.transition',
      'alert',
    ]);
  });

  it('adds alerts live; a host it did not know appears (the clusters are read again)', async () => {
    await page.goto(url);
    await isLive();
    engine.data = snapshot({ resources: [...snapshot().resources, host('h5', 'c2', { state: 'INITIALIZING' })] });
    engine.emit({ t: NOW, type: 'alert', level: 'critical', code: 'fence-failed', message: 'm', resource: 'h5' });
    await page.waitForSelector('#alerts li[data-code="fence-failed"][data-level="critical"]', { timeout: 3_000 });
    expect(await page.$$('#alerts li.none')).to.have.length(0);
    await page.waitForSelector('section[data-partition="c2"] tr[data-resource="h5"][data-state="INITIALIZING"]', {
      timeout: 3_000,
    });
    expect(errors).to.deep.equal([]);
  });

  it('says "reconnecting" while the server is away, then "live" again when it is back', async () => {
    await page.goto(url);
    await isLive();
    const port = server.address.port;
    await server.close();
    await page.waitForSelector('#live[data-live="reconnecting"]', { timeout: 3_000 });
    server = await startPageServer(engine, port);
    await page.waitForSelector('#live[data-live="live"]', { timeout: 15_000 });
    // As an engine does: the read model has changed when the event goes out (the page re-reads it).
    engine.data = snapshot({
      resources: snapshot().resources.map((r) => (r.ref.id === 'h3' ? { ...r, power: 'OFF' } : r)),
    });
    engine.emit({ t: NOW, type: 'power.transition', host: 'h3', from: 'ON', to: 'OFF' });
    await page.waitForSelector('tr[data-resource="h3"][data-power="OFF"]', { timeout: 3_000 });
  });

  it('renders hostile values as text, server-side and live: no element is made from them', async () => {
    const evil = '<img src=x id=pwned onerror="window.pwned=1">';
    engine.data = snapshot({
      resources: [host(evil, 'c1', { maintenance: { inventory: false, operator: { by: evil, at: NOW } } })],
    });
    await page.goto(url);
    await isLive();
    engine.data = snapshot({ resources: [host(evil, 'c1', { state: 'SUSPECT' })] });
    engine.emit({ t: NOW, type: 'alert', level: 'warning', code: evil, message: evil, resource: evil });
    engine.emit({
      t: NOW,
      type: 'resource.transition',
      resource: evil,
      resourceType: 'host',
      from: 'AVAILABLE',
      to: 'SUSPECT',
      reason: evil,
    });
    await page.waitForSelector('#timeline li[data-type="resource.transition"]', { timeout: 3_000 });
    // The row changes once the page has read the clusters again, which may land after the timeline entry (CI flake).
    await page.waitForSelector('tr[data-state="SUSPECT"]', { timeout: 3_000 });
    expect((await rows(page)).map((r) => [r.id, r.text, r.state])).to.deep.equal([[evil, evil, 'SUSPECT']]);
    expect(await page.$$('img')).to.have.length(0);
    expect(await page.$eval('#alerts li', (li) => li.getAttribute('data-code'))).to.equal(evil);
    expect(await page.$eval('#timeline li', (li) => li.textContent)).to.include(`: ${evil}`);
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).to.equal(undefined);
  });

  it('without JavaScript: the server-rendered table shows the hosts and the page refreshes itself', async () => {
    engine.data = snapshot({ partitions: [cluster('c1'), cluster('c2', { observeOnly: true })] });
    await page.setJavaScriptEnabled(false);
    await page.goto(url);
    expect((await rows(page)).map((r) => [r.id, r.state])).to.deep.equal([
      ['h1', 'AVAILABLE'],
      ['h2', 'AVAILABLE'],
      ['h3', 'AVAILABLE'],
      ['h4', 'AVAILABLE'],
    ]);
    expect(await page.$eval('#live', (e) => e.getAttribute('data-live'))).to.equal('static');
    expect(await page.$('#observe-only')).to.not.equal(null);
    expect(requests).to.not.include('/api/v1/events/stream');
    expect(await page.content()).to.include('<meta http-equiv="refresh" content="5">');
  });
});
