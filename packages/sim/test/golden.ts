import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Set to `1` to rewrite the goldens instead of comparing (`npm run scenarios:update`). */
export const UPDATE_GOLDENS = process.env.HAFENCE_UPDATE_GOLDENS === '1';

/** The repository root: the first ancestor of this file holding `test/scenarios`. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'test', 'scenarios')) && existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the repository root (a folder with test/scenarios)');
    dir = up;
  }
}

/** A readable diff of two texts: the first differing line with a little context on each side. */
export function firstDiff(expected: string, actual: string, context = 3): string | undefined {
  if (expected === actual) return undefined;
  const e = expected.split('\n');
  const a = actual.split('\n');
  let i = 0;
  while (i < e.length && i < a.length && e[i] === a[i]) i++;
  const from = Math.max(0, i - context);
  const out = [`first difference at line ${i + 1} (golden ${e.length - 1} lines, actual ${a.length - 1} lines):`];
  for (let k = from; k < i; k++) out.push(`    ${e[k]}`);
  for (let k = i; k < Math.min(e.length, i + context); k++) out.push(`  - ${e[k]}`);
  for (let k = i; k < Math.min(a.length, i + context); k++) out.push(`  + ${a[k]}`);
  return out.join('\n');
}

/** Compares `actual` with the golden file, or rewrites it when {@link UPDATE_GOLDENS}. */
export function checkGolden(path: string, actual: string): void {
  if (UPDATE_GOLDENS) {
    writeFileSync(path, actual);
    return;
  }
  if (!existsSync(path)) throw new Error(`no golden ${path}: run \`npm run scenarios:update\` and review it`);
  const diff = firstDiff(readFileSync(path, 'utf8'), actual);
  if (diff)
    throw new Error(
      `event log differs from ${path}\n${diff}\n(if the change is intended: npm run scenarios:update, then review the diff)`,
    );
}
