// `ferry model pull` keeps `ferry pull`'s resume guarantee: killed with SIGKILL halfway through a
// weight, it leaves nothing at the final path, and the next run resumes the blob with Range from
// the download cache's partial file.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type TestRegistry } from './harness/index.js';
import { ferry, repositoryRoot } from './support/cli.js';
import { digestOf } from './support/cli-fixture.js';
import { startThrottleProxy, type ThrottleProxy } from './support/throttle-proxy.js';

const SIZE = 64 * 1024 * 1024;
const RATE = 24 * 1024 * 1024; // ~2.7 s for the weight

let registry: TestRegistry;
let proxy: ThrottleProxy;
let work: string;
let weightDigest: string;
let ref: string;

beforeAll(async () => {
  registry = await startRegistry({ mode: 'anonymous' });
  proxy = await startThrottleProxy(Number(registry.host.split(':')[1]), RATE);
  work = await mkdtemp(join(tmpdir(), 'ferry-model-resume-'));
  const model = join(work, 'model');
  await mkdir(model);
  const header = Buffer.from(
    JSON.stringify({ w: { dtype: 'U8', shape: [SIZE], data_offsets: [0, SIZE] } }),
  );
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(header.length));
  const weights = Buffer.concat([length, header, randomBytes(SIZE)]);
  weightDigest = digestOf(weights);
  await writeFile(join(model, 'model.safetensors'), weights);
  await writeFile(join(model, 'config.json'), '{"model_type":"tiny"}');
  const pushed = await ferry(['model', 'push', `${registry.host}/models/big:v1`, model], {
    cwd: work,
  });
  expect(pushed.code, pushed.stderr).toBe(0);
  ref = `${proxy.host}/models/big:v1`;
}, 300_000);

afterAll(async () => {
  await proxy?.close();
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

const partialOf = (cache: string) =>
  join(cache, 'blobs', 'sha256', `${weightDigest.slice(7)}.partial`);

describe('ferry model pull across process death', () => {
  it('resumes a killed pull of a weight with Range; nothing at the final path meanwhile', async () => {
    const cache = join(work, 'cache');
    const output = join(work, 'out');
    const child = spawn(
      process.execPath,
      [
        join(repositoryRoot, 'apps/cli/bin/ferry.js'),
        'model',
        'pull',
        ref,
        '-o',
        output,
        '--cache-dir',
        cache,
      ],
      { stdio: 'ignore' },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
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
    const partial = (await stat(partialOf(cache))).size;
    expect(partial).toBeGreaterThan(SIZE * 0.3);
    expect(partial).toBeLessThan(SIZE);
    // The small config may have landed; the weight is not there, nor a temp file of it.
    const leftovers = (await readdir(output).catch(() => [] as string[])).filter(
      (name) => name !== 'config.json',
    );
    expect(leftovers).toEqual([]);

    const from = proxy.served.length;
    const result = await ferry(['model', 'pull', ref, '-o', output, '--cache-dir', cache]);
    expect(result.code, result.stderr).toBe(0);
    expect(digestOf(await readFile(join(output, 'model.safetensors')))).toBe(weightDigest);
    const resumed = proxy.served.slice(from).filter((s) => s.range !== undefined);
    expect(resumed.map((s) => [s.range, s.status])).toEqual([[`bytes=${partial}-`, 206]]);
  }, 180_000);
});
