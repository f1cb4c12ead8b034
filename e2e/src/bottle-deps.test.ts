// `ferry bottle pull --with-deps` over dependency graphs read from the tabs (a chain where each tab
// names only its direct dependency, and a diamond), and `--extract` into a Cellar: a normal keg,
// and tar-slip bottles that must be refused with nothing written outside and no partial keg.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBottleRegistry } from './support/bottle-fixture.js';
import {
  kegEntries,
  makeTab,
  writeBottle,
  writeRawBottle,
  type Bottle,
  type Dependency,
  type TarEntry,
} from './support/bottle-tarball.js';

const fx = useBottleRegistry('anonymous');
const TAG = 'x86_64_linux';
const bottles = new Map<string, Bottle>();
let work: string;

interface Pulled {
  formula: string;
  path: string;
  digest: string;
  cached: boolean;
  dependency: boolean;
  extractedTo?: string;
}

async function writeFormula(name: string, version: string, dependencies: Dependency[] = []) {
  const bottle = await writeBottle(work, {
    name,
    version,
    tag: TAG,
    receipt: makeTab({ dependencies }),
    extra: { 'share/doc/README': `${name} ${version}\n` },
  });
  bottles.set(name, bottle);
}

/** Where each tar-slip bottle's entries try to write: `<root>/outside`, made empty. */
interface Slip {
  what: string;
  name: string;
  root: string;
  outside: string;
  evil(name: string, outside: string): TarEntry[];
}

const slip = (what: string, evil: Slip['evil'], i: number): Slip => ({
  what,
  evil,
  name: `slip${i}`,
  root: '',
  outside: '',
});

const slips: Slip[] = [
  slip('a ../ entry', () => [file('../evil')], 0),
  slip('a .. segment under the keg', (name) => [file(`${name}/1.0/../../../../evil`)], 1),
  slip('an absolute entry', (_name, outside) => [file(`${outside}/x`)], 2),
  slip(
    'a symlink out of the keg, then a file through it',
    (name, outside) => [
      { type: 'symlink', name: `${name}/1.0/escape`, target: `../../../../../../../..${outside}` },
      file(`${name}/1.0/escape/x`),
    ],
    3,
  ),
];

function file(name: string): TarEntry {
  return { type: 'file', name, content: 'pwned\n' };
}

/** `bottle pull … --tag x86_64_linux --format json` into `out`, with --debug for the requests. */
async function pull(formulas: string[], out: string, extra: string[] = []) {
  const result = await fx.run([
    'bottle',
    'pull',
    ...formulas,
    '--tag',
    TAG,
    '--registry',
    fx.host,
    '-o',
    out,
    '--format',
    'json',
    '--debug',
    ...extra,
  ]);
  const pulled =
    result.code === 0 ? (JSON.parse(result.stdout) as { bottles: Pulled[] }).bottles : [];
  const blobGets = result.stderr
    .split('\n')
    .filter((line) => /^\[debug\] > GET \S+\/blobs\//.test(line))
    .map((line) => /\/v2\/homebrew\/core\/(.+)\/blobs\//.exec(line)?.[1]);
  return { result, pulled, blobGets };
}

const count = (names: (string | undefined)[]) =>
  Object.fromEntries(
    [...new Set(names)].sort().map((n) => [n, names.filter((m) => m === n).length]),
  );

beforeAll(async () => {
  work = await fx.dir('bottles');
  // The chain: each tab lists only its direct dependency.
  await writeFormula('chain-c', '3.0');
  await writeFormula('chain-b', '2.0', [{ name: 'chain-c', version: '3.0' }]);
  await writeFormula('chain-a', '1.0', [{ name: 'chain-b', version: '2.0' }]);
  // The diamond: top → left, top → right, left → right.
  await writeFormula('right', '1.1', []);
  await writeFormula('left', '1.2', [{ name: 'right', version: '1.1' }]);
  await writeFormula('top', '1.3', [
    { name: 'left', version: '1.2' },
    { name: 'right', version: '1.1' },
  ]);
  const paths = [...bottles.values()].map((b) => b.path);
  for (const slip of slips) {
    slip.root = await fx.dir(slip.name);
    slip.outside = join(slip.root, 'outside');
    await mkdir(slip.outside);
    const entries = [
      ...kegEntries({ name: slip.name, version: '1.0', tag: TAG, receipt: makeTab() }),
      ...slip.evil(slip.name, slip.outside),
    ];
    const name = `${slip.name}--1.0.${TAG}.bottle.tar.gz`;
    paths.push((await writeRawBottle(work, name, entries)).path);
  }
  // ferry pushes what it is given; only extraction judges the entries.
  await fx.ok(['bottle', 'push', ...paths, '--registry', fx.host]);
});

describe('bottle pull --with-deps', () => {
  it('follows a three-level chain, pulling each bottle exactly once', async () => {
    const out = await fx.dir('chain');
    const { result, pulled, blobGets } = await pull(['chain-a'], out, ['--with-deps']);
    expect(result.code, result.stderr).toBe(0);
    expect(count(pulled.map((p) => p.formula))).toEqual({
      'chain-a': 1,
      'chain-b': 1,
      'chain-c': 1,
    });
    expect(pulled.every((p) => !p.cached)).toBe(true);
    expect(
      pulled
        .filter((p) => p.dependency)
        .map((p) => p.formula)
        .sort(),
    ).toEqual(['chain-b', 'chain-c']);
    expect(count(blobGets)).toEqual({ 'chain-a': 1, 'chain-b': 1, 'chain-c': 1 });
    expect((await readdir(out)).sort()).toEqual(
      ['chain-a', 'chain-b', 'chain-c'].map((n) => bottles.get(n)!.fileName),
    );
    for (const p of pulled) {
      expect((await readFile(p.path)).equals(bottles.get(p.formula)!.bytes)).toBe(true);
    }
  });

  it('pulls the shared dependency of a diamond once', async () => {
    const out = await fx.dir('diamond');
    const { result, pulled, blobGets } = await pull(['top'], out, ['--with-deps']);
    expect(result.code, result.stderr).toBe(0);
    expect(count(pulled.map((p) => p.formula))).toEqual({ left: 1, right: 1, top: 1 });
    expect(count(blobGets)).toEqual({ left: 1, right: 1, top: 1 });
  });

  it('a formula named on the command line and reached as a dependency is pulled once', async () => {
    const out = await fx.dir('named-and-dep');
    const { result, pulled, blobGets } = await pull(['top', 'right'], out, ['--with-deps']);
    expect(result.code, result.stderr).toBe(0);
    expect(count(blobGets)).toEqual({ left: 1, right: 1, top: 1 });
    expect(count(pulled.map((p) => p.formula))).toEqual({ left: 1, right: 1, top: 1 });
  });

  it('without --with-deps only the named formula is pulled', async () => {
    const out = await fx.dir('nodeps');
    const { result, pulled } = await pull(['top'], out);
    expect(result.code, result.stderr).toBe(0);
    expect(pulled.map((p) => p.formula)).toEqual(['top']);
  });
});

describe('bottle pull --extract', () => {
  it('unpacks the keg into <cellar>/<name>/<version> with identical bytes and modes', async () => {
    const root = await fx.dir('extract');
    const cellar = join(root, 'Cellar');
    const { result, pulled } = await pull(['chain-a'], join(root, 'dl'), [
      '--with-deps',
      '--extract',
      cellar,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(pulled.map((p) => p.extractedTo).sort()).toEqual(
      ['chain-a', 'chain-b', 'chain-c'].map((n) => join(cellar, n)),
    );
    expect((await readdir(cellar)).sort()).toEqual(['chain-a', 'chain-b', 'chain-c']);
    const versions = { 'chain-a': '1.0', 'chain-b': '2.0', 'chain-c': '3.0' };
    for (const [name, version] of Object.entries(versions)) {
      const keg = join(cellar, name, version);
      const files = bottles.get(name)!.files;
      for (const [path, content] of Object.entries(files)) {
        expect((await readFile(join(keg, path))).equals(content), path).toBe(true);
      }
      expect((await stat(join(keg, 'bin', name))).mode & 0o777).toBe(0o755);
      expect((await readdir(join(cellar, name))).sort()).toEqual([version]);
    }
  });

  for (const slip of slips) {
    it(`refuses a bottle with ${slip.what}: nothing outside, no partial keg`, async () => {
      const { name, root, outside } = slip;
      const cellar = join(root, 'Cellar');
      // The Cellar, the download directory and `outside` share one parent: whatever escaped the
      // staging directory (inside the Cellar) or the keg would show up in one of them.
      const { result } = await pull([name], join(root, 'dl'), ['--extract', cellar]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^Error: .*unsafe archive entry/m);
      expect(await readdir(cellar)).toEqual([]);
      expect((await readdir(root)).sort()).toEqual(['Cellar', 'dl', 'outside']);
      expect(await readdir(outside)).toEqual([]);
      expect(existsSync(join(root, '..', 'evil'))).toBe(false);
    });
  }
});
