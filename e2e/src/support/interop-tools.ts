/**
 * Helpers for the interoperability tests (cli-interop-*.test.ts): running skopeo and the built
 * ferry with byte-exact output, reproducible tar layers and image configs, and scratch directories.
 * skopeo is required: the harness installs it when the tests run as root, and otherwise these
 * helpers throw with the command to install it, so the tests fail rather than skip.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SKOPEO, ensureToolOnce } from '../harness/tool-install.js';
import { repositoryRoot } from './cli.js';

const TIMEOUT_MS = 30_000;

export interface ToolResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Runs a program with a timeout, collecting stdout as bytes; rejects only if it cannot start. */
function runBytes(
  command: string,
  args: string[],
  what: string,
  cwd = repositoryRoot,
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      {
        cwd,
        encoding: 'buffer',
        timeout: TIMEOUT_MS,
        killSignal: 'SIGKILL',
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const failure = error as (Error & { code?: unknown; killed?: boolean }) | null;
        if (failure?.code === 'ENOENT') {
          reject(
            new Error(
              `${what} not found at ${command}: the interop tests need it ` +
                '(apt-get install skopeo, or set SKOPEO=/path/to/skopeo)',
            ),
          );
          return;
        }
        if (failure?.killed) {
          reject(new Error(`${what} ${args.join(' ')} timed out after ${TIMEOUT_MS} ms`));
          return;
        }
        if (failure && typeof failure.code !== 'number') {
          reject(failure);
          return;
        }
        const code = typeof failure?.code === 'number' ? failure.code : 0;
        resolve({ code, stdout, stderr: stderr.toString('utf8') });
      },
    );
  });
}

/** skopeo with `--insecure-policy` (no trust policy file needed: only test content is moved). */
export async function skopeo(...args: string[]): Promise<ToolResult> {
  const path = await ensureToolOnce(SKOPEO, (line) => process.stderr.write(`${line}\n`));
  return runBytes(path, ['--insecure-policy', ...args], 'skopeo');
}

/** skopeo that must succeed; the error names the command and carries its stderr. */
export async function skopeoOk(...args: string[]): Promise<Buffer> {
  const result = await skopeo(...args);
  if (result.code !== 0) {
    throw new Error(`skopeo ${args.join(' ')} exited ${result.code}:\n${result.stderr}`);
  }
  return result.stdout;
}

const FERRY_BIN = join(repositoryRoot, 'apps/cli/bin/ferry.js');

/** The built ferry, stdout as bytes (for byte-for-byte comparisons of manifests). */
export function ferryBytes(args: string[], cwd?: string): Promise<ToolResult> {
  return runBytes(process.execPath, [FERRY_BIN, ...args], 'ferry', cwd);
}

/** ferry that must succeed; returns stdout as text. */
export async function ferryOk(...args: string[]): Promise<string> {
  return ferryOkIn(repositoryRoot, ...args);
}

/** ferry run from `cwd` (file arguments relative to it become the titles) that must succeed. */
export async function ferryOkIn(cwd: string, ...args: string[]): Promise<string> {
  const result = await ferryBytes(args, cwd);
  if (result.code !== 0) {
    throw new Error(
      `ferry ${args.join(' ')} exited ${result.code}:\n${result.stderr}${result.stdout.toString()}`,
    );
  }
  return result.stdout.toString('utf8');
}

/** `ferry resolve`, trimmed. */
export async function resolveDigest(...args: string[]): Promise<string> {
  return (await ferryOk('resolve', ...args)).trim();
}

export function sha256(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** A ustar archive of regular files, reproducible byte for byte (mtime 0, uid/gid 0, 0644). */
export function tarOf(files: Record<string, string | Buffer>): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8');
    const header = Buffer.alloc(512);
    const field = (offset: number, length: number, value: string) =>
      header.write(value.slice(0, length), offset, length, 'ascii');
    const octal = (value: number, length: number) =>
      `${value.toString(8).padStart(length - 1, '0')}\0`;
    field(0, 100, name);
    field(100, 8, octal(0o644, 8));
    field(108, 8, octal(0, 8));
    field(116, 8, octal(0, 8));
    field(124, 12, octal(data.byteLength, 12));
    field(136, 12, octal(0, 12));
    field(148, 8, '        ');
    field(156, 1, '0');
    field(257, 6, 'ustar\0');
    field(263, 2, '00');
    let sum = 0;
    for (const byte of header) sum += byte;
    field(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
    blocks.push(header, data, Buffer.alloc((512 - (data.byteLength % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

export interface ImageFiles {
  /** Path of the uncompressed tar layer. */
  layerPath: string;
  layerDigest: string;
  /** Path of the image config (architecture, os, rootfs.diff_ids). */
  configPath: string;
  configDigest: string;
}

/**
 * Writes `<name>.tar` and `<name>.config.json` into `dir`: one uncompressed layer (so its
 * diff_id is its digest) and a minimal image config that skopeo accepts.
 */
export async function writeImageFiles(
  dir: string,
  name: string,
  platform: { os: string; architecture: string },
  files: Record<string, string> = { [`${name}.txt`]: `hello from ${name}\n` },
): Promise<ImageFiles> {
  const layer = tarOf(files);
  const config = Buffer.from(
    JSON.stringify({
      architecture: platform.architecture,
      os: platform.os,
      rootfs: { type: 'layers', diff_ids: [sha256(layer)] },
    }),
  );
  const layerPath = join(dir, `${name}.tar`);
  const configPath = join(dir, `${name}.config.json`);
  await writeFile(layerPath, layer);
  await writeFile(configPath, config);
  return { layerPath, layerDigest: sha256(layer), configPath, configDigest: sha256(config) };
}

/** Scratch directories, removed by `cleanup()`. */
export function scratch(prefix: string) {
  const dirs: string[] = [];
  return {
    async make(): Promise<string> {
      const dir = await mkdtemp(join(tmpdir(), `ferry-interop-${prefix}-`));
      dirs.push(dir);
      return dir;
    },
    async cleanup(): Promise<void> {
      await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
    },
  };
}

interface DiscoverNode {
  digest: string;
  artifactType?: string;
  referrers: DiscoverNode[];
}

/** `ferry discover --format json` flattened to `artifactType@digest` strings, sorted. */
export async function discoverAll(...args: string[]): Promise<string[]> {
  const root = JSON.parse(await ferryOk('discover', '--format', 'json', ...args)) as DiscoverNode;
  const found: string[] = [];
  const walk = (node: DiscoverNode) => {
    for (const child of node.referrers) {
      found.push(`${child.artifactType ?? '?'}@${child.digest}`);
      walk(child);
    }
  };
  walk(root);
  return found.sort();
}

/** The digest from a `--format json` result of push, attach, cp, manifest push, run in `cwd`. */
export async function pushedDigest(cwd: string, ...args: string[]): Promise<string> {
  const text = await ferryOkIn(cwd, ...args, '--format', 'json');
  return (JSON.parse(text) as { digest: string }).digest;
}

/** The 12 hex digits ferry prints in status lines. */
export function shortHex(digest: string): string {
  return digest.slice(digest.indexOf(':') + 1).slice(0, 12);
}
