/**
 * Plumbing for the bottle-*.test.ts files: one registry:2 per file, the built `ferry` run in a
 * scratch directory with a DOCKER_CONFIG of its own, and the sqlite 3.40.1 fixture index turned
 * into `brew bottle --json` input for seven generated tarballs.
 */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { startRegistry, type RegistryMode, type TestRegistry } from '../harness/index.js';
import { repositoryRoot } from './cli.js';
import { spawnFerry, type FerryResult } from './cli-fixture.js';
import { sha256Hex, writeBottle, type Bottle } from './bottle-tarball.js';

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string;
}

export interface BottleFixture {
  readonly reg: TestRegistry;
  /** `127.0.0.1:PORT` */
  readonly host: string;
  /** A fresh scratch directory (removed after the file's tests). */
  dir(name: string): Promise<string>;
  /**
   * Runs the built binary in `cwd` (a scratch directory by default), with an empty download cache
   * and DOCKER_CONFIG of the fixture's own; never throws.
   */
  run(args: string[], options?: RunOptions): Promise<FerryResult>;
  /** Runs the built binary and expects exit 0. */
  ok(args: string[], options?: RunOptions): Promise<FerryResult>;
}

export function useBottleRegistry(mode: RegistryMode = 'anonymous'): BottleFixture {
  let reg: TestRegistry | undefined;
  let home: string | undefined;
  let count = 0;
  const need = <T>(value: T | undefined): T => {
    if (value === undefined)
      throw new Error('the bottle fixture is not ready: did beforeAll fail?');
    return value;
  };
  const fixture: BottleFixture = {
    get reg() {
      return need(reg);
    },
    get host() {
      return need(reg).host;
    },
    async dir(name) {
      const path = join(need(home), `${name}-${++count}`);
      await mkdir(path, { recursive: true });
      return path;
    },
    run(args, options = {}) {
      return spawnFerry(args, {
        cwd: options.cwd ?? need(home),
        env: {
          DOCKER_CONFIG: join(need(home), 'docker'),
          // A download cache of its own for every run: what a run pulls, it fetches.
          FERRY_CACHE: join(need(home), 'cache', String(++count)),
          ...options.env,
        },
        ...(options.input !== undefined ? { input: options.input } : {}),
      });
    },
    async ok(args, options) {
      const result = await fixture.run(args, options);
      expect(result.code, `ferry ${args.join(' ')}\n${result.stderr}${result.stdout}`).toBe(0);
      return result;
    },
  };
  beforeAll(async () => {
    reg = await startRegistry({ mode });
    home = await mkdtemp(join(tmpdir(), `ferry-e2e-bottle-`));
    await mkdir(join(home, 'docker'));
  });
  afterAll(async () => {
    await reg?.stop();
    if (home) await rm(home, { recursive: true, force: true });
  });
  return fixture;
}

/** sha256 hex of a file. */
export async function fileSha256(path: string): Promise<string> {
  return sha256Hex(await readFile(path));
}

export interface IndexEntry {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Record<string, string>;
  annotations: Record<string, string>;
}

export interface Index {
  schemaVersion: number;
  manifests: IndexEntry[];
  annotations: Record<string, string>;
}

const FIXTURES = join(repositoryRoot, 'fixtures', 'homebrew');

export function fixtureJson<T>(file: string): T {
  return JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as T;
}

/** The real ghcr.io index of homebrew/core/sqlite:3.40.1. */
export const sqliteIndex = (): Index => fixtureJson<Index>('sqlite-3.40.1.index.json');

export interface Republished {
  jsonPath: string;
  /** Bottle tag → the generated tarball, in the fixture's order. */
  bottles: Map<string, Bottle>;
  fixture: Index;
}

/**
 * One tarball per bottle of the fixture (its tab as INSTALL_RECEIPT.json) and `sqlite.bottle.json`,
 * what `brew bottle --json` writes (merged over the seven tags as `brew pr-upload` merges them),
 * with the fixture's description, license, homepage, revision and date.
 */
export async function writeSqliteBottleJson(dir: string): Promise<Republished> {
  const fixture = sqliteIndex();
  const annotations = fixture.annotations;
  const bottles = new Map<string, Bottle>();
  const tags: Record<string, unknown> = {};
  for (const entry of fixture.manifests) {
    const tag = entry.annotations['org.opencontainers.image.ref.name']!.replace(/^3\.40\.1\./, '');
    const tab = JSON.parse(entry.annotations['sh.brew.tab']!) as Record<string, unknown>;
    const bottle = await writeBottle(dir, {
      name: 'sqlite',
      version: '3.40.1',
      tag,
      receipt: { ...tab, installed_as_dependency: false, poured_from_bottle: false },
    });
    bottles.set(tag, bottle);
    tags[tag] = {
      filename: `sqlite-3.40.1.${tag}.bottle.tar.gz`,
      local_filename: bottle.fileName,
      sha256: bottle.sha256,
      tab,
    };
  }
  const document = {
    sqlite: {
      formula: {
        name: 'sqlite',
        pkg_version: '3.40.1',
        path: 'Formula/sqlite.rb',
        tap_git_path: 'Formula/sqlite.rb',
        tap_git_revision: annotations['org.opencontainers.image.revision'],
        tap_git_remote: 'https://github.com/Homebrew/homebrew-core',
        desc: annotations['org.opencontainers.image.description'],
        license: annotations['org.opencontainers.image.license'],
        homepage: annotations['org.opencontainers.image.url'],
      },
      bottle: {
        root_url: 'https://ghcr.io/v2/homebrew/core',
        cellar: ':any',
        rebuild: 0,
        date: annotations['org.opencontainers.image.created'],
        tags,
      },
    },
  };
  const jsonPath = join(dir, 'sqlite.bottle.json');
  await writeFile(jsonPath, JSON.stringify(document, null, 2));
  return { jsonPath, bottles, fixture };
}

/** The bottle tag of an index entry: its ref name without `<version>.` (and rebuild suffix). */
export function entryTag(entry: IndexEntry, version: string): string {
  return (entry.annotations['org.opencontainers.image.ref.name'] ?? '')
    .slice(version.length + 1)
    .replace(/\.\d+$/, '');
}
