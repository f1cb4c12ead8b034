// Resume across process death: ferry keeps downloads in a content-addressed cache, appending to
// <digest>.partial as bytes arrive. Killed with SIGKILL halfway through a 256 MiB pull, the next
// run resumes with Range; a cached blob is not fetched at all; a tampered partial is discarded.
// These are one-stream downloads (--parallel 1); parallel ranged ones resume by their own
// progress file (fault-parallel-download.test.ts).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestStream } from '@ferry/oci';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type TestRegistry } from './harness/index.js';
import { ferry, repositoryRoot } from './support/cli.js';
import { startThrottleProxy, type ThrottleProxy } from './support/throttle-proxy.js';

const SIZE = 256 * 1024 * 1024;
const RATE = 96 * 1024 * 1024; // ~2.7 s for the whole blob

let registry: TestRegistry;
let proxy: ThrottleProxy;
let work: string;
let digest: string;
let ref: string;

beforeAll(async () => {
  registry = await startRegistry({ mode: 'anonymous' });
  proxy = await startThrottleProxy(Number(registry.host.split(':')[1]), RATE);
  work = await mkdtemp(join(tmpdir(), 'ferry-resume-'));
  const file = join(work, 'big.bin');
  const out = createWriteStream(file);
  for (let i = 0; i < SIZE / (8 * 1024 * 1024); i++) {
    if (!out.write(randomBytes(8 * 1024 * 1024))) await once(out, 'drain');
  }
  await new Promise<void>((resolve) => out.end(resolve));
  digest = (await digestStream(createReadStream(file))).digest;
  const pushed = await ferry(['push', `${registry.host}/cache/big:v1`, 'big.bin', '--plain-http'], {
    cwd: work,
  });
  expect(pushed.code).toBe(0);
  await rm(file);
  ref = `${proxy.host}/cache/big:v1`;
});

afterAll(async () => {
  await proxy?.close();
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

const partialOf = (cache: string) => join(cache, 'blobs', 'sha256', `${digest.slice(7)}.partial`);
const blobBytes = (from: number) => proxy.served.slice(from).reduce((n, s) => n + s.bytes, 0);

/** Starts a pull and SIGKILLs it once the partial file holds about half the blob. */
async function pullAndKillHalfway(cache: string, output: string): Promise<number> {
  const child = spawn(
    process.execPath,
    [
      join(repositoryRoot, 'apps/cli/bin/ferry.js'),
      'pull',
      ref,
      '-o',
      output,
      '--cache-dir',
      cache,
      '--plain-http',
      '--parallel',
      '1',
    ],
    {
      stdio: 'ignore',
    },
  );
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_code, signal) => resolve(signal)),
  );
  // A deadline by the clock, not a count of polls: each poll takes longer on a loaded machine.
  for (const end = Date.now() + 90_000; Date.now() < end;) {
    const size = await stat(partialOf(cache)).then(
      (s) => s.size,
      () => 0,
    );
    if (size >= SIZE / 2) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  return (await stat(partialOf(cache))).size;
}

async function sha256(path: string): Promise<string> {
  return (await digestStream(createReadStream(path))).digest;
}

describe('resume across process death', () => {
  it('resumes a killed pull from the partial file, re-fetching less than 10% of the blob', async () => {
    const cache = join(work, 'cache');
    const output = join(work, 'out');
    const before = proxy.served.length;
    const partial = await pullAndKillHalfway(cache, output);
    expect(partial).toBeGreaterThan(SIZE * 0.3);
    expect(partial).toBeLessThan(SIZE);
    // Nothing at the final path, and no temp file beside it.
    const leftovers = await readdir(output).catch(() => []);
    expect(leftovers, JSON.stringify(leftovers)).toEqual([]);

    const resumedFrom = proxy.served.length;
    // --keep-in-cache: the tests below read the completed blob from this cache (by default a blob
    // of 64 MiB and up is moved to the output instead; fault-parallel-download checks that).
    const result = await ferry([
      'pull',
      ref,
      '-o',
      output,
      '--cache-dir',
      cache,
      '--plain-http',
      '--parallel',
      '1',
      '--keep-in-cache',
    ]);
    expect(result.code).toBe(0);
    expect(await sha256(join(output, 'big.bin'))).toBe(digest);
    const resumed = proxy.served.slice(resumedFrom);
    expect(resumed).toHaveLength(1);
    expect(resumed[0]?.range).toBe(`bytes=${partial}-`);
    expect(resumed[0]?.status).toBe(206);
    const refetched = blobBytes(resumedFrom) - (SIZE - partial);
    expect(refetched).toBeLessThan(SIZE * 0.1);
    expect(blobBytes(before)).toBeLessThan(SIZE * 1.1);
  }, 120_000);

  it('fetches no blob at all when the blob is already cached', async () => {
    const from = proxy.served.length;
    const output = join(work, 'again');
    const result = await ferry([
      'pull',
      ref,
      '-o',
      output,
      '--cache-dir',
      join(work, 'cache'),
      '--plain-http',
    ]);
    expect(result.code).toBe(0);
    expect(proxy.served.length).toBe(from);
    expect(await sha256(join(output, 'big.bin'))).toBe(digest);
  }, 60_000);

  it('detects a tampered partial file by the final digest check, discards it and fetches again', async () => {
    const cache = join(work, 'cache-tampered');
    const output = join(work, 'tampered');
    const partial = await pullAndKillHalfway(cache, output);
    const bytes = await readFile(partialOf(cache));
    bytes[1000] = (bytes[1000] ?? 0) ^ 0xff;
    await writeFile(partialOf(cache), bytes);
    const from = proxy.served.length;
    const result = await ferry([
      'pull',
      ref,
      '-o',
      output,
      '--cache-dir',
      cache,
      '--plain-http',
      '--parallel',
      '1',
    ]);
    expect(result.code).toBe(0);
    expect(await sha256(join(output, 'big.bin'))).toBe(digest);
    const requests = proxy.served.slice(from);
    expect(requests.map((r) => r.range)).toEqual([`bytes=${partial}-`, undefined]);
    // Without --keep-in-cache the checked download itself became the output: nothing is left.
    expect(await readdir(join(cache, 'blobs', 'sha256'))).toEqual([]);
  }, 120_000);

  it('ferry cache prune empties the cache', async () => {
    const result = await ferry(['cache', 'prune', '--cache-dir', join(work, 'cache')]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Removed 1 file \(256\.00 MiB\) from /);
    expect(await readdir(join(work, 'cache', 'blobs')).catch(() => 'gone')).toBe('gone');
  });
});
