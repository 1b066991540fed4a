/**
 * A strict parser of the Prometheus text exposition format (version 0.0.4) for tests: it
 * rejects what Prometheus would refuse to scrape, and more (a sample before its TYPE, a
 * family split in two, a duplicate series, a histogram whose buckets are not cumulative
 * or whose `+Inf` bucket differs from its `_count`).
 */

/** One sample line. */
export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A metric family: its TYPE, HELP and samples. */
export interface PromFamily {
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help?: string;
  readonly samples: PromSample[];
}

/** A malformed exposition, with the 1-based line it was found on. */
export class PromParseError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** Parses `text`; throws {@link PromParseError} on the first malformed line. */
export function parsePromText(text: string): Map<string, PromFamily> {
  const families = new Map<string, PromFamily>();
  const series = new Set<string>();
  const finished = new Set<string>();
  let current: PromFamily | undefined;
  if (text.length > 0 && !text.endsWith('\n')) throw new PromParseError(0, 'the text does not end with a newline');
  const lines = text.split('\n');
  lines.pop();
  lines.forEach((line, i) => {
    const n = i + 1;
    const fail = (message: string): never => {
      throw new PromParseError(n, `${message}: ${JSON.stringify(line)}`);
    };
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) return; // a plain comment
      const [, keyword, name, rest] = m as unknown as [string, string, string, string];
      if (!NAME.test(name)) fail('bad metric name');
      let family = families.get(name);
      if (family && family !== current) fail(`family ${name} appears twice`);
      if (keyword === 'TYPE') {
        if (!TYPES.has(rest)) fail('unknown type');
        if (family?.type !== undefined && family.samples.length > 0) fail('TYPE after samples');
        if (family && (family as { typed?: boolean }).typed) fail('second TYPE');
        if (!family) {
          family = { name, type: rest as PromFamily['type'], samples: [] };
          families.set(name, family);
        } else {
          (family as { type: string }).type = rest;
        }
        (family as { typed?: boolean }).typed = true;
      } else {
        if (family?.help !== undefined) fail('second HELP');
        if (!family) {
          family = { name, type: 'untyped', samples: [] };
          families.set(name, family);
        }
        family.help = unescapeHelp(rest, fail);
      }
      if (current && current !== family) finished.add(current.name);
      current = family;
      return;
    }
    const sample = parseSample(line, fail);
    const family = familyOf(sample.name, families);
    if (!family) return fail('sample without a TYPE');
    if (finished.has(family.name)) fail(`family ${family.name} is split`);
    if (current && current !== family) finished.add(current.name);
    current = family;
    checkSuffix(family, sample, fail);
    const id = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (series.has(id)) fail('duplicate series');
    series.add(id);
    family.samples.push(sample);
  });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

function familyOf(name: string, families: Map<string, PromFamily>): PromFamily | undefined {
  const direct = families.get(name);
  if (direct) return direct;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const f = families.get(name.slice(0, -suffix.length));
    if (f && (f.type === 'histogram' || f.type === 'summary')) return f;
  }
  return undefined;
}

function checkSuffix(family: PromFamily, s: PromSample, fail: (m: string) => never): void {
  if (family.type !== 'histogram') {
    if (s.name !== family.name && family.type !== 'summary') fail('sample name differs from its family');
    if (family.type === 'counter' && (s.value < 0 || Number.isNaN(s.value))) fail('negative counter');
    return;
  }
  if (s.name === `${family.name}_bucket`) {
    if (s.labels.le === undefined) fail('bucket without le');
  } else if (s.name !== `${family.name}_sum` && s.name !== `${family.name}_count`) {
    fail('histogram sample without _bucket, _sum or _count');
  } else if ('le' in s.labels) {
    fail('le outside a bucket');
  }
}

/** Buckets cumulative per series, ending with +Inf equal to _count. */
function checkHistogram(f: PromFamily): void {
  const groups = new Map<string, { buckets: [number, number][]; count?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { buckets: [] }));
    if (s.name.endsWith('_bucket')) g.buckets.push([le === '+Inf' ? Infinity : Number(le), s.value]);
    if (s.name.endsWith('_count')) g.count = s.value;
  }
  for (const [key, g] of groups) {
    const where = `${f.name}${key}`;
    if (g.count === undefined) throw new PromParseError(0, `${where}: no _count`);
    const last = g.buckets.at(-1);
    if (!last || last[0] !== Infinity) throw new PromParseError(0, `${where}: no +Inf bucket last`);
    if (last[1] !== g.count) throw new PromParseError(0, `${where}: +Inf bucket ${last[1]} != _count ${g.count}`);
    for (let i = 1; i < g.buckets.length; i++) {
      if (g.buckets[i]![0] <= g.buckets[i - 1]![0]) throw new PromParseError(0, `${where}: le not increasing`);
      if (g.buckets[i]![1] < g.buckets[i - 1]![1]) throw new PromParseError(0, `${where}: buckets not cumulative`);
    }
  }
}

function parseSample(line: string, fail: (m: string) => never): PromSample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
  if (!m) return fail('bad metric name');
  const name = m[1]!;
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    while (line[i] !== '}') {
      const lm = /^([^=]*)="/.exec(line.slice(i));
      if (!lm || !LABEL.test(lm[1]!)) return fail('bad label name');
      const label = lm[1]!;
      if (label in labels) fail(`label ${label} twice`);
      i += lm[0].length;
      let value = '';
      for (;;) {
        const c = line[i];
        if (c === undefined) return fail('unterminated label value');
        if (c === '"') break;
        if (c === '\\') {
          const e = line[i + 1];
          if (e === 'n') value += '\n';
          else if (e === '\\' || e === '"') value += e;
          else return fail('bad escape in label value');
          i += 2;
          continue;
        }
        value += c;
        i++;
      }
      labels[label] = value;
      i++; // the closing quote
      if (line[i] === ',') i++;
      else if (line[i] !== '}') return fail('expected , or } after a label');
    }
    i++;
  }
  if (line[i] !== ' ') return fail('expected a space before the value');
  const parts = line.slice(i + 1).split(' ');
  if (parts.length > 2 || parts[0] === '') return fail('expected a value and an optional timestamp');
  const value = parseValue(parts[0]!);
  if (value === undefined) return fail('bad value');
  if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) fail('bad timestamp');
  return { name, labels, value };
}

function parseValue(text: string): number | undefined {
  // As Prometheus reads values (Go's ParseFloat): Inf and NaN in any case.
  const lower = text.toLowerCase();
  if (lower === '+inf' || lower === 'inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  if (lower === 'nan') return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

function unescapeHelp(text: string, fail: (m: string) => never): string {
  return text.replace(/\\(.?)/g, (_all, e: string) =>
    e === 'n' ? '\n' : e === '\\' ? '\\' : fail('bad escape in HELP'),
  );
}

/** The value of the one sample of `name` whose labels are exactly `labels`; throws when there is none. */
export function sampleValue(
  families: Map<string, PromFamily>,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  const family = familyOf(name, families);
  const want = JSON.stringify(Object.entries(labels).sort());
  const found = family?.samples.find(
    (s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want,
  );
  if (!found) throw new Error(`no sample ${name}${want}`);
  return found.value;
}

/** Every sample named `name`. */
export function samplesOf(families: Map<string, PromFamily>, name: string): PromSample[] {
  return familyOf(name, families)?.samples.filter((s) => s.name === name) ?? [];
}
