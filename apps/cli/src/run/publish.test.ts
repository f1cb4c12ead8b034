// uploadPacked is wiring: the push sequence itself (existence checks, the pool, eager uploads,
// manifest last) is tested in @ferry/artifact (push-packed*.test.ts). Here: the lines it prints
// for what the sequence reports, and that it hands the tag to the target.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryTarget, pack, type PackedArtifact } from '@ferry/artifact';
import { EmptyJson, EMPTY_JSON_BYTES, MediaType, type Descriptor } from '@ferry/oci';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from '../context.js';
import { Progress } from '../progress.js';
import { uploadPacked } from './publish.js';

const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const short = (digest: string) => digest.slice('sha256:'.length, 'sha256:'.length + 12);

/** A memory target that also pushes a manifest by tag in one request, and says so. */
class TaggingTarget extends MemoryTarget {
  readonly pushedTagged: string[] = [];
  async pushTagged(descriptor: Descriptor, content: Uint8Array, tag: string): Promise<void> {
    this.pushedTagged.push(`${descriptor.digest} ${tag}`);
    await this.push(descriptor, content);
    await this.tag(descriptor, tag);
  }
}

function fakeContext(format: 'text' | 'json' = 'text') {
  const out: string[] = [];
  const context: Context = {
    io: { stdout: (text) => void out.push(text), stderr: () => {} },
    args: { format },
    readStdin: async () => '',
  };
  return { context, out, lines: () => out.join('').split('\n').filter(Boolean) };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-publish-test-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function packFiles(name: string, count: number) {
  const sub = await mkdtemp(join(dir, `${name}-`));
  const contents: Buffer[] = [];
  const inputs = [];
  for (let index = 0; index < count; index++) {
    const bytes = randomBytes(4096);
    const title = `f${index}.bin`;
    await writeFile(join(sub, title), bytes);
    contents.push(bytes);
    inputs.push({ path: join(sub, title), title });
  }
  return { packed: await pack(inputs), contents };
}

const upload = (context: Context, target: MemoryTarget, packed: PackedArtifact, tag?: string) =>
  uploadPacked(context, target, packed, {
    concurrency: 1,
    progress: new Progress(false),
    ...(tag ? { tag } : {}),
  });

describe('uploadPacked prints what the push did', () => {
  it('"Uploaded" per blob in order (title, else media type), and the manifest last', async () => {
    const { packed, contents } = await packFiles('first', 3);
    const target = new MemoryTarget();
    const { context, lines } = fakeContext();
    await upload(context, target, packed);
    expect(lines()).toEqual([
      `Uploaded   ${MediaType.OciEmpty}  ${short(EmptyJson.digest)}`,
      ...contents.map((bytes, i) => `Uploaded   f${i}.bin  ${short(sha256(bytes))}`),
      `Uploaded   ${MediaType.OciManifest}  ${short(packed.descriptor.digest)}`,
    ]);
    expect(target.bytes(packed.descriptor.digest)?.equals(packed.manifestBytes)).toBe(true);
  });

  it('"Exists" for blobs the target holds; the manifest is still pushed', async () => {
    const { packed, contents } = await packFiles('again', 2);
    const target = new MemoryTarget();
    await target.add(EMPTY_JSON_BYTES, MediaType.OciEmpty);
    for (const bytes of contents) await target.add(bytes);
    const { context, lines } = fakeContext();
    await upload(context, target, packed);
    expect(lines()).toEqual([
      `Exists     ${MediaType.OciEmpty}  ${short(EmptyJson.digest)}`,
      ...contents.map((bytes, i) => `Exists     f${i}.bin  ${short(sha256(bytes))}`),
      `Uploaded   ${MediaType.OciManifest}  ${short(packed.descriptor.digest)}`,
    ]);
  });

  it('hands the tag to a target that pushes by tag, in one request', async () => {
    const { packed } = await packFiles('tagged', 1);
    const target = new TaggingTarget();
    await upload(fakeContext().context, target, packed, 'v2');
    expect(target.pushedTagged).toEqual([`${packed.descriptor.digest} v2`]);
    expect((await target.resolve('v2')).digest).toBe(packed.descriptor.digest);
  });

  it('tags by digest and then by tag on a target that cannot push by tag', async () => {
    const { packed } = await packFiles('tag', 1);
    const target = new MemoryTarget();
    await upload(fakeContext().context, target, packed, 'v1');
    expect(await target.tags()).toEqual(['v1']);
    expect((await target.resolve('v1')).digest).toBe(packed.descriptor.digest);
  });

  it('points every one of `tags` at the manifest, the first in one request (model push)', async () => {
    const { packed } = await packFiles('tags', 1);
    const target = new TaggingTarget();
    const { context, lines } = fakeContext();
    await uploadPacked(context, target, packed, {
      concurrency: 2,
      progress: new Progress(false),
      tags: ['v1', 'latest'],
    });
    expect(target.pushedTagged).toEqual([`${packed.descriptor.digest} v1`]);
    expect(await target.tags()).toEqual(['v1', 'latest']);
    expect(lines().at(-1)).toBe(
      `Uploaded   ${MediaType.OciManifest}  ${short(packed.descriptor.digest)}`,
    );
  });

  it('prints nothing with --format json', async () => {
    const { packed } = await packFiles('json', 1);
    const target = new MemoryTarget();
    const { context, out } = fakeContext('json');
    await upload(context, target, packed);
    expect(out).toEqual([]);
    expect(target.bytes(packed.descriptor.digest)?.equals(packed.manifestBytes)).toBe(true);
  });
});
