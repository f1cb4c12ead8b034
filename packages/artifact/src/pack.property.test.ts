import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { FerryError, type Descriptor } from '@ferry/oci';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pack, type PackedArtifact } from './pack.js';
import type { Fetcher } from './target.js';
import { unpack } from './unpack.js';

/** A directory tree: file contents, or nested trees. */
interface Tree {
  [name: string]: Uint8Array | Tree;
}

// Names from a safe alphabet (no case-only clashes on case-insensitive file systems).
const name = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,7}$/);
const file = fc.uint8Array({ maxLength: 300 });
const level = (depth: number): fc.Arbitrary<Tree> =>
  fc.dictionary(name, depth === 0 ? file : fc.oneof(file, level(depth - 1)), { maxKeys: 4 });
const trees = level(3);

async function write(root: string, tree: Tree): Promise<void> {
  await mkdir(root, { recursive: true });
  for (const [entry, value] of Object.entries(tree)) {
    if (value instanceof Uint8Array) await writeFile(join(root, entry), value);
    else await write(join(root, entry), value);
  }
}

/** Reads a tree back in the generator's shape, with file contents as hex for comparison. */
async function read(root: string): Promise<Record<string, unknown>> {
  const result: Record<string, unknown> = {};
  for (const entry of await readdir(root, { withFileTypes: true })) {
    const full = join(root, entry.name);
    result[entry.name] = entry.isDirectory()
      ? await read(full)
      : (await readFile(full)).toString('hex');
  }
  return result;
}

function expected(tree: Tree): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(tree).map(([entry, value]) => [
      entry,
      value instanceof Uint8Array ? Buffer.from(value).toString('hex') : expected(value),
    ]),
  );
}

async function fetcherFor(packed: PackedArtifact): Promise<Fetcher> {
  const blobs = new Map<string, Buffer>();
  for (const blob of [packed.config, ...packed.layers]) {
    const chunks: Buffer[] = [];
    for await (const chunk of blob.open() as AsyncIterable<Buffer>) chunks.push(chunk);
    blobs.set(blob.descriptor.digest, Buffer.concat(chunks));
  }
  return {
    fetch: async (descriptor: Descriptor) => {
      const bytes = blobs.get(descriptor.digest);
      if (!bytes) throw new FerryError('ERR_NOT_FOUND', descriptor.digest);
      return Readable.from([bytes]);
    },
  };
}

describe('pack → unpack (property)', () => {
  it('restores any small tree exactly, and packs it to the same digest twice', async () => {
    await fc.assert(
      fc.asyncProperty(trees, async (tree) => {
        const base = await mkdtemp(join(tmpdir(), 'ferry-pack-property-'));
        try {
          await write(join(base, 'src', 'root'), tree);
          const options = { tempDir: base };
          const first = await pack([{ path: join(base, 'src', 'root'), title: 'root' }], options);
          const second = await pack([{ path: join(base, 'src', 'root'), title: 'root' }], options);
          expect(second.manifestBytes.equals(first.manifestBytes)).toBe(true);
          expect(second.manifest.layers[0]!.digest).toBe(first.manifest.layers[0]!.digest);

          const out = join(base, 'out');
          await unpack(first.manifest, await fetcherFor(first), { outputDir: out });
          expect(await read(out)).toEqual({ root: expected(tree) });
          await first.cleanup();
          await second.cleanup();
        } finally {
          await rm(base, { recursive: true, force: true });
        }
      }),
      { numRuns: 40 },
    );
  });
});
