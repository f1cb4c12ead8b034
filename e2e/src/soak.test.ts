// Soak: 200 small artifacts (1–3 files of 1–64 KiB random data each, with an annotation) pushed
// with 16 artifacts in flight at once against registry:2, then pulled back 16 at a time and every
// manifest and file checked against what was pushed. Driven through the library (@ferry/artifact
// pack/unpack, RegistryTarget, @ferry/registry Registry) in this process: 400 CLI start-ups would
// take longer than the whole run. Peak memory is sampled every 50 ms and printed.
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchManifest, pack, RegistryTarget, unpack, type PackedArtifact } from '@ferry/artifact';
import type { Descriptor } from '@ferry/oci';
import { Registry } from '@ferry/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type TestRegistry } from './harness/index.js';

const ARTIFACTS = 200;
const CONCURRENCY = 16;
const MIB = 1024 * 1024;

interface Pushed {
  index: number;
  repository: string;
  tag: string;
  descriptor: Descriptor;
  manifestBytes: Buffer;
  /** title → sha256 hex of the source file */
  files: Map<string, string>;
}

let reg: TestRegistry;
let base: string;

beforeAll(async () => {
  reg = await startRegistry({ mode: 'anonymous' });
  base = await mkdtemp(join(tmpdir(), 'ferry-soak-'));
});

afterAll(async () => {
  await reg?.stop();
  if (base) await rm(base, { recursive: true, force: true });
});

/** Runs `task` over 0..count-1 with at most `limit` in flight. */
async function pool(count: number, limit: number, task: (i: number) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) await task(i);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

describe('soak', () => {
  it(`pushes and pulls ${ARTIFACTS} artifacts, ${CONCURRENCY} at a time, every digest intact`, async () => {
    // The sources: written before timing starts.
    const sources: { dir: string; titles: string[] }[] = [];
    let sourceBytes = 0;
    for (let i = 0; i < ARTIFACTS; i++) {
      const dir = join(base, 'src', String(i));
      await mkdir(dir, { recursive: true });
      const titles: string[] = [];
      for (let j = 0, n = randomInt(1, 4); j < n; j++) {
        const data = randomBytes(randomInt(1024, 64 * 1024 + 1));
        sourceBytes += data.byteLength;
        titles.push(`part-${j}.bin`);
        await writeFile(join(dir, `part-${j}.bin`), data);
      }
      sources.push({ dir, titles });
    }

    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 50);
    const registry = new Registry(reg.host, { concurrency: CONCURRENCY });
    const pushed: Pushed[] = [];
    const started = performance.now();
    let pushMs = 0;
    try {
      await pool(ARTIFACTS, CONCURRENCY, async (index) => {
        const { dir, titles } = sources[index] ?? { dir: '', titles: [] };
        const packed: PackedArtifact = await pack(
          titles.map((title) => ({ path: join(dir, title), title })),
          {
            artifactType: 'application/vnd.ferry.soak',
            annotations: { 'org.example.soak.index': String(index) },
            tempDir: base,
          },
        );
        const repository = `soak/r${index % 20}`;
        const target = new RegistryTarget(registry, repository);
        for (const blob of [packed.config, ...packed.layers]) {
          if (!(await target.exists(blob.descriptor)))
            await target.push(blob.descriptor, blob.open);
        }
        const tag = `a${index}`;
        await target.push(packed.descriptor, packed.manifestBytes);
        await target.tag(packed.descriptor, tag);
        await packed.cleanup();
        const files = new Map<string, string>();
        for (const title of titles) files.set(title, sha256(await readFile(join(dir, title))));
        pushed.push({
          index,
          repository,
          tag,
          descriptor: packed.descriptor,
          manifestBytes: packed.manifestBytes,
          files,
        });
      });
      pushMs = performance.now() - started;

      let checkedFiles = 0;
      await pool(pushed.length, CONCURRENCY, async (i) => {
        const item = pushed[i] as Pushed;
        const target = new RegistryTarget(registry, item.repository);
        const descriptor = await target.resolve(item.tag);
        expect(descriptor.digest).toBe(item.descriptor.digest);
        const fetched = await fetchManifest(target, descriptor);
        expect(fetched.bytes.equals(item.manifestBytes)).toBe(true);
        if (fetched.parsed.kind !== 'manifest') throw new Error('expected an image manifest');
        const manifest = fetched.parsed.manifest;
        expect(manifest.annotations?.['org.example.soak.index']).toBe(String(item.index));
        const out = join(base, 'out', String(item.index));
        const unpacked = await unpack(manifest, target, { outputDir: out });
        expect(unpacked.map((f) => f.title).sort()).toEqual([...item.files.keys()].sort());
        for (const file of unpacked) {
          const hex = sha256(await readFile(file.path));
          expect(`sha256:${hex}`).toBe(file.descriptor.digest);
          expect(hex).toBe(item.files.get(file.title));
          checkedFiles++;
        }
        await rm(out, { recursive: true, force: true });
      });
      const totalMs = performance.now() - started;
      clearInterval(sampler);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      const maxRss = process.resourceUsage().maxRSS * 1024;
      console.log(
        `soak: ${ARTIFACTS} artifacts, ${checkedFiles} files, ${(sourceBytes / MIB).toFixed(1)} MiB; ` +
          `push ${(pushMs / 1000).toFixed(1)} s, pull+verify ${((totalMs - pushMs) / 1000).toFixed(1)} s, ` +
          `total ${(totalMs / 1000).toFixed(1)} s; peak RSS (50 ms samples) ${(peakRss / MIB).toFixed(0)} MiB, ` +
          `maxRSS ${(maxRss / MIB).toFixed(0)} MiB`,
      );
      expect(pushed).toHaveLength(ARTIFACTS);
      expect(checkedFiles).toBe(pushed.reduce((n, p) => n + p.files.size, 0));
      // Speed belongs to bench/; here the time is only a sanity bound (the soak takes ~8 s on a
      // quiet 2-core machine), strict only when asked for.
      expect(totalMs).toBeLessThan(process.env.FERRY_SOAK_STRICT ? 60_000 : 150_000);
      expect(peakRss).toBeLessThan(400 * MIB);
      expect(maxRss).toBeLessThan(400 * MIB);
    } finally {
      clearInterval(sampler);
      await registry.close();
    }
  }, 180_000);
});
