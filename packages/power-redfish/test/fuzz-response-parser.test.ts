import { expect } from 'chai';
import fc from 'fast-check';
import { ProtocolError, UnsupportedOperationError, type ChassisCommand } from '@hafence/core';
import {
  chooseResetType,
  parseRedfishJson,
  readActionInfo,
  readErrorInfo,
  readMembers,
  readServiceRoot,
  readSystem,
  readTask,
} from '@hafence/power-redfish/protocol';
import { FUZZ_SEED, fuzzRuns, mutated } from '@hafence/fuzz-helpers';
import { CORPUS } from './helpers/corpus.js';

const H = 'fuzz-bmc';
const COMMANDS: readonly ChassisCommand[] = ['on', 'off', 'soft', 'reset', 'cycle'];
const KEYS = [
  'Systems',
  'Links',
  'Sessions',
  '@odata.id',
  '@odata.etag',
  'Members',
  'PowerState',
  'Actions',
  '#ComputerSystem.Reset',
  'target',
  'ResetType@Redfish.AllowableValues',
  '@Redfish.ActionInfo',
  'Parameters',
  'Name',
  'AllowableValues',
  'TaskState',
  'TaskStatus',
  'Messages',
  'error',
  '@Message.ExtendedInfo',
  'MessageId',
  'Message',
  'code',
  'message',
  'IndicatorLED',
  'LocationIndicatorActive',
  '__proto__',
  'constructor',
  'toString',
];

/** The driver's whole reading path over one body: every reader, as the driver would call it. */
function readAll(body: Uint8Array): number {
  let typed = 0;
  const attempt = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      if (!(err instanceof ProtocolError || err instanceof UnsupportedOperationError))
        throw new Error(`untyped rejection: ${String(err)}`, { cause: err });
      typed++;
    }
  };
  let doc: ReturnType<typeof parseRedfishJson> | undefined;
  attempt(() => {
    doc = parseRedfishJson(body, H, 'fuzz');
  });
  if (!doc) return typed;
  const d = doc;
  readErrorInfo(d); // never throws, by contract
  attempt(() => readServiceRoot(d, H));
  attempt(() => readMembers(d, H, 'Systems'));
  attempt(() => readActionInfo(d, H));
  attempt(() => readTask(d, H));
  attempt(() => {
    const sys = readSystem(d, H, '/redfish/v1/Systems/1');
    for (const c of COMMANDS) attempt(() => chooseResetType(c, sys.reset?.allowable ?? []));
  });
  return typed;
}

const docs = CORPUS.map((d) => Buffer.from(JSON.stringify(d)));
const json = fc.jsonValue({ maxDepth: 4 });
/** Objects built from Redfish's own keys with random values, nested a few levels. */
const redfishish: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    json,
    fc.dictionary(fc.constantFrom(...KEYS), tie('node'), { maxKeys: 6 }),
    fc.array(tie('node'), { maxLength: 4 }),
  ),
})).node;
/** A corpus document with one value somewhere replaced by random JSON. */
const replaced = fc
  .tuple(fc.constantFrom(...CORPUS), fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), redfishish)
  .map(([base, picks, value]) => {
    const copy = JSON.parse(JSON.stringify(base)) as Record<string, unknown>;
    let node: Record<string, unknown> = copy;
    for (const [i, pick] of picks.entries()) {
      const keys = Object.keys(node);
      if (keys.length === 0) break;
      const k = keys[pick % keys.length]!;
      const child = node[k];
      if (i === picks.length - 1 || typeof child !== 'object' || child === null) {
        node[k] = value;
        break;
      }
      node = child as Record<string, unknown>;
    }
    return Buffer.from(JSON.stringify(copy));
  });

export const REDFISH_FUZZ_RUNS = { random: fuzzRuns(5000), structural: fuzzRuns(5000), bytes: fuzzRuns(5000) };

describe('fuzzing the Redfish response parser', function () {
  this.timeout(120000);

  it('the corpus itself parses', () => {
    for (const d of docs) expect(() => parseRedfishJson(d, H, 'corpus')).to.not.throw();
  });

  it(`${REDFISH_FUZZ_RUNS.random} random JSON documents (Redfish keys, random values): typed errors only`, () => {
    fc.assert(
      fc.property(fc.oneof(json, redfishish), (v) => {
        readAll(Buffer.from(JSON.stringify(v) ?? 'undefined'));
      }),
      { seed: FUZZ_SEED, numRuns: REDFISH_FUZZ_RUNS.random },
    );
  });

  it(`${REDFISH_FUZZ_RUNS.structural} corpus documents with a value replaced: typed errors only`, () => {
    fc.assert(
      fc.property(replaced, (b) => {
        readAll(b);
      }),
      { seed: FUZZ_SEED + 1, numRuns: REDFISH_FUZZ_RUNS.structural },
    );
  });

  it(`${REDFISH_FUZZ_RUNS.bytes} corpus documents with bytes edited, cut or appended: typed errors only`, () => {
    let rejected = 0;
    fc.assert(
      fc.property(mutated(docs), (b) => {
        rejected += readAll(b);
      }),
      { seed: FUZZ_SEED + 2, numRuns: REDFISH_FUZZ_RUNS.bytes },
    );
    // the property must have exercised the rejection path, not only the happy one
    expect(rejected).to.be.greaterThan(REDFISH_FUZZ_RUNS.bytes / 10);
  });
});
