import { expect } from 'chai';
import { renderStatusPage } from '@hafence/operator';
import { NOW, cluster, host, rowOf, sectionOf, snapshot } from './fixtures.js';

describe('renderStatusPage', () => {
  it('groups hosts by cluster, each row with its id, HA state and power state as hooks', () => {
    const html = renderStatusPage(
      snapshot({
        resources: [host('h2', 'c1'), host('h3', 'c2', { state: 'SUSPECT', power: 'OFF' }), host('h1', 'c1')],
      }),
    );
    const c1 = sectionOf(html, 'c1')!;
    const c2 = sectionOf(html, 'c2')!;
    expect(c1.match(/data-resource="[^"]*"/g)).to.deep.equal(['data-resource="h1"', 'data-resource="h2"']);
    expect(c2.match(/data-resource="[^"]*"/g)).to.deep.equal(['data-resource="h3"']);
    expect(rowOf(html, 'h3')).to.include('data-state="SUSPECT"').and.include('data-power="OFF"');
    expect(rowOf(html, 'h1')).to.include('data-state="AVAILABLE"').and.include('data-power="ON"');
    expect(c1).to.include('data-state="ACTIVE"').and.include('HA enabled');
  });

  it('orders hosts by id with numbers as numbers (h2 before h10)', () => {
    const html = renderStatusPage(snapshot({ resources: [host('h10', 'c1'), host('h2', 'c1'), host('h1', 'c1')] }));
    expect(sectionOf(html, 'c1')!.match(/data-resource="[^"]*"/g)).to.deep.equal([
      'data-resource="h1"',
      'data-resource="h2"',
      'data-resource="h10"',
    ]);
  });

  it('of events at the same time, shows the later one first', () => {
    const at = (type: string) => ({ t: NOW, type, host: 'h1', from: 'ON', to: 'OFF' });
    const html = renderStatusPage(snapshot({ timeline: [at('power.transition'), at('power.action')] }));
    expect(html.match(/<li data-type="[^"]*"/g)).to.deep.equal([
      '<li data-type="power.action"',
      '<li data-type="power.transition"',
    ]);
  });

  it('puts a host whose partition is not listed in a section of its own', () => {
    const html = renderStatusPage(snapshot({ resources: [host('h9', 'gone')] }));
    expect(sectionOf(html, 'gone')).to.include('data-resource="h9"');
  });

  it('has no data-power on a row without a power binding', () => {
    const html = renderStatusPage(snapshot({ resources: [host('h1', 'c1', { power: undefined })] }));
    expect(rowOf(html, 'h1')).to.not.include('data-power');
  });

  it('says what each host waits for and in how long, relative to now, or that it is due (data-at for the script)', () => {
    const html = renderStatusPage(
      snapshot({
        resources: [
          host('h1', 'c1', { waiting: { for: 'retry', at: NOW + 65_000 } }),
          host('h2', 'c1', { waiting: { for: 'lease', at: NOW - 3_000 } }),
          host('h3', 'c2', { waiting: undefined }),
        ],
      }),
    );
    expect(rowOf(html, 'h1')).to.include(
      `recovery retry <span class="rel deadline" data-at="${NOW + 65_000}">in 1 min 5 s</span>`,
    );
    expect(rowOf(html, 'h2')).to.include(
      `self-fence lease deadline <span class="rel deadline" data-at="${NOW - 3_000}">due`,
    );
    expect(rowOf(html, 'h3')).to.include('<td class="waiting">—</td>');
  });

  it('escapes every value: a hostile host id, reason or alert renders as text, never as markup', () => {
    const evil = '<script>alert(1)</script>"\'&';
    const html = renderStatusPage(
      snapshot({
        server: { msId: evil, observeOnly: true, version: evil },
        partitions: [cluster(evil, { reason: evil, observeOnly: true })],
        fenceBudgets: [{ scope: evil, limit: 1, used: 1, windowMs: 1000, halted: true, haltedReason: evil }],
        resources: [
          host(evil, evil, { maintenance: { inventory: false, operator: { by: evil, at: NOW, reason: evil } } }),
        ],
        alerts: [{ t: NOW, type: 'alert', level: 'warning', code: evil, message: evil, resource: evil }],
        timeline: [
          { t: NOW, type: 'resource.transition', resource: evil, from: 'AVAILABLE', to: 'SUSPECT', reason: evil },
        ],
      }),
    );
    const escaped = '&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;';
    expect(html).to.not.include('<script>alert');
    expect(html).to.not.include('"\'&');
    expect(html).to.include(`data-resource="${escaped}"`);
    expect(html).to.include(`data-code="${escaped}"`);
    expect(html.split(escaped).length - 1).to.be.greaterThan(12);
    // The only script element is status.js.
    expect(html.match(/<script/g)).to.deep.equal(['<script']);
    expect(html).to.include('<script src="status.js" defer></script>');
  });

  it('shows the observe-only banner only when the server or a partition is observe-only', () => {
    expect(renderStatusPage(snapshot())).to.not.include('id="observe-only"');
    const whole = renderStatusPage(snapshot({ server: { msId: 'ms-1', observeOnly: true, version: '0.1.0' } }));
    expect(whole).to.match(/<div id="observe-only" role="status">.*This server/);
    const one = renderStatusPage(snapshot({ partitions: [cluster('c1'), cluster('c2', { observeOnly: true })] }));
    expect(one).to.match(/<div id="observe-only" role="status">.*Partitions c2 /);
  });

  it('notes a host observe-only only when the whole server is not', () => {
    const r = host('h1', 'c1', { observeOnly: true });
    expect(rowOf(renderStatusPage(snapshot({ resources: [r] })), 'h1')).to.include('observe-only');
    const server = { msId: 'm', observeOnly: true, version: '0' };
    expect(rowOf(renderStatusPage(snapshot({ server, resources: [r] })), 'h1')).to.not.include('observe-only');
  });

  it('lists alerts newest first with their codes and levels', () => {
    const html = renderStatusPage(
      snapshot({
        alerts: [
          { t: NOW - 5_000, type: 'alert', level: 'warning', code: 'degraded', message: 'm1', resource: 'h1' },
          { t: NOW - 1_000, type: 'alert', level: 'critical', code: 'fence-failed', message: 'm2' },
        ],
      }),
    );
    const alerts = html.match(/<ol id="alerts">[^]*?<\/ol>/)![0];
    expect(alerts.match(/data-code="[^"]*" data-level="[^"]*"/g)).to.deep.equal([
      'data-code="fence-failed" data-level="critical"',
      'data-code="degraded" data-level="warning"',
    ]);
    expect(alerts).to.include('<code>degraded</code> <b>h1</b> m1');
  });

  it('keeps a timeline, newest first, each entry with its data-type, at most 200', () => {
    const timeline = Array.from({ length: 250 }, (_, i) => ({
      t: NOW - 250_000 + i * 1000,
      type: i % 2 ? 'power.transition' : 'resource.transition',
      resource: 'h1',
      host: 'h1',
      from: 'ON',
      to: 'OFF',
      reason: 'r',
    }));
    const list = renderStatusPage(snapshot({ timeline })).match(/<ol id="timeline">[^]*?<\/ol>/)![0];
    const entries = list.match(/<li data-type="[^"]*"/g)!;
    expect(entries).to.have.length(200);
    expect(entries[0]).to.equal('<li data-type="power.transition"');
    expect(list)
      .to.include(`data-at="${NOW - 1000}"`)
      .and.not.include(`data-at="${NOW - 250_000}"`);
  });

  it('says so when there is nothing yet (empty lists keep their ids for the script)', () => {
    const html = renderStatusPage(snapshot({ resources: [], partitions: [] }));
    expect(html).to.include('<ol id="alerts">\n<li class="none">');
    expect(html).to.include('<ol id="timeline">\n<li class="none">');
    expect(html).to.include('<section id="clusters">\n<p class="none">');
  });

  it('refreshes itself without JavaScript, and loads nothing but its own two assets', () => {
    const html = renderStatusPage(snapshot());
    expect(html).to.include('<noscript><meta http-equiv="refresh" content="5"></noscript>');
    expect(html.match(/(?:src|href)="[^"]*"/g)).to.deep.equal(['href="status.css"', 'src="status.js"']);
    expect(html).to.not.match(/ style=/);
  });

  it('shows fence budgets, a halted one with its reason', () => {
    const html = renderStatusPage(
      snapshot({
        fenceBudgets: [{ scope: 'c1', limit: 1, used: 1, windowMs: 3_600_000, halted: true, haltedReason: 'limit 1' }],
      }),
    );
    expect(html).to.match(
      /<tr data-scope="c1" data-halted="true"><th scope="row">c1<\/th><td>1 \/ 1<\/td><td>1 h<\/td>/,
    );
    expect(html).to.include('halted: limit 1');
  });
});
