import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  canFetchReference,
  fetchManifestByReference,
  MemoryTarget,
  type FetchedManifest,
  type Target,
} from '@ferry/artifact';
import { FerryError, MediaType, NotFoundError, type Descriptor } from '@ferry/oci';
import { RegistryError } from '@ferry/registry';
import { FallbackTarget } from './fallback-target.js';

const descriptor: Descriptor = {
  mediaType: 'application/vnd.oci.image.index.v1+json',
  digest: `sha256:${'a'.repeat(64)}`,
  size: 2,
};

/** A target whose reads answer `answer` (or throw it), counting calls. */
function fake(name: string, answer: unknown): Target & { calls: string[] } {
  const calls: string[] = [];
  const reply = async (what: string) => {
    calls.push(what);
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return {
    name,
    calls,
    resumable: true,
    resolve: () => reply('resolve') as Promise<Descriptor>,
    fetch: () => reply('fetch').then(() => Readable.from(['{}'])),
    exists: () => reply('exists') as Promise<boolean>,
    tags: () => reply('tags') as Promise<string[]>,
    referrers: () => reply('referrers') as Promise<Descriptor[]>,
    push: () => Promise.resolve(),
    tag: () => Promise.resolve(),
  };
}

describe('FallbackTarget', () => {
  it('tries the next place when one fails, and says so', async () => {
    const mirror = fake('mirror', new FerryError('ERR_NOT_FOUND', 'manifest unknown'));
    const ghcr = fake('ghcr', descriptor);
    const seen: string[] = [];
    const target = new FallbackTarget(
      [
        { target: mirror, via: 'HOMEBREW_ARTIFACT_DOMAIN' },
        { target: ghcr, via: 'ghcr.io' },
      ],
      (from, to) => seen.push(`${from.via} -> ${to.via}`),
    );
    expect(await target.resolve('3.40.1')).toEqual(descriptor);
    expect(mirror.calls).toEqual(['resolve']);
    expect(ghcr.calls).toEqual(['resolve']);
    expect(seen).toEqual(['HOMEBREW_ARTIFACT_DOMAIN -> ghcr.io']);
    expect(target.name).toBe('mirror');
  });

  it('stops at the first answer', async () => {
    const mirror = fake('mirror', ['1.0']);
    const ghcr = fake('ghcr', ['2.0']);
    const target = new FallbackTarget([
      { target: mirror, via: 'a' },
      { target: ghcr, via: 'b' },
    ]);
    expect(await target.tags()).toEqual(['1.0']);
    expect(ghcr.calls).toEqual([]);
  });

  it('throws the last error when every place fails, and never falls back on a digest mismatch', async () => {
    const last = new FerryError('ERR_NOT_FOUND', 'not at ghcr either');
    const target = new FallbackTarget([
      { target: fake('a', new FerryError('ERR_NETWORK', 'refused')), via: 'a' },
      { target: fake('b', last), via: 'b' },
    ]);
    await expect(target.resolve('1')).rejects.toBe(last);
    const mismatch = new FerryError('ERR_DIGEST_MISMATCH', 'bad bytes');
    const second = fake('b', descriptor);
    const strict = new FallbackTarget([
      { target: fake('a', mismatch), via: 'a' },
      { target: second, via: 'b' },
    ]);
    await expect(strict.fetch(descriptor)).rejects.toBe(mismatch);
    expect(second.calls).toEqual([]);
  });

  it('falls back when a blob stream fails before its first byte, and streams the next place', async () => {
    const failing = fake('mirror', descriptor);
    failing.fetch = () => {
      failing.calls.push('fetch');
      const stream = new Readable({ read() {} });
      setImmediate(() => stream.destroy(new FerryError('ERR_NOT_FOUND', 'blob unknown')));
      return Promise.resolve(stream);
    };
    const ghcr = fake('ghcr', descriptor);
    ghcr.fetch = () => Promise.resolve(Readable.from([Buffer.from('bottle bytes')]));
    const target = new FallbackTarget([
      { target: failing, via: 'a' },
      { target: ghcr, via: 'b' },
    ]);
    const chunks: Buffer[] = [];
    for await (const chunk of await target.fetch(descriptor)) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('bottle bytes');
    expect(failing.calls).toEqual(['fetch']);
  });

  it('stops asking a place that is down, but keeps asking one that only lacks something', async () => {
    const down = Object.assign(new FerryError('ERR_NETWORK', '503 after retries'), { status: 503 });
    const broken = fake('mirror', down);
    const ghcr = fake('ghcr', descriptor);
    const target = new FallbackTarget([
      { target: broken, via: 'a' },
      { target: ghcr, via: 'b' },
    ]);
    await target.resolve('1');
    await target.resolve('2');
    await target.exists(descriptor);
    expect(broken.calls).toEqual(['resolve']);
    expect(ghcr.calls).toEqual(['resolve', 'resolve', 'exists']);

    const lacking = fake('mirror', new FerryError('ERR_NOT_FOUND', 'manifest unknown'));
    const other = fake('ghcr', descriptor);
    const patient = new FallbackTarget([
      { target: lacking, via: 'a' },
      { target: other, via: 'b' },
    ]);
    await patient.resolve('1');
    await patient.resolve('2');
    expect(lacking.calls).toEqual(['resolve', 'resolve']);
  });

  it.each([
    ['a layout’s NotFoundError', new NotFoundError('v1 not found in oci-layout:x')],
    [
      'a registry’s 404',
      new RegistryError({ status: 404, method: 'GET', url: 'https://m.example/v2/a/manifests/1' }),
    ],
  ])('keeps asking a place whose miss is %s (the one not-found)', async (_what, miss) => {
    const lacking = fake('mirror', miss);
    const target = new FallbackTarget([
      { target: lacking, via: 'a' },
      { target: fake('ghcr', descriptor), via: 'b' },
    ]);
    await target.resolve('1');
    await target.resolve('2');
    expect(lacking.calls).toEqual(['resolve', 'resolve']);
  });

  it('fetches by reference at each place in turn: one step where a place can, else resolve and fetch', async () => {
    const index = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] }),
    );
    const empty = new MemoryTarget('mirror');
    const ghcr = new MemoryTarget('ghcr');
    const stored = await ghcr.add(index, MediaType.OciIndex);
    await ghcr.tag(stored, '3.40.1');
    const asked: string[] = [];
    // A registry: one GET by tag (RegistryTarget.fetchReference), never a resolve.
    const registry = Object.assign(fake('registry', new Error('resolve, fetch: not asked')), {
      fetchReference: (reference: string): Promise<FetchedManifest> => {
        asked.push(reference);
        return fetchManifestByReference(ghcr, reference);
      },
    });
    const target = new FallbackTarget([
      { target: empty, via: 'HOMEBREW_ARTIFACT_DOMAIN' },
      { target: registry, via: 'ghcr.io' },
    ]);
    expect(canFetchReference(target)).toBe(true);
    const fetched = await fetchManifestByReference(target, '3.40.1');
    expect(fetched.descriptor).toEqual(stored);
    expect(fetched.bytes).toEqual(index);
    expect(asked).toEqual(['3.40.1']);
    expect(registry.calls).toEqual([]);

    // Places without the capability resolve and fetch; a miss everywhere is the shared not-found.
    const layouts = new FallbackTarget([
      { target: empty, via: 'a' },
      { target: ghcr, via: 'b' },
    ]);
    expect((await layouts.fetchReference('3.40.1')).descriptor).toEqual(stored);
    await expect(layouts.fetchReference('9.9')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses writes', async () => {
    const target = new FallbackTarget([{ target: fake('a', descriptor), via: 'a' }]);
    await expect(target.push()).rejects.toThrow(/cannot be written/);
  });
});
