import { expect } from 'chai';
import { Script } from 'node:vm';
import { STATUS_PAGE_SCRIPT, STATUS_PAGE_STYLE, renderStatusPage, statusPage, type PageEvent } from '@hafence/operator';
import { NOW, host, rowOf, snapshot } from './fixtures.js';

/** The words of a waiting time `ms` from now, as a host row shows them. */
function waitingIn(ms: number): string {
  const html = renderStatusPage(
    snapshot({ resources: [host('h1', 'c1', { waiting: { for: 'check', at: NOW + ms } })] }),
  );
  return rowOf(html, 'h1')!.match(
    /<td class="waiting">next check <span class="rel deadline" data-at="-?\d+">([^<]*)</,
  )![1]!;
}

/** The host notes of `r`, as its row shows them. */
function notesOf(r: ReturnType<typeof host>, serverObserveOnly = false): string[] {
  const server = { msId: 'ms-1', observeOnly: serverObserveOnly, version: '0' };
  const cell = rowOf(renderStatusPage(snapshot({ server, resources: [r] })), r.ref.id)!.match(
    /<td class="notes">(.*)<\/td>/,
  )!;
  return cell[1]!.split(' · ');
}

/** The timeline line of event `e`. */
function eventText(e: PageEvent): string {
  const html = renderStatusPage(snapshot({ timeline: [e] }));
  return html.match(
    /<ol id="timeline">\n<li [^>]*><span [^>]*>[^<]*<\/span> <span class="type">[^<]*<\/span> (.*)<\/li>/,
  )![1]!;
}

describe('status page words', () => {
  it('durations: at most two units', () => {
    expect([500, 4_400, 59_600, 60_000, 125_000, 3_600_000, 3_780_000, 90_000_000].map(waitingIn)).to.deep.equal([
      'in 1 s',
      'in 4 s',
      'in 1 min',
      'in 1 min',
      'in 2 min 5 s',
      'in 1 h',
      'in 1 h 3 min',
      'in 1 d 1 h',
    ]);
  });

  it('deadlines: in the future, then due', () => {
    expect(waitingIn(4_000)).to.equal('in 4 s');
    expect(waitingIn(500)).to.equal('in 1 s');
    expect(waitingIn(499)).to.equal('due');
    expect(waitingIn(-4_000)).to.equal('due');
  });

  it('times of the past: ago, or now within half a second', () => {
    const since = (ms: number) =>
      rowOf(renderStatusPage(snapshot({ resources: [host('h1', 'c1', { since: NOW + ms })] })), 'h1')!.match(
        /<td class="since"><span class="rel" data-at="-?\d+">([^<]*)</,
      )![1];
    expect([-4_000, -499, 499, 4_000].map(since)).to.deep.equal(['4 s ago', 'now', 'now', 'in 4 s']);
  });

  it('host notes: maintenance by whom, release, episode counters, another owner', () => {
    const notes = notesOf(
      host('h1', 'c1', {
        maintenance: { inventory: true, operator: { by: 'alice', at: NOW, reason: 'bios' } },
        released: true,
        owned: false,
        episode: {
          id: 3,
          openedAt: NOW,
          released: true,
          checks: 2,
          activeResults: 0,
          inactiveStreak: 2,
          errorStreak: 0,
          recoverAttempts: 1,
          degradedAlerted: false,
        },
      }),
    );
    expect(notes).to.deep.equal([
      'maintenance set by alice: bios',
      'maintenance (inventory)',
      'workloads released',
      'episode 3: 2 activity checks, 1 recovery attempts',
      'run by another server',
    ]);
  });

  it('one line per event kind, and key=value for a kind it does not know', () => {
    const t = NOW;
    expect(
      eventText({ t, type: 'resource.transition', resource: 'h1', from: 'AVAILABLE', to: 'SUSPECT', reason: 'x' }),
    ).to.equal('h1 AVAILABLE → SUSPECT: x');
    expect(eventText({ t, type: 'power.transition', host: 'h1', from: 'ON', to: 'OFF' })).to.equal('h1 power ON → OFF');
    expect(eventText({ t, type: 'would.power.action', host: 'h1', action: 'off', by: 'ha' })).to.equal(
      'observe-only: would send off to h1 (by ha)',
    );
    expect(eventText({ t, type: 'something.new', a: 1, b: 'two' })).to.equal('a=1 b=two');
  });

  it('status.js is one plain script: it parses, names no URL of another origin, needs no module loader', () => {
    expect(() => new Script(STATUS_PAGE_SCRIPT, { filename: 'status.js' })).to.not.throw();
    expect(STATUS_PAGE_SCRIPT).to.not.match(/https?:\/\//);
    expect(STATUS_PAGE_SCRIPT).to.not.match(/^\s*(import|export)\s/m);
    expect(STATUS_PAGE_SCRIPT).to.not.include('innerHTML');
  });

  it('plugs into the operator server: the page renderer and both assets with their content types', () => {
    expect(statusPage.renderPage).to.equal(renderStatusPage);
    expect(statusPage.assets['status.js']).to.deep.equal({
      type: 'text/javascript; charset=utf-8',
      body: STATUS_PAGE_SCRIPT,
    });
    expect(statusPage.assets['status.css']).to.deep.equal({ type: 'text/css; charset=utf-8', body: STATUS_PAGE_STYLE });
    expect(STATUS_PAGE_STYLE).to.not.match(/url\(|@import/);
  });
});
