// Many ferry processes, one download cache (issue 13 item 5): several `ferry pull`s of the same
// artifact start at once against a registry whose blob is served slowly. Every one must exit 0
// with the exact bytes, each output an independent file; the blob crosses the network once (one
// process downloads, the others wait on its lock), and the cache is left holding only the entry.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestStream } from '@ferry/oci';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type TestRegistry } from './harness/index.js';
import { ferry, repositoryRoot } from './support/cli.js';
import { startThrottleProxy, type ThrottleProxy } from './support/throttle-proxy.js';

const SIZE = 48 * 1024 * 1024;
const RATE = 24 * 1024 * 1024; // ~2 s for the blob: long enough for every process to meet it
const PULLS = 4;

let registry: TestRegistry;
let proxy: ThrottleProxy;
let work: string;
let digest: string;

beforeAll(async () => {
  registry = await startRegistry({ mode: 'anonymous' });
  proxy = await startThrottleProxy(Number(registry.host.split(':')[1]), RATE);
  work = await mkdtemp(join(tmpdir(), 'ferry-cache-concurrency-'));
  const bytes = randomBytes(SIZE);
  await writeFile(join(work, 'model.bin'), bytes);
  digest = (await digestStream(createReadStream(join(work, 'model.bin')))).digest;
  const pushed = await ferry(
    ['push', `${registry.host}/cache/shared:v1`, 'model.bin', '--plain-http'],
    { cwd: work },
  );
  expect(pushed.code, pushed.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

function pull(output: string, cache: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        join(repositoryRoot, 'apps/cli/bin/ferry.js'),
        'pull',
        `${proxy.host}/cache/shared:v1`,
        '-o',
        output,
        '--cache-dir',
        cache,
        '--plain-http',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

const sha256 = async (path: string) => (await digestStream(createReadStream(path))).digest;

describe('concurrent pulls through one cache', () => {
  it(`${PULLS} processes pulling one blob at once all get verified, independent files`, async () => {
    const cache = join(work, 'cache');
    const before = proxy.served.length;
    const outputs = Array.from({ length: PULLS }, (_, i) => join(work, `out-${i}`));
    const results = await Promise.all(outputs.map((output) => pull(output, cache)));
    for (const result of results) expect(result.code, result.stderr).toBe(0);
    const inodes = new Set<number>();
    for (const output of outputs) {
      const file = join(output, 'model.bin');
      expect(await sha256(file)).toBe(digest);
      const stats = await stat(file);
      expect(stats.size).toBe(SIZE);
      expect(stats.nlink).toBe(1);
      inodes.add(stats.ino);
      expect(await readdir(output)).toEqual(['model.bin']);
    }
    expect(inodes.size).toBe(PULLS);
    const entry = join(cache, 'blobs', 'sha256', digest.slice(7));
    expect(await sha256(entry)).toBe(digest);
    // Only the entry: no partial file, lock or temp file left behind.
    expect(await readdir(join(cache, 'blobs', 'sha256'))).toEqual([digest.slice(7)]);
    // One download, the others waited for it.
    const served = proxy.served.slice(before).reduce((n, s) => n + s.bytes, 0);
    expect(served).toBeLessThan(SIZE * 1.1);
  }, 180_000);
});
