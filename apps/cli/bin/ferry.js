#!/usr/bin/env node
// The `ferry` executable. Kept as plain JavaScript outside dist/ so that npm can link it before
// the first build; all the work happens in the compiled dist/main.js.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
if (args.length === 1 && args[0] === '--version') {
  // Answered before loading yargs or any package: scripts call this often.
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${version}\n`);
} else {
  const { run } = await import('../dist/main.js');
  process.exitCode = await run(args);
}
