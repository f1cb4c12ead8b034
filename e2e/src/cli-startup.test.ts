// What the built `ferry` loads to start (issue 17, start-up): bin/ferry.js runs the bundle in
// apps/cli/dist/bundle/ (apps/cli/scripts/bundle.mjs), and a command loads only its own code:
// `ferry version` none of the registry client, artifact, Homebrew or model code, `ferry repo tags`
// no Homebrew, model or tar code. Loaded files are recorded by a module resolve hook in the
// ferry process; apps/cli/dist/bundle/modules.json says which source modules each file holds.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type TestRegistry } from './harness/index.js';
import { ferry, repositoryRoot } from './support/cli.js';

const BUNDLE = join(repositoryRoot, 'apps/cli/dist/bundle');

/** Preloaded into ferry: records every module URL it resolves and every Intl.Segmenter made. */
const RECORDER = `
import { appendFileSync } from 'node:fs';
import { register } from 'node:module';
const log = process.env.FERRY_TEST_LOADED;
register('data:text/javascript,' + encodeURIComponent(\`
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(\${JSON.stringify(log)}, 'module ' + result.url + '\\\\n');
  return result;
}\`));
const Segmenter = Intl.Segmenter;
Intl.Segmenter = class extends Segmenter {
  constructor(...args) {
    super(...args);
    appendFileSync(log, 'segmenter\\n');
  }
};
`;

let registry: TestRegistry;
let work: string;
let preload: string;
let modules: Record<string, string[]>;

beforeAll(async () => {
  registry = await startRegistry({ mode: 'anonymous' });
  work = await mkdtemp(join(tmpdir(), 'ferry-startup-'));
  preload = join(work, 'recorder.mjs');
  await writeFile(preload, RECORDER);
  modules = JSON.parse(await readFile(join(BUNDLE, 'modules.json'), 'utf8')) as Record<
    string,
    string[]
  >;
}, 60_000);

afterAll(async () => {
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

interface Loaded {
  code: number;
  /** Files of this repository and node_modules that were loaded, relative to the root. */
  files: string[];
  /** Source modules (from modules.json) of the bundle files that were loaded. */
  sources: string[];
  segmenters: number;
}

let runs = 0;
async function loadedBy(args: string[]): Promise<Loaded> {
  const log = join(work, `loaded-${runs++}.txt`);
  await writeFile(log, '');
  const result = await ferry(args, {
    env: {
      FERRY_TEST_LOADED: log,
      NODE_OPTIONS: `--import ${pathToFileURL(preload).href}`,
    },
  });
  const lines = (await readFile(log, 'utf8')).split('\n').filter(Boolean);
  const root = pathToFileURL(repositoryRoot).href;
  const files = lines
    .filter((line) => line.startsWith(`module ${root}`))
    .map((line) => line.slice(`module ${root}`.length));
  const sources = files
    .filter((file) => file.startsWith('apps/cli/dist/bundle/'))
    .flatMap((file) => modules[file.slice('apps/cli/dist/bundle/'.length)] ?? [`? ${file}`]);
  return {
    code: result.code,
    files,
    sources,
    segmenters: lines.filter((line) => line === 'segmenter').length,
  };
}

const from = (sources: string[], pattern: RegExp) =>
  sources.filter((source) => pattern.test(source));

describe('ferry start-up', () => {
  it('ferry version runs the bundle: a few files, no registry, artifact, Homebrew or model code', async () => {
    const loaded = await loadedBy(['version']);
    expect(loaded.code).toBe(0);
    // bin/ferry.js and the bundle's files only: nothing resolved through node_modules.
    expect(loaded.files.filter((file) => !file.startsWith('apps/cli/dist/bundle/'))).toEqual([
      'apps/cli/bin/ferry.js',
    ]);
    expect(loaded.files.length).toBeLessThan(12);
    expect(loaded.sources).toContain('dist/main.js');
    expect(
      from(loaded.sources, /packages\/(registry|artifact|homebrew|model)\/|undici|tar-stream/),
    ).toEqual([]);
    // No Intl.Segmenter (20-25 ms of ICU loading) until help text is laid out.
    expect(loaded.segmenters).toBe(0);
  });

  it('ferry repo tags loads the registry client and targets, no packing, Homebrew, model or tar code', async () => {
    const loaded = await loadedBy(['repo', 'tags', `${registry.host}/startup/none`]);
    // An empty registry has no such repository: the command ran, reached it and failed.
    expect(loaded.code).toBe(1);
    expect(from(loaded.sources, /packages\/registry\//).length).toBeGreaterThan(5);
    expect(
      from(
        loaded.sources,
        /packages\/(homebrew|model)\/|tar-stream|artifact\/dist\/(pack|unpack|blob-cache|copy|tar-)/,
      ),
    ).toEqual([]);
    expect(loaded.segmenters).toBe(0);
  });

  it('the recorder sees what it should: --help lays text out with an Intl.Segmenter', async () => {
    const loaded = await loadedBy(['push', '--help']);
    expect(loaded.code).toBe(0);
    expect(loaded.segmenters).toBeGreaterThan(0);
  });
});
