import { expect } from 'chai';
import {
  PARTITION_EVENTS,
  PARTITION_STATES,
  PARTITION_TABLE,
  POWER_EVENTS,
  POWER_TABLE,
  RESOURCE_EVENTS,
  RESOURCE_STATES,
  RESOURCE_TABLE,
  partitionTransition,
  powerTransition,
  resourceTransition,
} from '@hafence/core';

/**
 * Exhaustive check of the three FSM tables (STYLE: "test the table exhaustively").
 * The expected answers below are written from SPEC §1 (power), §2 (partition) and §3
 * (resource), independently of the tables: one line per non-ignored cell, every other
 * (state, event) pair must be `ignored`. A changed cell fails with the pair named.
 */

/** `STATE event → TARGET`, one per line; blank lines and `#` comments allowed. */
function parse(spec: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of spec.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const m = /^(\S+)\s+(\S+)\s+→\s+(\S+)$/.exec(line);
    if (!m) throw new Error(`bad expectation line: ${line}`);
    const [, state = '', event = '', next = ''] = m;
    const key = `${state} × ${event}`;
    if (out.has(key)) throw new Error(`duplicate expectation: ${key}`);
    out.set(key, next);
  }
  return out;
}

// SPEC §3 "Resource HA FSM". Engine-classified events: `health-failed-quiet` is a failed
// check inside the INITIALIZING quiet period; `power-off-observed` a sync read of OFF
// (never our own command); `power-on-observed` an outside power-on; `power-lost` a
// controller that became unreadable without an armed lease (§5.1).
const RESOURCE_EXPECTED = parse(`
  # §2: INACTIVE→ACTIVE: NONE→INITIALIZING; an open episode resumes at SUSPECT. A fenced or
  # failed episode resumes where it ended (the framework never powers a fenced host on).
  NONE partition-active → INITIALIZING
  NONE partition-resume-suspect → SUSPECT
  NONE partition-resume-fenced → FENCED
  NONE partition-resume-failed → FAILED

  INITIALIZING partition-inactive → NONE
  INITIALIZING maintenance-start → INELIGIBLE
  INITIALIZING eligibility-lost → UNSUPPORTED
  INITIALIZING health-passed → AVAILABLE
  INITIALIZING health-failed → SUSPECT           # unhealthy after the quiet period
  INITIALIZING power-off-observed → UNSUPPORTED  # §5.1 ON→OFF
  INITIALIZING power-lost → UNSUPPORTED          # §5.1 →UNKNOWN without an armed lease

  AVAILABLE partition-inactive → NONE
  AVAILABLE maintenance-start → INELIGIBLE
  AVAILABLE eligibility-lost → UNSUPPORTED
  AVAILABLE health-failed → SUSPECT
  AVAILABLE power-off-observed → UNSUPPORTED
  AVAILABLE power-lost → UNSUPPORTED

  INELIGIBLE partition-inactive → NONE
  INELIGIBLE maintenance-end → INITIALIZING

  UNSUPPORTED partition-inactive → NONE
  UNSUPPORTED maintenance-start → INELIGIBLE
  UNSUPPORTED eligibility-regained → INITIALIZING
  UNSUPPORTED power-on-observed → INITIALIZING   # §5.1 OFF→ON / UNKNOWN→ON

  SUSPECT partition-inactive → NONE
  SUSPECT maintenance-start → INELIGIBLE
  SUSPECT eligibility-lost → UNSUPPORTED
  SUSPECT health-passed → AVAILABLE
  SUSPECT activity-due → CHECKING
  SUSPECT power-off-observed → FENCED            # §5.1: read OFF during an episode → FENCED

  CHECKING partition-inactive → NONE
  CHECKING maintenance-start → INELIGIBLE
  CHECKING health-passed → AVAILABLE
  CHECKING activity-active → SUSPECT
  CHECKING activity-active-limit → DEGRADED
  CHECKING activity-inactive → SUSPECT
  CHECKING activity-inactive-confirmed → RECOVERING
  CHECKING activity-error → SUSPECT
  CHECKING activity-errors-exhausted → FAILED
  CHECKING power-off-observed → FENCED

  DEGRADED partition-inactive → NONE
  DEGRADED maintenance-start → INELIGIBLE
  DEGRADED eligibility-lost → UNSUPPORTED
  DEGRADED health-passed → AVAILABLE
  DEGRADED degraded-recheck → SUSPECT
  DEGRADED power-off-observed → FENCED

  RECOVERING partition-inactive → NONE
  RECOVERING maintenance-start → INELIGIBLE
  RECOVERING health-passed → AVAILABLE
  RECOVERING recover-succeeded → INITIALIZING
  RECOVERING recover-failed → RECOVERING
  RECOVERING recover-exhausted → FENCING
  RECOVERING observe-ended → SUSPECT        # docs/observe-only.md: decided while observing, verified again
  RECOVERING power-off-observed → FENCED

  FENCING partition-inactive → NONE
  FENCING maintenance-start → INELIGIBLE
  FENCING fence-verified-off → FENCED
  FENCING fence-lease-expired → FENCED
  FENCING fence-failed → FAILED
  FENCING observe-ended → SUSPECT
  FENCING power-off-observed → FENCED

  FENCED partition-inactive → NONE
  FENCED health-passed → INITIALIZING

  FAILED partition-inactive → NONE
  FAILED health-passed → INITIALIZING
  FAILED fence-verified-off → FENCED             # FAILED still accepts proof
  FAILED fence-lease-expired → FENCED
  FAILED power-off-observed → FENCED
`);

// SPEC §2 "Partition FSM".
const PARTITION_EXPECTED = parse(`
  NONE ha-enabled-met → ACTIVE
  NONE ha-enabled-unmet → INACTIVE
  ACTIVE ha-disabled → NONE
  ACTIVE conditions-unmet → INACTIVE
  INACTIVE ha-disabled → NONE
  INACTIVE conditions-met → ACTIVE
`);

// SPEC §1: a known state turns UNKNOWN only after `powerReadsToUnknown` failed reads;
// any successful read settles UNKNOWN; a single failed read is not news.
const POWER_EXPECTED = parse(`
  ON read-off → OFF
  ON read-failed-limit → UNKNOWN
  OFF read-on → ON
  OFF read-failed-limit → UNKNOWN
  UNKNOWN read-on → ON
  UNKNOWN read-off → OFF
`);

interface Fsm {
  readonly name: string;
  readonly states: readonly string[];
  readonly events: readonly string[];
  readonly table: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly transition: (state: string, event: string) => string | undefined;
  readonly expected: Map<string, string>;
  readonly expectedStates: readonly string[];
  readonly expectedEvents: readonly string[];
}

const FSMS: Fsm[] = [
  {
    name: 'resource',
    states: RESOURCE_STATES,
    events: RESOURCE_EVENTS,
    table: RESOURCE_TABLE,
    transition: resourceTransition as Fsm['transition'],
    expected: RESOURCE_EXPECTED,
    expectedStates: [
      'NONE',
      'INITIALIZING',
      'AVAILABLE',
      'INELIGIBLE',
      'UNSUPPORTED',
      'SUSPECT',
      'CHECKING',
      'DEGRADED',
      'RECOVERING',
      'FENCING',
      'FENCED',
      'FAILED',
    ],
    expectedEvents: [
      'partition-active',
      'partition-resume-suspect',
      'partition-resume-fenced',
      'partition-resume-failed',
      'partition-inactive',
      'maintenance-start',
      'maintenance-end',
      'eligibility-lost',
      'eligibility-regained',
      'health-passed',
      'health-failed',
      'health-failed-quiet',
      'activity-due',
      'activity-active',
      'activity-active-limit',
      'activity-inactive',
      'activity-inactive-confirmed',
      'activity-error',
      'activity-errors-exhausted',
      'degraded-recheck',
      'recover-succeeded',
      'recover-failed',
      'recover-exhausted',
      'fence-verified-off',
      'fence-lease-expired',
      'fence-failed',
      'power-off-observed',
      'power-on-observed',
      'power-lost',
      'observe-ended',
    ],
  },
  {
    name: 'partition',
    states: PARTITION_STATES,
    events: PARTITION_EVENTS,
    table: PARTITION_TABLE,
    transition: partitionTransition as Fsm['transition'],
    expected: PARTITION_EXPECTED,
    expectedStates: ['NONE', 'ACTIVE', 'INACTIVE'],
    expectedEvents: ['ha-disabled', 'ha-enabled-met', 'ha-enabled-unmet', 'conditions-met', 'conditions-unmet'],
  },
  {
    name: 'power',
    states: ['ON', 'OFF', 'UNKNOWN'],
    events: POWER_EVENTS,
    table: POWER_TABLE,
    transition: powerTransition as Fsm['transition'],
    expected: POWER_EXPECTED,
    expectedStates: ['ON', 'OFF', 'UNKNOWN'],
    expectedEvents: ['read-on', 'read-off', 'read-failed', 'read-failed-limit'],
  },
];

const sorted = (xs: Iterable<string>) => [...xs].sort();

for (const fsm of FSMS) {
  describe(`${fsm.name} FSM table`, () => {
    it('has exactly the states and events of the SPEC', () => {
      expect(sorted(fsm.states)).to.deep.equal(sorted(fsm.expectedStates));
      expect(sorted(fsm.events)).to.deep.equal(sorted(fsm.expectedEvents));
      expect(new Set(fsm.events).size, 'duplicate event').to.equal(fsm.events.length);
    });

    it('is total: a row per state, a cell per event, and nothing else', () => {
      expect(sorted(Object.keys(fsm.table)), 'rows').to.deep.equal(sorted(fsm.states));
      for (const state of fsm.states) {
        const row = fsm.table[state]!;
        expect(sorted(Object.keys(row)), `columns of ${state}`).to.deep.equal(sorted(fsm.events));
        for (const event of fsm.events) {
          expect(row[event], `${state} × ${event} has no answer`).to.be.a('string');
        }
      }
    });

    it('only targets valid states', () => {
      const valid = new Set<string>([...fsm.states, 'ignored']);
      for (const state of fsm.states) {
        for (const event of fsm.events) {
          const cell = fsm.table[state]![event]!;
          expect(valid.has(cell), `${state} × ${event} → ${cell} is not a state`).to.equal(true);
        }
      }
    });

    it('matches the SPEC in every (state × event) cell', () => {
      const wrong: string[] = [];
      for (const state of fsm.states) {
        for (const event of fsm.events) {
          const key = `${state} × ${event}`;
          const want = fsm.expected.get(key) ?? 'ignored';
          const got = fsm.table[state]![event];
          if (got !== want) wrong.push(`${key}: table says ${got}, expected ${want}`);
        }
      }
      expect(wrong, wrong.join('\n')).to.deep.equal([]);
    });

    it('expects only real states and events (the expectation list itself has no typo)', () => {
      const states = new Set(fsm.states);
      const events = new Set(fsm.events);
      for (const [key, target] of fsm.expected) {
        const [state, event] = key.split(' × ') as [string, string];
        expect(states.has(state), `${key}: unknown state`).to.equal(true);
        expect(events.has(event), `${key}: unknown event`).to.equal(true);
        expect(states.has(target), `${key} → ${target}: unknown target`).to.equal(true);
      }
    });

    it('transition() returns the target, and undefined for every ignored cell', () => {
      for (const state of fsm.states) {
        for (const event of fsm.events) {
          const want = fsm.expected.get(`${state} × ${event}`);
          expect(fsm.transition(state, event), `${fsm.name}Transition(${state}, ${event})`).to.equal(want);
        }
      }
    });
  });
}
