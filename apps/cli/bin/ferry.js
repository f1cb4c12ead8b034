#!/usr/bin/env node
// The `ferry` executable. Kept as plain JavaScript outside dist/ so that npm can link it before
// the first build; all the work happens in the compiled code.
import { readFileSync, statSync } from 'node:fs';

const args = process.argv.slice(2);
if (args.length === 1 && args[0] === '--version') {
  // Answered before loading yargs or any package: scripts call this often.
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${version}\n`);
} else {
  // undici parses HTTP with llhttp compiled to WebAssembly. V8 compiles it twice: at once with
  // Liftoff, then again with TurboFan on a background thread, which raised the peak RSS of every
  // command that makes a request by 35 MiB (68 → 103 MiB for `repo tags`) and cost ~0.1 s at
  // exit, with no measurable gain in parsing speed (a 1 GiB pull took the same time).
  (await import('node:v8')).setFlagsFromString('--liftoff-only');
  const { run, paceBufferCollection } = await import(entryPoint());
  // Frees the Buffers of a transfer as it goes instead of 64 MiB at a time (src/buffer-pacer.ts).
  paceBufferCollection();
  process.exitCode = await run(args);
}

/**
 * dist/bundle/main.js (scripts/bundle.mjs: the CLI and its packages in a few files, which start
 * in about half the time of ~140 separate modules), unless it is missing or older than the last
 * `tsc -b` of this package (dist/.tsbuildinfo, which is not published): then the modules tsc
 * wrote, so that a checkout rebuilt with `tsc -b` alone never runs stale code.
 */
function entryPoint() {
  const bundle = new URL('../dist/bundle/main.js', import.meta.url);
  const bundled = statSync(bundle, { throwIfNoEntry: false });
  const compiled = statSync(new URL('../dist/.tsbuildinfo', import.meta.url), {
    throwIfNoEntry: false,
  });
  if (bundled && (!compiled || bundled.mtimeMs >= compiled.mtimeMs)) return bundle.href;
  return new URL('../dist/main.js', import.meta.url).href;
}
