#!/usr/bin/env node
// The `ferry` executable. Kept as plain JavaScript outside dist/ so that npm can link it before
// the first build; all the work happens in the compiled dist/main.js.
import { run } from '../dist/main.js';

process.exitCode = await run(process.argv.slice(2));
