#!/usr/bin/env node
// The `hafence` command as npm links it. This file is committed, not compiled: `npm install`
// links a package's bin only when the file exists, and in a fresh clone dist/ does not exist
// until `npm run build`. It hands over to the compiled dist/bin.js.
import { existsSync } from 'node:fs';

const target = new URL('../dist/bin.js', import.meta.url);
if (existsSync(target)) {
  await import(target.href);
} else {
  process.stderr.write('hafence: the command is not built yet (no dist/bin.js): run `npm run build` first\n');
  process.exitCode = 1;
}
