// The real ghcr.io responses for homebrew/core/sqlite:3.40.1, stored byte for byte in
// fixtures/homebrew/ at the repository root: what ferry reads must agree with what Homebrew pushed.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Annotation, MediaType } from './constants.js';
import { computeDigest, verifyDigest } from './digest.js';
import { parseManifest } from './manifest.js';

const fixtures = new URL('../../../fixtures/homebrew/', import.meta.url);
const read = (name: string) => readFileSync(fileURLToPath(new URL(name, fixtures)));

describe('ghcr.io Homebrew fixtures', () => {
  const indexBytes = read('sqlite-3.40.1.index.json');
  const manifestBytes = read('sqlite-3.40.1.x86_64_linux.manifest.json');

  it('parses the index: seven bottles with platforms and ref names', () => {
    const parsed = parseManifest(indexBytes, MediaType.OciIndex);
    if (parsed.kind !== 'index') throw new Error(`expected an index, got ${parsed.kind}`);
    expect(parsed.index.manifests).toHaveLength(7);
    const refNames = parsed.index.manifests.map((m) => m.annotations?.[Annotation.RefName]);
    expect(refNames).toContain('3.40.1.x86_64_linux');
    expect(refNames).toContain('3.40.1.arm64_ventura');
    for (const entry of parsed.index.manifests) {
      expect(entry.mediaType).toBe(MediaType.OciManifest);
      expect(entry.annotations?.[Annotation.BrewBottleDigest]).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('parses the x86_64_linux manifest: one gzip layer that is the bottle', () => {
    const parsed = parseManifest(manifestBytes, MediaType.OciManifest);
    if (parsed.kind !== 'manifest') throw new Error(`expected a manifest, got ${parsed.kind}`);
    const { manifest } = parsed;
    expect(manifest.config.mediaType).toBe(MediaType.OciConfig);
    expect(manifest.layers).toHaveLength(1);
    const [layer] = manifest.layers;
    expect(layer).toMatchObject({
      mediaType: MediaType.OciLayerGzip,
      digest: 'sha256:8d1baebd808a5cdb47c3fedbefd4de5cf7983700c41191432f3a9bed4885bb06',
      size: 2682611,
    });
    expect(layer?.annotations?.[Annotation.Title]).toBe(
      'sqlite--3.40.1.x86_64_linux.bottle.tar.gz',
    );
    expect(`sha256:${manifest.annotations?.[Annotation.BrewBottleDigest]}`).toBe(layer?.digest);
  });

  it("the manifest's bytes hash to the digest the index names for x86_64_linux", () => {
    const parsed = parseManifest(indexBytes);
    if (parsed.kind !== 'index') throw new Error('expected an index');
    const entry = parsed.index.manifests.find(
      (m) => m.annotations?.[Annotation.RefName] === '3.40.1.x86_64_linux',
    );
    expect(entry).toBeDefined();
    // os.version is free text (the build host's kernel), which is why bottles are never chosen by it.
    expect(entry?.platform).toEqual({
      architecture: 'amd64',
      os: 'linux',
      'os.version': '5.15.0-1024-azure',
    });
    expect(computeDigest(manifestBytes)).toBe(
      'sha256:ff58c21da5e58b82bae6e19207a8ec01e398a31512081e9b6560b2dec88c22da',
    );
    expect(computeDigest(manifestBytes)).toBe(entry?.digest);
    expect(manifestBytes.byteLength).toBe(entry?.size);
    expect(() => verifyDigest(manifestBytes, entry!.digest, 'x86_64_linux manifest')).not.toThrow();
  });
});
