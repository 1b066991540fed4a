import { expect } from 'chai';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Secret, type PowerTarget } from '@hafence/core';
import { RedfishPowerDriver } from '@hafence/power-redfish';
import { makeTestPki, type TestPki } from '@hafence/testkit';
import { HOSTILE_PW, HOSTILE_TOKEN, HostileBmc, system } from './helpers/hostile-bmc.js';
import { CaptureLogger } from './helpers/sim-fixture.js';

/**
 * Outside attacks on RedfishPowerDriver (issue 14): a hand-written hostile HTTPS BMC. Every
 * failure must be a typed hafence error within the call's timeout; neither the password nor
 * the session token may appear in an error or a log line. Titles ending "(found from outside)" failed on the
 * code they were written against (fixed since).
 */
const TYPED = ['HAF1001', 'HAF1002', 'HAF1003', 'HAF1004', 'HAF1005', 'HAF1006'];
const call = (ms = 1500) => ({ signal: AbortSignal.timeout(ms + 3000), timeoutMs: ms });

interface Outcome {
  readonly value?: unknown;
  readonly code?: string;
  readonly text: string;
  readonly ms: number;
}

/** Runs a call, never longer than `hardMs` (a hang is an outcome, not a mocha timeout). */
async function outcome(p: Promise<unknown>, hardMs = 8000): Promise<Outcome> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve({ code: 'HANG', text: 'hang', ms: hardMs }), hardMs);
  });
  const settled = p.then(
    (value): Outcome => ({ value, text: '', ms: Date.now() - started }),
    (e: unknown): Outcome => {
      const err = e as { code?: string; message?: string; stack?: string; cause?: unknown };
      return {
        code: err.code ?? `untyped:${String((e as Error)?.name)}:${String(err.message)}`,
        text: `${String(err.message)}\n${String(err.stack)}\n${JSON.stringify(err)}`,
        ms: Date.now() - started,
      };
    },
  );
  const r = await Promise.race([settled, hang]);
  clearTimeout(timer);
  return r;
}

const noSecret = (text: string): void => {
  expect(text).to.not.include(HOSTILE_PW);
  expect(text).to.not.include(HOSTILE_TOKEN);
};

describe('break: RedfishPowerDriver against a hostile HTTPS BMC', function () {
  this.timeout(40_000);
  let bmc: HostileBmc;
  let other: HostileBmc;
  const drivers: RedfishPowerDriver[] = [];
  const logger = new CaptureLogger();
  const target = (extra: Partial<PowerTarget> = {}): PowerTarget => ({
    host: 'hostile',
    address: '127.0.0.1',
    port: bmc.port,
    username: 'admin',
    password: new Secret(HOSTILE_PW),
    ...extra,
  });
  const driver = (o: ConstructorParameters<typeof RedfishPowerDriver>[0] = {}): RedfishPowerDriver => {
    const d = new RedfishPowerDriver({ ca: bmc.certPem, taskPollMs: 20, logger, ...o });
    drivers.push(d);
    return d;
  };
  const typedWithin = async (p: Promise<unknown>, timeoutMs: number, codes = TYPED): Promise<Outcome> => {
    const r = await outcome(p);
    expect(r.code, r.text).to.be.oneOf(codes);
    expect(r.ms).to.be.lessThan(timeoutMs + 1000);
    noSecret(r.text);
    return r;
  };
  const onSystem = (f: (res: ServerResponse, socket: Socket) => void) => {
    bmc.handler = (req, res, socket) => {
      if (req.method === 'GET' && req.path === '/redfish/v1/Systems/1') {
        f(res, socket);
        return;
      }
      return false;
    };
  };

  beforeEach(async () => {
    bmc = new HostileBmc();
    other = new HostileBmc();
    await bmc.start();
    await other.start();
  });
  afterEach(async () => {
    await Promise.all(drivers.splice(0).map((d) => outcome(d.close(), 5000)));
    await bmc.close();
    await other.close();
  });
  after(() => noSecret(logger.text()));

  it('held: the well-behaved defaults answer ON (the rig itself works)', async () => {
    expect(await driver().status(target(), call())).to.equal('ON');
    expect(bmc.logins).to.equal(1);
  });

  it('endless body: a typed error within the timeout, not a hang', async () => {
    const timers: NodeJS.Timeout[] = [];
    onSystem((res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"PowerState":"On","Oem":"');
      timers.push(setInterval(() => res.write('x'.repeat(64 * 1024)), 5));
    });
    await typedWithin(driver().status(target(), call(1500)), 1500);
    timers.forEach(clearInterval);
  });

  it('huge JSON (48 MB, sent at once): a ProtocolError, not an out-of-memory', async () => {
    const big = JSON.stringify({ ...(system('On') as object), Oem: 'y'.repeat(48 * 1024 * 1024) });
    onSystem((res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(big.length) });
      res.end(big);
    });
    const before = process.memoryUsage().rss;
    await typedWithin(driver().status(target(), call(3000)), 3000, ['HAF1004']);
    expect(process.memoryUsage().rss - before).to.be.lessThan(200 * 1024 * 1024);
  });

  it('deep nesting (200,000 levels of arrays, and of objects under Oem): typed, never a RangeError', async () => {
    const arrays = '['.repeat(200_000) + ']'.repeat(200_000);
    onSystem((res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(arrays);
    });
    await typedWithin(driver().status(target(), call()), 1500, ['HAF1004']);
    const objects = '{"PowerState":"On","Oem":' + '{"a":'.repeat(200_000) + '1' + '}'.repeat(200_000) + '}';
    onSystem((res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(objects);
    });
    const r = await outcome(driver().status(target(), call()));
    expect(r.value ?? r.code, r.text).to.be.oneOf(['ON', 'HAF1004']);
  });

  it('wrong content type (an HTML login page with 200): a ProtocolError', async () => {
    onSystem((res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<html><body>Please log in</body></html>');
    });
    await typedWithin(driver().status(target(), call()), 1500, ['HAF1004']);
  });

  it('redirects (302 to another host, 301 to http://, 307 on the login POST): not followed, nothing sent elsewhere', async () => {
    for (const [method, path, location, status] of [
      ['GET', '/redfish/v1/Systems', `${other.url}/redfish/v1/Systems`, 302],
      ['GET', '/redfish/v1/Systems/1', `http://127.0.0.1:${other.port}/redfish/v1/Systems/1`, 301],
      ['POST', '/redfish/v1/SessionService/Sessions', `${other.url}/redfish/v1/SessionService/Sessions`, 307],
    ] as const) {
      bmc.handler = (req, res) => {
        if (req.method !== method || req.path !== path) return false;
        res.writeHead(status, { Location: location });
        res.end();
      };
      const r = await typedWithin(driver().status(target(), call()), 1500);
      expect(r.code).to.not.equal('HAF1001');
      expect(other.seen, `${status} ${path}`).to.have.length(0);
    }
  });

  it('@odata.id of the system on another host: never asked there (credentials stay on the BMC)', async () => {
    bmc.handler = (req, res) => {
      if (req.path !== '/redfish/v1/Systems') return false;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ Members: [{ '@odata.id': `${other.url}/redfish/v1/Systems/1` }] }));
    };
    const r = await outcome(driver().status(target(), call()));
    expect(r.value ?? r.code, r.text).to.be.oneOf(['ON', 'HAF1004']);
    expect(other.seen).to.have.length(0);
  });

  it('a session Location on another host with credentials in it: close() sends no DELETE (no token) there', async () => {
    bmc.handler = (req, res) => {
      if (req.method !== 'POST' || req.path !== '/redfish/v1/SessionService/Sessions') return false;
      bmc.logins++;
      res.writeHead(201, {
        'X-Auth-Token': HOSTILE_TOKEN,
        Location: `https://u:p@127.0.0.1:${other.port}/redfish/v1/SessionService/Sessions/evil`,
      });
      res.end('{}');
    };
    const d = driver();
    expect(await d.status(target(), call())).to.equal('ON');
    await outcome(d.close(), 5000);
    expect(other.seen.map((r) => r.headers['x-auth-token'])).to.not.include(HOSTILE_TOKEN);
    expect(other.seen).to.have.length(0);
  });

  it('a task monitor that loops on itself with Retry-After of a day: a TimeoutError at the call timeout', async () => {
    bmc.handler = (req, res) => {
      if (req.path === '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset' || req.path.startsWith('/tm/')) {
        res.writeHead(202, { Location: '/tm/1', 'Retry-After': '86400', 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ TaskState: 'Running' }));
        return;
      }
      return false;
    };
    await typedWithin(driver().control(target(), 'off', call(1500)), 1500, ['HAF1002']);
  });

  it('Retry-After negative, zero, garbage or a past date on a task monitor: no busy loop (bounded polls per second) (found from outside)', async () => {
    const polled: Record<string, number> = {};
    for (const retryAfter of ['-5', '0', 'soon', '1e400', 'Wed, 21 Oct 2015 07:28:00 GMT']) {
      let polls = 0;
      bmc.handler = (req, res) => {
        if (req.path === '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset' || req.path.startsWith('/tm/')) {
          if (req.path.startsWith('/tm/')) polls++;
          res.writeHead(202, { Location: '/tm/1', 'Retry-After': retryAfter, 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ TaskState: 'Running' }));
          return;
        }
        return false;
      };
      await typedWithin(driver().control(target(), 'off', call(1000)), 1000, ['HAF1002']);
      polled[retryAfter] = polls;
    }
    // taskPollMs is 20: at most ~50 polls a second; a BMC saying "0" or a date in the past gets no more
    expect(
      Object.entries(polled).filter(([, n]) => n >= 120),
      JSON.stringify(polled),
    ).to.deep.equal([]);
  });

  it('503 with a Retry-After of a day: fails within the call timeout, not a day later', async () => {
    onSystem((res) => {
      res.writeHead(503, { 'Retry-After': '86400', 'Content-Type': 'application/json' });
      res.end('{}');
    });
    await typedWithin(driver().status(target(), call(1500)), 1500);
  });

  it('a BMC that answers 204 to ForceOff and stays on: status still reads ON (OFF is read, never assumed)', async () => {
    bmc.power = 'On';
    const d = driver();
    const r = await outcome(d.control(target(), 'off', call()));
    expect(r.code === undefined || TYPED.includes(r.code), r.text).to.equal(true);
    expect(bmc.seen.filter((s) => s.method === 'POST' && s.path.endsWith('ComputerSystem.Reset'))).to.have.length(1);
    expect(await d.status(target(), call())).to.equal('ON');
    bmc.power = 'PoweringOff';
    expect(await d.status(target(), call())).to.equal('ON');
    for (const lie of ['off', 'OFF ', 'Off\u0000', '']) {
      bmc.power = lie;
      const s = await outcome(d.status(target(), call()));
      expect(s.value ?? s.code, JSON.stringify(lie)).to.be.oneOf(['HAF1004']);
    }
  });

  it('slowloris (status line and headers trickled a byte every 200 ms): a TimeoutError at the timeout', async () => {
    const timers: NodeJS.Timeout[] = [];
    onSystem((_res, socket) => {
      const text = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Padding: ' + 'a'.repeat(1000);
      let i = 0;
      timers.push(
        setInterval(() => {
          if (!socket.destroyed) socket.write(text[i++ % text.length]!);
        }, 200),
      );
    });
    await typedWithin(driver().status(target(), call(1500)), 1500, ['HAF1002']);
    timers.forEach(clearInterval);
  });

  it('connection reset mid-body: a typed error (unreachable or protocol)', async () => {
    onSystem((res, socket) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '5000' });
      res.write('{"PowerState":"O');
      setTimeout(() => socket.destroy(), 20);
    });
    await typedWithin(driver().status(target(), call()), 1500, ['HAF1003', 'HAF1004']);
  });

  it('a ForceRestart the BMC received and then dropped the connection of is not sent twice (found from outside)', async () => {
    const d = driver();
    expect(await d.status(target(), call())).to.equal('ON'); // a kept-alive socket to reuse
    let resets = 0;
    bmc.handler = (req, _res, socket) => {
      if (req.method === 'POST' && req.path.endsWith('ComputerSystem.Reset')) {
        resets++;
        socket.destroy(); // the BMC acted on it, then reset the connection
        return;
      }
      return false;
    };
    const r = await outcome(d.control(target(), 'reset', call()));
    expect(r.code === undefined || TYPED.includes(r.code), r.text).to.equal(true);
    expect(resets, 'a reset sent twice reboots the host twice').to.equal(1);
  });

  it('garbage instead of HTTP, and a 64 KiB header: typed errors', async () => {
    onSystem((_res, socket) => {
      socket.end('HELLO I AM NOT HTTP\r\n\r\n');
    });
    await typedWithin(driver().status(target(), call()), 1500, ['HAF1003', 'HAF1004']);
    onSystem((_res, socket) => {
      socket.end(`HTTP/1.1 200 OK\r\nX-Big: ${'b'.repeat(64 * 1024)}\r\nContent-Length: 2\r\n\r\n{}`);
    });
    await typedWithin(driver().status(target(), call()), 1500, ['HAF1003', 'HAF1004']);
  });

  it('401 on every call after a good login: an AuthError after at most one new login, no login storm', async () => {
    onSystem((res) => {
      res.writeHead(401, { 'Content-Type': 'application/json' });
      res.end('{}');
    });
    await typedWithin(driver().status(target(), call()), 1500, ['HAF1001']);
    expect(bmc.logins).to.be.within(1, 2);
  });

  it('a session token with control characters (raw header bytes): a typed error, never a TypeError', async () => {
    for (const tok of ['a\u0001b', 'a\u007fb', 'tok\u00e9\u00ff', '']) {
      bmc.handler = (req, _res, socket) => {
        if (req.method !== 'POST' || req.path !== '/redfish/v1/SessionService/Sessions') return false;
        socket.write(
          Buffer.from(
            `HTTP/1.1 201 Created\r\nX-Auth-Token: ${tok}\r\nLocation: /redfish/v1/SessionService/Sessions/1\r\n` +
              'Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}',
            'latin1',
          ),
        );
        socket.end(); // a raw answer: the server must not hold the next request behind it
        return;
      };
      const r = await outcome(driver().status(target(), call()));
      // a token the driver can send back verbatim may work; anything else is refused at once, typed
      expect(r.value ?? r.code, `${JSON.stringify(tok)}: ${r.text}`).to.be.oneOf(['ON', 'HAF1001', 'HAF1004']);
      expect(r.ms).to.be.lessThan(1000);
      noSecret(r.text);
    }
  });

  it('the BMC echoing the token and the password in its error bodies: redacted from every error', async () => {
    const echo = { error: { '@Message.ExtendedInfo': [{ MessageId: 'Base.1.8.X', Message: '' }] } };
    for (const status of [400, 401, 403, 404, 500]) {
      bmc.handler = (req, res) => {
        if (!req.path.startsWith('/redfish/v1/Systems')) return false;
        const message = `token ${String(req.headers['x-auth-token'])} password ${HOSTILE_PW} b64 ${Buffer.from(
          HOSTILE_PW,
        ).toString('base64')}`;
        echo.error['@Message.ExtendedInfo'][0]!.Message = message;
        res.writeHead(status, { 'Content-Type': 'application/json', 'X-Echo': message });
        res.end(JSON.stringify(echo));
      };
      const r = await typedWithin(driver().status(target(), call()), 1500);
      expect(r.text).to.not.include(Buffer.from(HOSTILE_PW).toString('base64'));
    }
  });

  it('TLS: a certificate for another name (SAN 127.0.0.1, dialled as localhost) is refused with a ProtocolError', async () => {
    let pki: TestPki | undefined;
    try {
      pki = makeTestPki();
      const named = new HostileBmc(pki.server);
      await named.start();
      try {
        const d = new RedfishPowerDriver({ ca: pki.ca, logger });
        drivers.push(d);
        const t = { ...target(), port: named.port };
        expect(await d.status(t, call())).to.equal('ON');
        await typedWithin(d.status({ ...t, host: 'other', address: 'localhost' }, call()), 1500, ['HAF1004']);
      } finally {
        await named.close();
      }
    } finally {
      pki?.remove();
    }
  });

  it('500 concurrent status calls on one slow BMC: one session, at most 2 connections, all answered', async () => {
    onSystem((res) => {
      setTimeout(() => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(system('On')));
      }, 5);
    });
    const d = driver();
    const results = await Promise.all(
      Array.from({ length: 500 }, () => outcome(d.status(target(), call(30_000)), 35_000)),
    );
    const counts: Record<string, number> = {};
    for (const r of results) counts[String(r.value ?? r.code)] = (counts[String(r.value ?? r.code)] ?? 0) + 1;
    expect(counts).to.deep.equal({ ON: 500 });
    expect(bmc.logins, 'sessions opened at the BMC').to.equal(1);
    expect(bmc.maxOpen, 'connections open at once').to.be.at.most(2);
  });

  it('500 concurrent calls while the BMC forgets the session mid-flight: one new login, not one per call', async () => {
    let answered = 0;
    bmc.handler = (req, res) => {
      if (req.path !== '/redfish/v1/Systems/1') return false;
      if (req.headers['x-auth-token'] !== bmc.token) {
        res.writeHead(401, { 'Content-Type': 'application/json' });
        res.end('{}');
        return;
      }
      setTimeout(() => {
        if (++answered === 50) bmc.token = `${HOSTILE_TOKEN}-2`; // the BMC drops the session; the next login gets this
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(system('On')));
      }, 5);
    };
    const d = driver();
    const results = await Promise.all(
      Array.from({ length: 500 }, () => outcome(d.status(target(), call(30_000)), 35_000)),
    );
    expect(results.filter((r) => r.value !== 'ON').map((r) => r.code)).to.deep.equal([]);
    expect(bmc.logins, 'sessions opened at the BMC (a real one has 4-16 slots)').to.be.at.most(3);
    expect(bmc.maxOpen).to.be.at.most(2);
  });

  it('close(): every connection is closed, and a BMC that never answers the logout does not hold it', async () => {
    const d = driver();
    expect(await d.status(target(), call())).to.equal('ON');
    bmc.handler = (req) => (req.method === 'DELETE' ? undefined : false); // never answers
    const r = await outcome(d.close(), 6000);
    expect(r.code, r.text).to.equal(undefined);
    expect(r.ms).to.be.lessThan(3000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(bmc.open.size, 'connections left open after close()').to.equal(0);
  });

  it('calls after close() fail typed or work, and open no connection that outlives another close()', async () => {
    const d = driver();
    expect(await d.status(target(), call())).to.equal('ON');
    await d.close();
    const r = await outcome(d.status(target(), call()));
    expect(r.value ?? r.code, r.text).to.be.oneOf(['ON', ...TYPED, 'HAF0001', 'HAF0002']);
    await d.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(bmc.open.size).to.equal(0);
  });
});
