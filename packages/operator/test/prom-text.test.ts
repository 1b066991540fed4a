import { expect } from 'chai';
import { PromParseError, parsePromText, sampleValue } from './helpers/prom-text.js';

const good = [
  '# HELP a_total Things.',
  '# TYPE a_total counter',
  'a_total{kind="x",v="q\\"uote"} 3',
  '# TYPE h histogram',
  'h_bucket{le="1"} 1',
  'h_bucket{le="+Inf"} 2',
  'h_sum 4.5',
  'h_count 2',
  '',
].join('\n');

describe('the strict Prometheus text parser of the tests', () => {
  it('reads families, labels (with escapes) and values', () => {
    const f = parsePromText(good);
    expect(f.get('a_total')?.type).to.equal('counter');
    expect(sampleValue(f, 'a_total', { kind: 'x', v: 'q"uote' })).to.equal(3);
    expect(sampleValue(f, 'h_count')).to.equal(2);
  });

  const bad: [string, string][] = [
    ['a sample without TYPE', 'x 1\n'],
    ['a missing value', '# TYPE x gauge\nx\n'],
    ['a bad value', '# TYPE x gauge\nx one\n'],
    ['an unterminated label', '# TYPE x gauge\nx{a="b} 1\n'],
    ['a bad label name', '# TYPE x gauge\nx{1a="b"} 1\n'],
    ['a duplicate series', '# TYPE x gauge\nx{a="b"} 1\nx{a="b"} 2\n'],
    ['a split family', '# TYPE x gauge\nx 1\n# TYPE y gauge\ny 1\nx{a="c"} 2\n'],
    ['a negative counter', '# TYPE x counter\nx -1\n'],
    ['buckets not cumulative', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'],
    ['+Inf differs from _count', '# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 2\n'],
    ['no final newline', '# TYPE x gauge\nx 1'],
    ['a bad escape', '# TYPE x gauge\nx{a="\\t"} 1\n'],
  ];
  for (const [what, text] of bad) {
    it(`rejects ${what}`, () => {
      expect(() => parsePromText(text)).to.throw(PromParseError);
    });
  }
});
