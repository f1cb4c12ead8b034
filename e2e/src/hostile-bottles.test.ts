// Hostile Homebrew bottles: bare tarballs (`<name>--1.0.x86_64_linux.bottle.tar.gz` with an
// INSTALL_RECEIPT.json inside) that also carry a symlink out of the keg with a file through it, a
// hard link to /etc/passwd, a character device, or a duplicate entry. `ferry bottle push` publishes
// them as they are (it reads, never extracts); `ferry bottle pull --extract` must refuse each with
// exit 1, leave the downloaded (verified) bottle file where it was asked to go, and leave nothing
// in the Cellar or anywhere else.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type TestRegistry } from './harness/index.js';
import { ferry, type CliResult } from './support/cli.js';
import { listTree, tarGz, type HostileEntry } from './support/hostile-tar.js';

let reg: TestRegistry;
let base: string;

const TAG = 'x86_64_linux';
const NAMESPACE = 't/core';

const receipt = JSON.stringify({
  homebrew_version: '4.4.0',
  changed_files: [],
  source_modified_time: 1_700_000_000,
  compiler: 'gcc-11',
  runtime_dependencies: [],
  arch: 'x86_64',
  built_on: { os: 'Linux', os_version: 'Ubuntu 22.04', glibc_version: '2.35' },
});

/** A keg `<name>/1.0/` with its receipt, then the hostile entries. */
function keg(name: string, hostile: HostileEntry[]): HostileEntry[] {
  return [
    { type: 'dir', name: `${name}/` },
    { type: 'dir', name: `${name}/1.0/` },
    { type: 'file', name: `${name}/1.0/INSTALL_RECEIPT.json`, content: receipt },
    ...hostile,
  ];
}

const cases: {
  formula: string;
  what: string;
  hostile: HostileEntry[];
  entry: string;
  why: RegExp;
}[] = [
  {
    formula: 'hsymlink',
    what: 'a symlink out of the keg, then a file through it',
    hostile: [
      { type: 'symlink', name: 'hsymlink/1.0/escape', target: '../../../../victim' },
      { type: 'file', name: 'hsymlink/1.0/escape/pwned' },
    ],
    entry: 'hsymlink/1.0/escape',
    why: /leads outside the directory/,
  },
  {
    formula: 'hhardlink',
    what: 'a hard link to /etc/passwd',
    hostile: [{ type: 'link', name: 'hhardlink/1.0/passwd', target: '/etc/passwd' }],
    entry: 'hhardlink/1.0/passwd',
    why: /hard link to "\/etc\/passwd"/,
  },
  {
    formula: 'hdevice',
    what: 'a character device entry',
    hostile: [{ type: 'char', name: 'hdevice/1.0/null', major: 1, minor: 3 }],
    entry: 'hdevice/1.0/null',
    why: /character-device entries are not allowed/,
  },
  {
    formula: 'hduplicate',
    what: 'duplicate entries',
    hostile: [
      { type: 'file', name: 'hduplicate/1.0/README', content: 'first\n' },
      { type: 'file', name: 'hduplicate/1.0/README', content: 'second\n' },
    ],
    entry: 'hduplicate/1.0/README',
    why: /appears twice/,
  },
];

const run = (args: string[]): Promise<CliResult> =>
  ferry(args, { env: { DOCKER_CONFIG: join(base, 'docker'), FERRY_CACHE: join(base, 'cache') } });

beforeAll(async () => {
  reg = await startRegistry({ mode: 'anonymous' });
  base = await mkdtemp(join(tmpdir(), 'ferry-hostile-bottles-'));
  const files: string[] = [];
  for (const c of cases) {
    const file = join(base, `${c.formula}--1.0.${TAG}.bottle.tar.gz`);
    await writeFile(file, tarGz(keg(c.formula, c.hostile)).bytes);
    files.push(file);
  }
  const pushed = await run([
    'bottle',
    'push',
    ...files,
    '--registry',
    reg.host,
    '--namespace',
    NAMESPACE,
  ]);
  expect(pushed.code, pushed.stderr).toBe(0);
});

afterAll(async () => {
  await reg?.stop();
  if (base) await rm(base, { recursive: true, force: true });
});

describe('hostile bottle tarballs (ferry bottle pull --extract)', () => {
  it.each(cases.map((c) => [c.what, c] as const))(
    'refuses %s: exit 1, names the entry, nothing in the Cellar',
    async (_what, c) => {
      const passwd = await stat('/etc/passwd');
      const work = await mkdtemp(join(base, `${c.formula}-`));
      const downloads = join(work, 'downloads');
      const cellar = join(work, 'Cellar');
      await mkdir(downloads);
      await mkdir(cellar);
      const result = await run([
        'bottle',
        'pull',
        c.formula,
        '--registry',
        reg.host,
        '--namespace',
        NAMESPACE,
        '--tag',
        TAG,
        '-o',
        downloads,
        '--extract',
        cellar,
      ]);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).not.toMatch(/\n\s+at /);
      const line = result.stderr.split('\n').find((l) => l.startsWith('Error: ')) ?? '';
      expect(line).toContain(`unsafe archive entry ${JSON.stringify(c.entry)}`);
      expect(line).toMatch(c.why);
      // Only the verified download, where it was asked to go; the Cellar holds no keg and no
      // staging directory.
      const bottle = `${c.formula}--1.0.${TAG}.bottle.tar.gz`;
      expect(await listTree(work)).toEqual([
        'Cellar/',
        'downloads/',
        expect.stringMatching(
          new RegExp(`^downloads/${bottle.replaceAll('.', '\\.')} \\(\\d+ bytes\\)$`),
        ),
      ]);
      expect(existsSync(join(base, 'victim'))).toBe(false);
      expect((await stat('/etc/passwd')).nlink).toBe(passwd.nlink);
    },
  );
});
