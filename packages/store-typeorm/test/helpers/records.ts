import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResourceRecord } from '@hafence/core';

/** A temporary folder for this test file's databases, removed after its tests (a mocha root `after`). */
export function testDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A fresh host record of cluster c1 at `version` (state NONE). */
export function hostRecord(id: string, version = 0): ResourceRecord {
  return {
    key: `host:${id}`,
    ref: { type: 'host', id },
    partition: 'c1',
    state: 'NONE',
    version,
    since: 0,
    nextEpisode: 1,
    releasedOutside: false,
    timers: {},
  };
}
