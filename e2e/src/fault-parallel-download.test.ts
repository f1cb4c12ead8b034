// Parallel ranged downloads of one large blob, through a proxy that caps each connection's
// throughput (as CDNs in front of registries do). The proxy is on loopback, where ferry uses one
// stream unless told otherwise, hence `--parallel 4`. The ranges tile the blob and arrive intact,
// a SIGKILLed pull resumes without fetching completed ranges again, a registry that ignores
// Range gets one plain stream, and a redirect to storage is followed once with no credentials.
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BLOB,
  entries,
  MiB,
  pushFile,
  randomBlob,
  requestsTo,
  sha256,
  useFaultFixture,
  type FaultFixture,
} from './faults/fixture.js';
import type { ProxyRequest } from './faults/proxy.js';
import { repositoryRoot } from './support/cli.js';

const fx: FaultFixture = useFaultFixture('basic');
/** Over the 64 MiB threshold: ten ranges of 8 MiB. */
const SIZE = 80 * MiB;
const RANGE = 8 * MiB;
const content = randomBlob(SIZE);
let repo = '';
let ref = '';

beforeAll(async () => {
  repo = fx.repo('parallel');
  ref = `${repo}:v1`;
  await pushFile(fx, ref, 'model.bin', content);
}, 120_000);

const pulled = () => readFile(join(fx.dir, 'out', 'model.bin'));

/** `bytes=a-b` as [a, b]; throws on anything else. */
function bounds(range: string | undefined): [number, number] {
  const match = /^bytes=(\d+)-(\d+)$/.exec(range ?? '');
  if (!match) throw new Error(`not a bounded range: ${String(range)}`);
  return [Number(match[1]), Number(match[2])];
}

/** The most requests that were open at one moment. */
function mostAtOnce(requests: readonly { startedAt: number; endedAt: number | undefined }[]) {
  let most = 0;
  for (const { startedAt } of requests) {
    const open = requests.filter(
      (r) => r.startedAt <= startedAt && (r.endedAt ?? Infinity) > startedAt,
    ).length;
    most = Math.max(most, open);
  }
  return most;
}

/** The progress file ferry keeps beside the partial blob, found wherever the cache puts it. */
async function progressFile(cache: string): Promise<string | undefined> {
  const found = await readdir(cache, { recursive: true }).catch(() => [] as string[]);
  const name = found.map(String).find((path) => path.endsWith('.ranges'));
  return name === undefined ? undefined : join(cache, name);
}

async function readProgress(path: string): Promise<[number, number, number][] | undefined> {
  try {
    return (JSON.parse(await readFile(path, 'utf8')) as { ranges: [number, number, number][] })
      .ranges;
  } catch {
    return undefined; // between writes, or not there yet
  }
}

describe('parallel ranged downloads', () => {
  it('pulls a large blob as ranges over four capped connections at once, every byte once', async () => {
    fx.proxy.throttle(16 * MiB);
    try {
      await fx.ok(['pull', ref, '-o', 'out', '--parallel', '4']);
    } finally {
      fx.proxy.throttle(undefined);
    }
    expect(sha256(await pulled())).toBe(sha256(content));
    const gets = requestsTo(fx.proxy, 'GET', BLOB).filter((r) => r.status !== 401);
    expect(gets.map((r) => r.status)).toEqual(gets.map(() => 206));
    // The ranges tile the blob exactly, and no byte crossed twice.
    const tiles = gets.map((r) => bounds(r.range)).sort((a, b) => a[0] - b[0]);
    expect(tiles).toEqual(
      Array.from({ length: SIZE / RANGE }, (_, i) => [i * RANGE, (i + 1) * RANGE - 1]),
    );
    expect(gets.reduce((sum, r) => sum + r.bytesOut, 0)).toBe(SIZE);
    const most = mostAtOnce(gets);
    expect(most).toBeGreaterThanOrEqual(2);
    expect(most).toBeLessThanOrEqual(4);
    expect(await entries(join(fx.dir, 'out'))).toEqual(['model.bin']);
  }, 90_000);

  it('resumes a SIGKILLed pull without fetching the ranges it completed', async () => {
    const cache = join(fx.dir, 'cache');
    const output = join(fx.dir, 'out');
    fx.proxy.throttle(4 * MiB);
    let saved: [number, number, number][] | undefined;
    try {
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
          '--registry-config',
          fx.configPath,
          '--parallel',
          '4',
        ],
        { stdio: 'ignore' },
      );
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.on('exit', (_code, signal) => resolve(signal)),
      );
      // Killed once the progress file shows two complete ranges (a deadline by the clock).
      for (const end = Date.now() + 60_000; Date.now() < end;) {
        const path = await progressFile(cache);
        const ranges = path ? await readProgress(path) : undefined;
        const complete = (ranges ?? []).filter(([start, stop, done]) => done === stop - start);
        if (complete.length >= 2) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      const path = await progressFile(cache);
      expect(path, 'a progress file beside the partial blob').toBeDefined();
      saved = await readProgress(path ?? '');
    } finally {
      fx.proxy.throttle(undefined);
    }
    expect(await entries(output)).toEqual([]);
    const ranges = saved ?? [];
    const complete = ranges.filter(([start, end, done]) => done === end - start);
    const onDisk = ranges.reduce((sum, [, , done]) => sum + done, 0);
    expect(complete.length).toBeGreaterThanOrEqual(2);
    expect(onDisk).toBeLessThan(SIZE);

    fx.proxy.script([]);
    await fx.ok(['pull', ref, '-o', output, '--cache-dir', cache, '--parallel', '4']);
    expect(sha256(await pulled())).toBe(sha256(content));
    const gets = requestsTo(fx.proxy, 'GET', BLOB).filter((r) => r.status === 206);
    for (const get of gets) {
      const [from] = bounds(get.range);
      const inComplete = complete.some(([start, end]) => from >= start && from < end);
      expect(inComplete, `${get.range} asks again for a range completed before the kill`).toBe(
        false,
      );
    }
    // Exactly what was missing crossed the proxy: nothing on disk was fetched again.
    expect(gets.reduce((sum, r) => sum + r.bytesOut, 0)).toBe(SIZE - onDisk);
    expect(await progressFile(cache)).toBeUndefined();
  }, 120_000);

  it('falls back to one plain stream when the registry ignores Range', async () => {
    fx.proxy.script([{ match: { method: 'GET', path: BLOB }, fault: { ignoreRange: true } }]);
    await fx.ok(['pull', ref, '-o', 'out', '--parallel', '4']);
    expect(sha256(await pulled())).toBe(sha256(content));
    const gets = requestsTo(fx.proxy, 'GET', BLOB).filter((r) => r.status !== 401);
    // The probe (a range, answered with the whole blob and dropped), then one plain GET.
    expect(gets.map((r) => [r.range, r.status])).toEqual([
      [`bytes=0-${RANGE - 1}`, 200],
      [undefined, 200],
    ]);
    expect(gets[1]?.bytesOut).toBe(SIZE);
  }, 90_000);

  it('follows a redirect to storage once and fetches every range there without credentials', async () => {
    fx.proxy.script([{ match: { method: 'GET', path: BLOB }, fault: { redirectTo: 'storage' } }]);
    fx.proxy.throttle(16 * MiB);
    try {
      await fx.ok(['pull', ref, '-o', 'out', '--parallel', '4']);
    } finally {
      fx.proxy.throttle(undefined);
    }
    expect(sha256(await pulled())).toBe(sha256(content));
    const registryGets: ProxyRequest[] = requestsTo(fx.proxy, 'GET', BLOB).filter(
      (r) => r.status !== 401,
    );
    // The registry was asked once, with its credentials, and redirected…
    expect(registryGets.map((r) => [r.status, r.auth])).toEqual([[307, 'Basic']]);
    // …and every range went to storage, none carrying Authorization.
    const storage = fx.proxy.storage.requests;
    expect(storage).toHaveLength(SIZE / RANGE);
    expect(storage.map((r) => r.authorization)).toEqual(storage.map(() => false));
    expect(storage.map((r) => r.status)).toEqual(storage.map(() => 206));
    expect(storage.reduce((sum, r) => sum + r.bytesOut, 0)).toBe(SIZE);
  }, 90_000);

  it('moves a large pulled blob to the output unless --keep-in-cache keeps a copy', async () => {
    const cache = join(fx.dir, 'keep-cache');
    const hex = sha256(content);
    /** Complete entries only: 64 hex digits, no suffix. */
    const entriesIn = async () =>
      (await readdir(join(cache, 'blobs', 'sha256')).catch(() => [] as string[])).filter((name) =>
        /^[0-9a-f]{64}$/.test(name),
      );
    const blobGets = () => requestsTo(fx.proxy, 'GET', BLOB).filter((r) => r.status !== 401);

    await fx.ok(['pull', ref, '-o', 'moved', '--cache-dir', cache, '--parallel', '4']);
    expect(sha256(await readFile(join(fx.dir, 'moved', 'model.bin')))).toBe(hex);
    // ext4/tmpfs have no reflinks: the one copy on disk is the pulled file.
    expect(await entriesIn()).toEqual([]);
    expect(await readdir(join(cache, 'blobs', 'sha256'))).toEqual([]);

    await fx.ok(['pull', ref, '-o', 'kept', '--cache-dir', cache, '--keep-in-cache']);
    expect(sha256(await readFile(join(fx.dir, 'kept', 'model.bin')))).toBe(hex);
    expect(await entriesIn()).toEqual([hex]);

    const asked = blobGets().length;
    await fx.ok(['pull', ref, '-o', 'again', '--cache-dir', cache]);
    expect(sha256(await readFile(join(fx.dir, 'again', 'model.bin')))).toBe(hex);
    expect(blobGets().length).toBe(asked);
  }, 120_000);

  it('cp and blob fetch fetch the large blob in ranges too (through the download cache)', async () => {
    const digest = `sha256:${sha256(content)}`;
    await fx.ok(['blob', 'fetch', `${repo}@${digest}`, '-o', 'out/blob.bin', '--parallel', '4']);
    expect(sha256(await readFile(join(fx.dir, 'out', 'blob.bin')))).toBe(sha256(content));
    const fetched = requestsTo(fx.proxy, 'GET', BLOB).filter((r) => r.status !== 401);
    expect(fetched.map((r) => r.status)).toEqual(fetched.map(() => 206));
    expect(fetched).toHaveLength(SIZE / RANGE);

    fx.proxy.script([]);
    await fx.ok([
      'cp',
      ref,
      'out/layout:v1',
      '--to-oci-layout',
      '--parallel',
      '4',
      '--cache-dir',
      'cp-cache',
    ]);
    const copied = await readFile(
      join(fx.dir, 'out', 'layout', 'blobs', 'sha256', sha256(content)),
    );
    expect(sha256(copied)).toBe(sha256(content));
    // The large layer's GETs (the config blob comes whole, as small blobs do).
    const gets = requestsTo(fx.proxy, 'GET', BLOB).filter(
      (r) => r.status !== 401 && r.path.endsWith(sha256(content)),
    );
    expect(gets.map((r) => r.status)).toEqual(gets.map(() => 206));
    expect(gets).toHaveLength(SIZE / RANGE);
    expect(gets.reduce((sum, r) => sum + r.bytesOut, 0)).toBe(SIZE);
  }, 90_000);

  it('a registry on this machine gets one plain stream by default', async () => {
    await fx.ok(['pull', ref, '-o', 'out']);
    expect(sha256(await pulled())).toBe(sha256(content));
    const gets = requestsTo(fx.proxy, 'GET', BLOB).filter((r) => r.status !== 401);
    expect(gets.map((r) => [r.range, r.status])).toEqual([[undefined, 200]]);
  }, 90_000);

  it('--parallel 1 fetches the blob in one plain stream', async () => {
    await fx.ok([
      'blob',
      'fetch',
      `${repo}@sha256:${sha256(content)}`,
      '-o',
      'out/b',
      '--parallel',
      '1',
    ]);
    expect(sha256(await readFile(join(fx.dir, 'out', 'b')))).toBe(sha256(content));
    const gets = requestsTo(fx.proxy, 'GET', BLOB).filter((r) => r.status !== 401);
    expect(gets.map((r) => [r.range, r.status])).toEqual([[undefined, 200]]);
  }, 90_000);
});
