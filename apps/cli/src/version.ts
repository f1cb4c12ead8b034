import { readFileSync } from 'node:fs';

/** ferry's version, from the CLI package's own package.json (one source of truth). */
export const version: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;
