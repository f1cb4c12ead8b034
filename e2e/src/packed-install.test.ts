// The packages as npm users get them: `npm pack` of every published workspace (found from the root
// package.json, so a new package is included without editing this file), the tarballs installed
// with `npm install -g` into an empty prefix, and the installed `ferry` run from a directory outside
// the repository — where npm's hoisting in this checkout can no longer hide an undeclared
// dependency — for --version, a push/pull round trip and a bottle push/pull round trip.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type TestRegistry } from './harness/index.js';
import { makeTab, writeBottle } from './support/bottle-tarball.js';
import { repositoryRoot } from './support/cli.js';

interface Workspace {
  name: string;
  version: string;
  dir: string;
  bin?: Record<string, string>;
}

interface PackResult {
  name: string;
  version: string;
  filename: string;
  files: { path: string }[];
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const STEP_TIMEOUT_MS = 150_000;

/**
 * The environment for npm and the installed ferry: no npm_* variables inherited from the `npm test`
 * that started this run (npm_config_local_prefix and friends would point npm back at this
 * checkout), no NODE_PATH, and this node first on PATH for the `#!/usr/bin/env node` shebang.
 */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) || key === 'NODE_PATH' || key === 'INIT_CWD') continue;
    env[key] = value;
  }
  env.PATH = `${dirname(process.execPath)}:${process.env.PATH ?? ''}`;
  return { ...env, ...extra };
}

function run(command: string, args: string[], cwd: string, env = cleanEnv()): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd, env, timeout: STEP_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error?.killed) {
          // A hung npm is most often one that cannot reach its registry: say so, not just "failed".
          return resolve({
            code: -1,
            stdout,
            stderr: `${stderr}\n${command} ${args.join(' ')}: no answer in ${STEP_TIMEOUT_MS / 1000} s (can npm reach its registry? proxy and CA variables such as NODE_EXTRA_CA_CERTS must reach this process)`,
          });
        }
        if (error && typeof error.code !== 'number') return reject(error);
        resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      },
    );
  });
}

function ok(result: Run, what: string): Run {
  expect(result.code, `${what}\n${result.stderr}\n${result.stdout}`).toBe(0);
  return result;
}

/** Every workspace of the root package.json that is not private: what would be published. */
async function publishedWorkspaces(): Promise<Workspace[]> {
  const root = JSON.parse(await readFile(join(repositoryRoot, 'package.json'), 'utf8')) as {
    workspaces: string[];
  };
  const found: Workspace[] = [];
  for (const pattern of root.workspaces) {
    const parent = pattern.slice(0, -2);
    const dirs = pattern.endsWith('/*')
      ? (await readdir(join(repositoryRoot, parent))).sort().map((n) => join(parent, n))
      : [pattern];
    for (const dir of dirs) {
      const manifest = JSON.parse(
        await readFile(join(repositoryRoot, dir, 'package.json'), 'utf8').catch(() => 'null'),
      ) as (Workspace & { private?: boolean }) | null;
      if (manifest === null || manifest.private) continue;
      found.push({ name: manifest.name, version: manifest.version, dir, bin: manifest.bin });
    }
  }
  return found;
}

let base: string;
let prefix: string;
let work: string;
let workspaces: Workspace[];
let packed: PackResult[];
let reg: TestRegistry | undefined;
let ferryBin: string;
let count = 0;
/** The CLI's bundle files (their names hash their text) before and after `npm pack` bundled again. */
let bundleBefore: string[];
let bundleAfter: string[];
const BUNDLE = join(repositoryRoot, 'apps/cli/dist/bundle');

/** The installed ferry, run in `cwd` (outside the repository) with its own config and cache. */
function ferry(args: string[], cwd = work): Promise<Run> {
  return run(
    ferryBin,
    args,
    cwd,
    cleanEnv({
      DOCKER_CONFIG: join(base, 'docker'),
      FERRY_CACHE: join(base, 'cache', String(++count)),
    }),
  );
}

async function scratch(name: string): Promise<string> {
  const dir = join(work, `${name}-${++count}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

beforeAll(async () => {
  base = await realpath(await mkdtemp(join(tmpdir(), 'ferry-packed-')));
  prefix = join(base, 'prefix');
  work = join(base, 'work');
  await Promise.all([mkdir(prefix), mkdir(work), mkdir(join(base, 'docker'))]);
  workspaces = await publishedWorkspaces();
  const tarballs = join(base, 'tarballs');
  await mkdir(tarballs);
  // npm pack ships what is built: `npm test` builds first, and so must anyone running this alone.
  bundleBefore = (await readdir(BUNDLE)).sort();
  const pack = ok(
    await run(
      'npm',
      [
        'pack',
        '--json',
        '--pack-destination',
        tarballs,
        ...workspaces.flatMap((w) => ['-w', w.name]),
      ],
      repositoryRoot,
    ),
    'npm pack',
  );
  packed = JSON.parse(pack.stdout) as PackResult[];
  bundleAfter = (await readdir(BUNDLE)).sort();
  ok(
    await run(
      'npm',
      [
        'install',
        '--global',
        '--prefix',
        prefix,
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        ...packed.map((p) => join(tarballs, p.filename)),
      ],
      work,
    ),
    'npm install -g of the tarballs',
  );
  ferryBin = join(prefix, 'bin', 'ferry');
  reg = await startRegistry({ mode: 'anonymous' });
}, 4 * STEP_TIMEOUT_MS);

afterAll(async () => {
  await reg?.stop();
  if (base) await rm(base, { recursive: true, force: true });
});

describe('the packed packages', () => {
  it('are every workspace that is not private, and each tarball carries README.md, LICENSE and what it runs', async () => {
    expect(workspaces.map((w) => w.name)).toEqual(
      expect.arrayContaining([
        '@ferry/oci',
        '@ferry/registry',
        '@ferry/artifact',
        '@ferry/homebrew',
        '@ferry/cli',
      ]),
    );
    expect(workspaces.map((w) => w.name)).not.toContain('@ferry/e2e');
    expect(packed.map((p) => p.name).sort()).toEqual(workspaces.map((w) => w.name).sort());
    const license = await readFile(join(repositoryRoot, 'LICENSE'), 'utf8');
    expect(license).toContain(
      'Apache License\n                           Version 2.0, January 2004',
    );
    for (const p of packed) {
      const files = p.files.map((f) => f.path);
      expect(files, p.name).toEqual(
        expect.arrayContaining(['README.md', 'LICENSE', 'package.json', 'dist/index.js']),
      );
      // No tests or test-only helpers in what users install.
      expect(
        files.filter((f) => /\.test\.|\.tsbuildinfo$/.test(f)),
        p.name,
      ).toEqual([]);
      const workspace = workspaces.find((w) => w.name === p.name)!;
      expect(await readFile(join(repositoryRoot, workspace.dir, 'LICENSE'), 'utf8')).toBe(license);
      const readme = await readFile(join(repositoryRoot, workspace.dir, 'README.md'), 'utf8');
      expect(readme, `${p.name} README`).toMatch(new RegExp(`^# ${p.name}\\n`));
      expect(readme, `${p.name} README`).toContain('## Install');
      for (const bin of Object.values(workspace.bin ?? {})) {
        expect(files, p.name).toContain(normalize(bin));
      }
    }
    // The CLI ships its bundle (what bin/ferry.js runs when there is no .tsbuildinfo), built by
    // prepack, and not the bundle's list of source modules (for tests, with checkout paths).
    const cli = packed.find((p) => p.name === '@ferry/cli')!.files.map((f) => f.path);
    expect(cli).toContain('dist/bundle/main.js');
    expect(cli.filter((f) => f.endsWith('modules.json'))).toEqual([]);
  });

  it('are packed from a bundle that npm pack rebuilt to the same files, under the tests running ferry meanwhile', () => {
    // prepack bundles again from apps/cli, `npm run build` from the repository root: when the
    // text depended on that (module comments relative to the working directory), every chunk
    // got a new name and the old ones were deleted under the ferry processes of other tests.
    expect(bundleAfter).toEqual(bundleBefore);
  });

  it("are what the README's Install section packs, with the Node.js version the packages require", async () => {
    const readme = await readFile(join(repositoryRoot, 'README.md'), 'utf8');
    const install = /^## Install\n([\s\S]*?)^## /m.exec(readme)?.[1] ?? '';
    expect(install).toContain('npm install -g @ferry/cli');
    const pack = /npm pack --pack-destination[^\n]*\\\n([^\n]*)/.exec(install)?.[1] ?? '';
    const named = [...pack.matchAll(/-w (\S+)/g)].map((m) => m[1]).sort();
    expect(named).toEqual(workspaces.map((w) => w.name).sort());
    for (const w of workspaces) {
      const manifest = JSON.parse(
        await readFile(join(repositoryRoot, w.dir, 'package.json'), 'utf8'),
      ) as { engines?: { node?: string } };
      const floor = manifest.engines?.node?.replace(/^>=\s*/, '');
      expect(floor, `${w.name} engines.node`).toBe('20.19');
      expect(install).toContain(`Node.js ≥ ${floor}`);
    }
  });

  it('install into an empty prefix as a `ferry` that runs from outside the repository', async () => {
    const target = await realpath(ferryBin);
    expect(target.startsWith(join(prefix, ''))).toBe(true);
    const cli = workspaces.find((w) => w.name === '@ferry/cli')!;
    const version = ok(await ferry(['--version']), 'ferry --version');
    expect(version.stdout).toBe(`${cli.version}\n`);
    // `version` loads the compiled CLI and every package it imports, unlike --version.
    const full = ok(await ferry(['version', '--format', 'json']), 'ferry version');
    expect(JSON.parse(full.stdout)).toMatchObject({ version: cli.version });
  });

  it('push and pull a file through registry:2, byte for byte', async () => {
    const from = await scratch('push');
    const content = Buffer.from(`packed install ${Date.now()}\n`);
    await writeFile(join(from, 'hello.txt'), content);
    const ref = `${reg!.host}/packed/hello:v1`;
    ok(await ferry(['push', ref, 'hello.txt'], from), 'ferry push');
    const to = await scratch('pull');
    ok(await ferry(['pull', ref, '-o', to], from), 'ferry pull');
    expect(await readFile(join(to, 'hello.txt'))).toEqual(content);
  });

  it('bottle push and bottle pull a bottle, byte for byte', async () => {
    const dir = await scratch('bottles');
    const tab = makeTab({ dependencies: [] });
    const bottle = await writeBottle(dir, {
      name: 'hello',
      version: '1.0',
      tag: 'x86_64_linux',
      receipt: { ...tab, poured_from_bottle: false, time: null, installed_on_request: true },
    });
    ok(
      await ferry(['bottle', 'push', bottle.fileName, '--registry', reg!.host], dir),
      'ferry bottle push',
    );
    const out = await scratch('bottle-pull');
    ok(
      await ferry(
        ['bottle', 'pull', 'hello', '--tag', 'x86_64_linux', '--registry', reg!.host, '-o', out],
        dir,
      ),
      'ferry bottle pull',
    );
    expect(await readFile(join(out, bottle.fileName))).toEqual(bottle.bytes);
  });
});
