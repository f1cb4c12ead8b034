// Shared plumbing for the cli-commands-*.test.ts files: one registry:2 per file, the built `ferry`
// binary run as a user runs it (in a working directory of its own, credentials from a config.json
// that `ferry login` wrote), a temporary directory per test, and small helpers for assertions.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { startRegistry } from '../harness/index.js';
import type { RegistryMode, TestRegistry } from '../harness/index.js';
import { repositoryRoot } from './cli.js';

const FERRY = join(repositoryRoot, 'apps/cli/bin/ferry.js');

export interface FerryResult {
  code: number;
  /** stdout as UTF-8 text. */
  stdout: string;
  /** stdout exactly as written (binary output: `-o -`). */
  bytes: Buffer;
  stderr: string;
}

export interface FerryOptions {
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  /** Working directory; the test's temporary directory by default. */
  cwd?: string;
  /** Pass `--registry-config <the fixture's config.json>`; true by default. */
  config?: boolean;
}

export interface CliFixture {
  readonly mode: RegistryMode;
  readonly reg: TestRegistry;
  /** `127.0.0.1:PORT` */
  readonly host: string;
  /** The read-write user's password (token mode). */
  readonly password: string | undefined;
  /** The config.json `ferry login` wrote (token mode; never exists in anonymous mode). */
  readonly configPath: string;
  /** The current test's temporary directory (removed after the test). */
  readonly dir: string;
  /** A fresh `host/cli-<mode>/<name>-<hex>` repository reference (no tag). */
  repo(name: string): string;
  /** Runs the built binary; never throws on a non-zero exit. */
  run(args: readonly string[], options?: FerryOptions): Promise<FerryResult>;
  /** Runs the built binary and expects exit 0 (showing stderr when not). */
  ok(args: readonly string[], options?: FerryOptions): Promise<FerryResult>;
  /** Writes a file under the test's directory (parents created) and returns its absolute path. */
  write(path: string, content: string | Buffer): Promise<string>;
}

/** Spawns `node apps/cli/bin/ferry.js …` and collects stdout as bytes. */
export function spawnFerry(
  args: readonly string[],
  options: {
    cwd: string;
    env?: NodeJS.ProcessEnv;
    input?: string | Buffer;
    /** Run as this user and group (tests of permissions, when the suite runs as root). */
    uid?: number;
    gid?: number;
  },
): Promise<FerryResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FERRY, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.uid !== undefined ? { uid: options.uid } : {}),
      ...(options.gid !== undefined ? { gid: options.gid } : {}),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const bytes = Buffer.concat(out);
      resolve({
        code: code ?? -1,
        stdout: bytes.toString('utf8'),
        bytes,
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin.on('error', () => {}); // ferry may exit without reading stdin
    child.stdin.end(options.input ?? '');
  });
}

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function digestOf(data: string | Buffer): string {
  return `sha256:${sha256(data)}`;
}

/** stdout split into lines, without the trailing empty one. */
export function linesOf(text: string): string[] {
  return text.split('\n').filter((line, i, all) => line !== '' || i < all.length - 1);
}

/** The parsed JSON document a `--format json` command printed. */
export function jsonOf<T = Record<string, unknown>>(result: FerryResult): T {
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as T;
}

/** The value of a `Digest: …` line. */
export function digestLine(result: FerryResult): string {
  const match = /^Digest: (sha256:[0-9a-f]{64})$/m.exec(result.stdout);
  expect(match, `no Digest line in:\n${result.stdout}${result.stderr}`).not.toBeNull();
  return match?.[1] ?? '';
}

/** Every regular file under `root` → its sha256, keyed by a `/`-separated relative path. */
export async function treeOf(root: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else files[relative(root, path).split('\\').join('/')] = sha256(await readFile(path));
    }
  };
  await walk(root);
  return files;
}

/** Starts a registry (and, in token mode, logs in with `ferry login`) for the file's tests. */
export function useCliFixture(mode: RegistryMode): CliFixture {
  let reg: TestRegistry | undefined;
  let home: string | undefined;
  let dir: string | undefined;
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not ready: did beforeAll fail?`);
    return value;
  };

  const fixture: CliFixture = {
    mode,
    get reg() {
      return need(reg, 'the registry');
    },
    get host() {
      return need(reg, 'the registry').host;
    },
    get password() {
      return need(reg, 'the registry').users.find((u) => u.access === 'read-write')?.password;
    },
    get configPath() {
      return join(need(home, 'the fixture directory'), 'docker', 'config.json');
    },
    get dir() {
      return need(dir, "the test's directory");
    },
    repo(name) {
      return `${fixture.host}/cli-${mode}/${name}-${randomBytes(3).toString('hex')}`;
    },
    run(args, options = {}) {
      const withConfig = options.config === false ? [] : ['--registry-config', fixture.configPath];
      return spawnFerry([...args, ...withConfig], {
        cwd: options.cwd ?? fixture.dir,
        // Never ~/.docker: a DOCKER_CONFIG of our own even where --registry-config is not given.
        env: { DOCKER_CONFIG: dirname(fixture.configPath), ...options.env },
        ...(options.input !== undefined ? { input: options.input } : {}),
      });
    },
    async ok(args, options) {
      const result = await fixture.run(args, options);
      expect(result.code, `ferry ${args.join(' ')}\n${result.stderr}`).toBe(0);
      return result;
    },
    async write(path, content) {
      const full = join(fixture.dir, path);
      await mkdir(dirname(full), { recursive: true });
      await writeFile(full, content);
      return full;
    },
  };

  beforeAll(async () => {
    reg = await startRegistry({ mode });
    home = await mkdtemp(join(tmpdir(), `ferry-cli-${mode}-`));
    await mkdir(join(home, 'docker'));
    if (mode === 'token') {
      const result = await spawnFerry(
        [
          'login',
          reg.host,
          '-u',
          'ferry',
          '--password-stdin',
          '--registry-config',
          fixture.configPath,
        ],
        { cwd: home, input: `${fixture.password}\n` },
      );
      if (result.code !== 0) throw new Error(`ferry login failed:\n${result.stderr}`);
    }
  });
  afterAll(async () => {
    await reg?.stop();
    if (home) await rm(home, { recursive: true, force: true });
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(need(home, 'the fixture directory'), 'test-'));
  });
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });
  return fixture;
}

/** The names on `<verb>  <name>  <12 hex>` status lines (sorted: blobs move in parallel). */
export function statusNames(stdout: string, verb: string): string[] {
  const names: string[] = [];
  for (const line of linesOf(stdout)) {
    const match = /^(\w+) +(.+) {2}([0-9a-f]{12})$/.exec(line);
    if (match?.[1] === verb && match[2]) names.push(match[2]);
  }
  return names.sort();
}

export const EMPTY_CONFIG = 'application/vnd.oci.empty.v1+json';
export const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

export interface Desc {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface Manifest {
  schemaVersion: number;
  mediaType: string;
  artifactType?: string;
  config: Desc & { data?: string };
  layers: Desc[];
  subject?: Desc;
  annotations?: Record<string, string>;
}
