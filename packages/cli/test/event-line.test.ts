import { expect } from 'chai';
import type { HaEvent } from '@hafence/core';

type EventLine = (event: HaEvent, json: boolean) => string | undefined;
const { eventLine } = (await import(new URL('../../dist/standalone/event-line.js', import.meta.url).href)) as {
  eventLine: EventLine;
};

describe('serve: one line per event', () => {
  const t = Date.UTC(2026, 10, 30, 12, 0, 0);

  it('shows an operator action with its target, who asked and why', () => {
    const e: HaEvent = {
      t,
      type: 'operator.action',
      by: 'alice',
      action: 'maintenance-on',
      target: 'host:h1',
      reason: 'disk',
    };
    const line = eventLine(e, false)!;
    expect(line.startsWith('2026-11-30T12:00:00.000Z')).to.equal(true);
    for (const part of ['host:h1', 'maintenance-on', 'alice', 'disk']) expect(line).to.contain(part);
    expect(JSON.parse(eventLine(e, true)!)).to.deep.equal(e);
  });

  it('shows a command observe-only held back, and passes over a type it does not know', () => {
    const e: HaEvent = {
      t,
      type: 'would.power.action',
      host: 'h2',
      resource: 'h2',
      resourceType: 'host',
      action: 'off',
      by: 'ha',
    };
    expect(eventLine(e, false)).to.contain('h2').and.to.contain('off');
    expect(eventLine({ t, type: 'something.new' } as unknown as HaEvent, false)).to.equal(undefined);
  });
});
