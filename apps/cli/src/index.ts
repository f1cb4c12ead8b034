export { run } from './main.js';
export { ExitCode, reportError, UsageError } from './exit.js';
export type { Io } from './io.js';
export { checkResultDocument } from './result-schema.js';
