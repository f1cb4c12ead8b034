#!/usr/bin/env node
// What issue 13's on-disk guarantees cost a pull, measured in one process with everything else
// equal (no network: the "registry" is a file on the same disk, so the disk costs stand out).
//
//   npm run build && node bench/durability.mjs         # 1 GiB file, 1,000 × 4 KiB files
//   BENCH_QUICK=1 node bench/durability.mjs            # 64 MiB, 100 files
//   BENCH_RUNS=3                                       # samples per variant (medians reported)
//
// Variants, interleaved sample by sample so that a busy machine affects them alike:
//   - "durable": as shipped: fsync(file) → rename → fsync(dir) for every file and cache entry,
//     pulled files copied out of the cache (copyFile with COPYFILE_FICLONE).
//   - "no fsync": the same with ferry's `durable` sync calls made no-ops (what ferry did before).
// and, on the cache-warm 1 GiB pull, what the copy costs against the hard link it replaced:
//   - copyFile(FICLONE) of the cached file, against link(2) of it.
import { createReadStream } from 'node:fs';
import { copyFile, link, mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { createHash, randomFillSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { spawnSync } from 'node:child_process';
import { BlobCache, cachedTarget, durable, unpack } from '@ferry/artifact';

const QUICK = process.env.BENCH_QUICK === '1';
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3) || 3);
const BIG = QUICK ? 64 * 1024 * 1024 : 1024 * 1024 * 1024;
const COUNT = QUICK ? 100 : 1000;
const SMALL = 4096;

const work = await mkdtemp(join(process.env.BENCH_TMPDIR ?? tmpdir(), 'ferry-durability-'));
const sources = join(work, 'sources');
await mkdir(sources);

/** Writes a source blob and returns its descriptor (titled). */
async function source(name, size) {
  const path = join(sources, name);
  const handle = await open(path, 'w');
  const hash = createHash('sha256');
  const chunk = Buffer.alloc(Math.min(size, 8 * 1024 * 1024));
  for (let left = size; left > 0; left -= chunk.byteLength) {
    const piece = chunk.subarray(0, Math.min(left, chunk.byteLength));
    randomFillSync(piece);
    hash.update(piece);
    await handle.write(piece);
  }
  await handle.close();
  const digest = `sha256:${hash.digest('hex')}`;
  return {
    path,
    descriptor: {
      mediaType: 'application/octet-stream',
      digest,
      size,
      annotations: { 'org.opencontainers.image.title': name },
    },
  };
}

const manifestOf = (layers) => ({
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: {
    mediaType: 'application/vnd.oci.empty.v1+json',
    digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
    size: 2,
  },
  layers: layers.map((l) => l.descriptor),
});

/** A remote stand-in serving the source files (trusted: the bench measures the disk side). */
function fetcherFor(layers) {
  const byDigest = new Map(layers.map((l) => [l.descriptor.digest, l.path]));
  return {
    resumable: true,
    fetch: async (descriptor, options = {}) =>
      createReadStream(byDigest.get(descriptor.digest), {
        start: options.resume?.offset ?? 0,
        highWaterMark: 1024 * 1024,
      }),
  };
}

const real = {
  syncFile: durable.syncFile,
  syncPath: durable.syncPath,
  syncDirectory: durable.syncDirectory,
};
function setFsync(on) {
  durable.syncFile = on ? real.syncFile : async () => {};
  durable.syncPath = on ? real.syncPath : async () => {};
  durable.syncDirectory = on ? real.syncDirectory : async () => {};
}

let sample = 0;
/** One pull into a fresh output directory (and a fresh cache unless `cache` is given). */
async function pull(layers, { fsync, cache }) {
  setFsync(fsync);
  const dir = join(work, `run-${sample++}`);
  const blobCache = cache ?? new BlobCache(join(dir, 'cache'));
  const target = cachedTarget(fetcherFor(layers), blobCache);
  spawnSync('sync'); // the previous sample's dirty pages are not this one's to write
  const started = performance.now();
  await unpack(manifestOf(layers), target, { outputDir: join(dir, 'out'), concurrency: 16 });
  const seconds = (performance.now() - started) / 1000;
  await rm(join(dir, 'out'), { recursive: true, force: true });
  if (!cache) await rm(dir, { recursive: true, force: true });
  return seconds;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (xs) => `${median(xs).toFixed(2)} s (${xs.map((x) => x.toFixed(2)).join(' ')})`;

const big = [await source('big.bin', BIG)];
const small = [];
for (let i = 0; i < COUNT; i++) small.push(await source(`f${String(i).padStart(4, '0')}`, SMALL));

const results = {
  bigDurable: [],
  bigNoSync: [],
  smallDurable: [],
  smallNoSync: [],
  copy: [],
  link: [],
};
for (let run = 0; run < RUNS; run++) {
  results.bigDurable.push(await pull(big, { fsync: true }));
  results.bigNoSync.push(await pull(big, { fsync: false }));
  results.smallDurable.push(await pull(small, { fsync: true }));
  results.smallNoSync.push(await pull(small, { fsync: false }));
}

// The copy out of a warm cache against the hard link it replaced, on the same cached file.
setFsync(true);
const warm = new BlobCache(join(work, 'warm'));
await pull(big, { fsync: true, cache: warm });
const entry = join(work, 'warm', 'blobs', 'sha256', big[0].descriptor.digest.slice(7));
for (let run = 0; run < RUNS; run++) {
  spawnSync('sync');
  let started = performance.now();
  await copyFile(entry, join(work, 'copy'), constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
  results.copy.push((performance.now() - started) / 1000);
  await rm(join(work, 'copy'));
  started = performance.now();
  await link(entry, join(work, 'link'));
  results.link.push((performance.now() - started) / 1000);
  await rm(join(work, 'link'));
}

const human = (n) => (n >= 1024 * 1024 * 1024 ? `${n / 1024 ** 3} GiB` : `${n / 1024 ** 2} MiB`);
const lines = [
  `pull ${human(BIG)}, durable      ${fmt(results.bigDurable)}`,
  `pull ${human(BIG)}, no fsync     ${fmt(results.bigNoSync)}`,
  `pull ${COUNT} × 4 KiB, durable   ${fmt(results.smallDurable)}`,
  `pull ${COUNT} × 4 KiB, no fsync  ${fmt(results.smallNoSync)}`,
  `copy ${human(BIG)} out of the cache (FICLONE, else copy)  ${fmt(results.copy)}`,
  `link ${human(BIG)} out of the cache (before)              ${fmt(results.link)}`,
];
console.log(lines.join('\n'));
await writeFile(join(work, 'results.json'), JSON.stringify(results));
await rm(work, { recursive: true, force: true });
