#!/usr/bin/env node
// Bundles the built CLI (dist/main.js and everything it imports: the @ferry packages, yargs,
// tar-stream) into a few files under dist/bundle/, which bin/ferry.js runs. Node's ESM loader
// resolves, reads and links each module on its own; ~140 modules for `ferry version` cost about
// 0.15 s of CPU and 10 MiB of RSS against one main file. Each command's code stays behind its
// dynamic `import()` (one chunk per command), so `ferry version` still loads no registry code.
//
// Run by `npm run build` after `tsc -b` (and by `npm pack` through `prepack`).
// undici stays outside: packages/registry loads parts of it with `createRequire`, which a bundler
// leaves alone, so it is resolved from node_modules at run time (a dependency of this package).
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';

const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(CLI, 'dist/bundle');

/**
 * `JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))` reads the
 * package.json beside the module's dist/, which in a bundle is the CLI's, not the module's own
 * (the registry client's User-Agent version). The file's name and version are inlined instead.
 */
const PACKAGE_JSON_READ =
  /readFileSync\(\s*new URL\(\s*'\.\.\/package\.json',\s*import\.meta\.url\s*\),\s*'utf8'\s*\)/g;

const inlinePackageJson = {
  name: 'ferry-inline-package-json',
  transform(code, id) {
    if (!code.includes('package.json')) return null;
    const replaced = code.replace(PACKAGE_JSON_READ, () => {
      const { name, version } = JSON.parse(
        readFileSync(resolve(dirname(id), '../package.json'), 'utf8'),
      );
      return JSON.stringify(JSON.stringify({ name, version }));
    });
    if (/new URL\(\s*'\.\.\/package\.json'/.test(replaced)) {
      throw new Error(`${id}: reads ../package.json in a form the bundle cannot inline`);
    }
    return replaced === code ? null : { code: replaced, map: null };
  },
};

/**
 * string-width (through yargs' help layout, cliui and wrap-ansi) makes an `Intl.Segmenter` when
 * it loads: 20-25 ms of every start-up to load ICU's break rules, for help text that ferry
 * renders only for --help and usage errors. Made when first used instead.
 */
const SEGMENTER = 'const segmenter = new Intl.Segmenter();';
const lazySegmenter = {
  name: 'ferry-lazy-segmenter',
  transform(code, id) {
    if (!/[\\/]string-width[\\/]index\.js$/.test(id)) return null;
    if (!code.includes(SEGMENTER)) {
      throw new Error(`${id}: no \`${SEGMENTER}\` to make lazy (string-width changed?)`);
    }
    const lazy =
      'let segmenterMade;\n' +
      'const segmenter = { segment: (text) => (segmenterMade ??= new Intl.Segmenter()).segment(text) };';
    return { code: code.replace(SEGMENTER, lazy), map: null };
  },
};

const bundle = await rolldown({
  // The comments naming each module's source are relative to this, and chunk names hash the
  // text: built from the repository root (`npm run build`) or from here (`npm pack`'s prepack),
  // the bundle must come out the same, or a rebuild renames every chunk under a running ferry.
  cwd: CLI,
  input: { main: join(CLI, 'dist/main.js') },
  platform: 'node',
  external: [/^undici(\/|$)/],
  plugins: [inlinePackageJson, lazySegmenter],
  logLevel: 'warn',
});
const { output } = await bundle.generate({
  format: 'esm',
  entryFileNames: '[name].js',
  chunkFileNames: '[name]-[hash].js',
});
await bundle.close();

// Which source modules each file holds, for the test that `ferry version` loads none of the
// registry, artifact, homebrew or model code (e2e/src/cli-startup.test.ts).
const modules = {};
for (const chunk of output) {
  if (chunk.type !== 'chunk') continue;
  modules[chunk.fileName] = chunk.moduleIds
    .filter((id) => !id.startsWith('\0'))
    .map((id) => relative(CLI, id).split('\\').join('/'));
}

/**
 * `npm pack` (prepack) bundles again while other tests may be running `ferry`: files whose text
 * is unchanged are left alone (chunk names hash their content), changed ones are replaced by
 * rename, so a running ferry never reads a half-written file.
 */
function writeIfChanged(path, text) {
  if (existsSync(path) && readFileSync(path, 'utf8') === text) return;
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}

mkdirSync(OUT, { recursive: true });
const written = new Set(['modules.json']);
for (const item of output) {
  written.add(item.fileName);
  writeIfChanged(join(OUT, item.fileName), item.type === 'chunk' ? item.code : item.source);
}
writeIfChanged(join(OUT, 'modules.json'), `${JSON.stringify(modules, null, 1)}\n`);
for (const name of readdirSync(OUT)) {
  if (!written.has(name)) rmSync(join(OUT, name), { force: true });
}
// bin/ferry.js runs the bundle only when it is newer than tsc's last build (dist/.tsbuildinfo).
const now = new Date();
utimesSync(join(OUT, 'main.js'), now, now);
