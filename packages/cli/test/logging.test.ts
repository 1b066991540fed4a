import { expect } from 'chai';
import { ConfigError, Secret } from '@hafence/core';
import { TestClock } from '@hafence/testkit';
import { REDACT_DEPTH, SECRET_KEYS, createPinoLogger, formatLogLine, resolveLogLevel } from '@hafence/cli';

/** A logger writing into an array, at `level`, its clock at 2026-11-30T17:30:01.123Z. */
function collecting(level: 'debug' | 'info' | 'warn' | 'error', pretty = false) {
  const lines: string[] = [];
  const clock = new TestClock(Date.parse('2026-11-30T17:30:01.123Z'));
  const logger = createPinoLogger({ level, pretty, color: false, clock, destination: { write: (l) => lines.push(l) } });
  return { logger, lines, json: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/** `{ a: { a: … { [key]: value } } }`, `depth` objects deep. */
function nested(depth: number, key: string, value: unknown): Record<string, unknown> {
  let obj: Record<string, unknown> = { [key]: value };
  for (let i = 0; i < depth; i++) obj = { a: obj };
  return obj;
}

describe('pino logger adapter (the core Logger port)', () => {
  it('writes one JSON line with level as a string, t as ISO time, the fields and message', () => {
    const { logger, json, lines } = collecting('info');
    logger.info('agent started', { host: 'kvm1', listen: '127.0.0.1:7070' });
    expect(lines).to.have.length(1);
    expect(lines[0]!.endsWith('\n')).to.equal(true);
    expect(json()[0]).to.deep.equal({
      level: 'info',
      t: '2026-11-30T17:30:01.123Z',
      host: 'kvm1',
      listen: '127.0.0.1:7070',
      message: 'agent started',
    });
  });

  it('keeps printf-like text in a message as it is', () => {
    const { logger, json } = collecting('info');
    logger.warn('100% of %s', {});
    expect(json()[0]!.message).to.equal('100% of %s');
  });

  it('drops the levels below its own', () => {
    const { logger, json } = collecting('warn');
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    expect(json().map((l) => [l.level, l.message])).to.deep.equal([
      ['warn', 'w'],
      ['error', 'e'],
    ]);
    const all = collecting('debug');
    for (const level of ['debug', 'info', 'warn', 'error'] as const) all.logger[level](level);
    expect(all.json().map((l) => l.level)).to.deep.equal(['debug', 'info', 'warn', 'error']);
  });

  for (const key of SECRET_KEYS) {
    it(`redacts a "${key}" field at every depth 0..${REDACT_DEPTH}`, () => {
      const { logger, lines } = collecting('info');
      for (let depth = 0; depth <= REDACT_DEPTH; depth++)
        logger.info('with a secret', { ...nested(depth, key, `S3cret-${depth}-value`), keep: 'visible' });
      expect(lines).to.have.length(REDACT_DEPTH + 1);
      for (const [depth, line] of lines.entries()) {
        expect(line).to.not.include('S3cret-');
        let at = JSON.parse(line) as Record<string, unknown>;
        for (let i = 0; i < depth; i++) at = at.a as Record<string, unknown>;
        expect(at[key], `depth ${depth}`).to.equal('[redacted]');
        expect(JSON.parse(line)).to.include({ keep: 'visible', message: 'with a secret' });
      }
    });
  }

  it('redacts authorization headers of a request-like object and a Secret under any name', () => {
    const { logger, lines } = collecting('info');
    logger.warn('request', {
      req: { method: 'GET', headers: { authorization: 'Bearer tok-AAAA', cookie: 'sid=tok-BBBB', host: 'h1' } },
      anything: new Secret('tok-CCCC'),
      deep: nested(6, 'value', new Secret('tok-DDDD')),
    });
    expect(lines[0]).to.not.match(/tok-[A-D]{4}/);
    const line = JSON.parse(lines[0]!) as { req: { headers: Record<string, string> }; anything: string };
    expect(line.req.headers).to.deep.equal({ authorization: '[redacted]', cookie: '[redacted]', host: 'h1' });
    expect(line.anything).to.equal('[redacted]');
  });

  it('does not change the caller’s fields', () => {
    const { logger } = collecting('info');
    const fields = { password: 'kept-in-caller', nested: { token: 't' } };
    logger.info('x', fields);
    expect(fields).to.deep.equal({ password: 'kept-in-caller', nested: { token: 't' } });
  });

  it('pretty: writes readable lines, redacted too, and still filters by level', () => {
    const { logger, lines } = collecting('info', true);
    logger.debug('hidden');
    logger.info('agent started', { host: 'kvm1', token: 'tok-EEEE' });
    expect(lines).to.deep.equal(['17:30:01.123Z INFO  agent started host=kvm1 token=[redacted]\n']);
  });
});

describe('formatLogLine (readable lines for a TTY)', () => {
  const line = (o: Record<string, unknown>) => `${JSON.stringify(o)}\n`;

  it('prints time, level, message, then key=value (strings bare when plain, else JSON)', () => {
    const out = formatLogLine(
      line({
        level: 'warn',
        t: '2026-11-30T17:30:01.123Z',
        source: '10.0.0.9',
        reason: 'wrong token',
        failures: 3,
        peers: { h2: 'https://10.0.0.2:7070' },
        message: 'agent: authentication failed',
      }),
      false,
    );
    expect(out).to.equal(
      '17:30:01.123Z WARN  agent: authentication failed source=10.0.0.9 reason="wrong token" failures=3 peers={"h2":"https://10.0.0.2:7070"}\n',
    );
  });

  it('colours the level when asked, and only then', () => {
    const rec = line({ level: 'error', t: '2026-11-30T17:30:01.123Z', message: 'boom' });
    expect(formatLogLine(rec, true)).to.equal('17:30:01.123Z \x1b[31mERROR\x1b[0m boom\n');
    expect(formatLogLine(rec, false)).to.not.include('\x1b');
  });

  it('escapes control characters, so a logged value cannot drive the terminal', () => {
    const out = formatLogLine(
      line({ level: 'info', t: '2026-11-30T17:30:01.123Z', who: 'x\x1b[2Jy', message: 'a\x1b]0;title\x07b\nc' }),
      false,
    );
    expect(out).to.not.match(/[\x00-\x09\x0b-\x1f]/);
    expect(out.split('\n')).to.have.length(2);
    expect(out).to.include('a\\u001b]0;title\\u0007b\\nc').and.include('who="x\\u001b[2Jy"');
  });

  it('returns a line that is not a JSON object as it was', () => {
    expect(formatLogLine('not json\n', false)).to.equal('not json\n');
    expect(formatLogLine('[1,2]\n', false)).to.equal('[1,2]\n');
  });
});

describe('resolveLogLevel (--log-level, HAFENCE_LOG_LEVEL)', () => {
  it('defaults to info; the flag wins over the environment', () => {
    expect(resolveLogLevel(undefined, {})).to.equal('info');
    expect(resolveLogLevel(undefined, { HAFENCE_LOG_LEVEL: '' })).to.equal('info');
    expect(resolveLogLevel(undefined, { HAFENCE_LOG_LEVEL: 'debug' })).to.equal('debug');
    expect(resolveLogLevel('error', { HAFENCE_LOG_LEVEL: 'debug' })).to.equal('error');
  });

  for (const [flag, env, path] of [
    ['verbose', undefined, '--log-level'],
    ['', undefined, '--log-level'],
    [undefined, 'INFO', 'HAFENCE_LOG_LEVEL'],
    [undefined, 'trace', 'HAFENCE_LOG_LEVEL'],
  ] as const) {
    it(`refuses ${flag !== undefined ? `--log-level '${flag}'` : `HAFENCE_LOG_LEVEL=${env}`} naming ${path}`, () => {
      let caught: unknown;
      try {
        resolveLogLevel(flag, env === undefined ? {} : { HAFENCE_LOG_LEVEL: env });
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(ConfigError);
      expect((caught as ConfigError).code).to.equal('HAF2001');
      expect((caught as ConfigError).issues.map((i) => i.path)).to.deep.equal([path]);
    });
  }
});
