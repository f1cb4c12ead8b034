import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, FerryError, isFerryError, isNotFound, NotFoundError } from '@ferry/oci';
import { CredentialErrorCode, RegistryErrorCode } from '@ferry/registry';
import { describe, expect, it, vi } from 'vitest';
import { ArtifactErrorCode } from './errors.js';
import { OciLayoutTarget } from './oci-layout.js';
import { UNSAFE_ARCHIVE, UNSAFE_PATH } from './paths.js';
import { ERR_EXPANSION_TOO_LARGE } from './tar-limits.js';
import { UNSUPPORTED_FILE } from './tar-create.js';
import { ERR_CACHE_UNSAFE } from './cache-files.js';
import { ERR_LAYOUT_INVALID } from './oci-layout-index.js';

const codes = Object.values(ArtifactErrorCode);

describe('the error vocabulary of @ferry/artifact', () => {
  it('has no code twice, and none of a lower package’s', () => {
    expect(new Set(codes).size).toBe(codes.length);
    const lower = new Set<string>([
      ...Object.values(ErrorCode),
      ...Object.values(RegistryErrorCode),
      ...Object.values(CredentialErrorCode),
    ]);
    expect(codes.filter((code) => lower.has(code))).toEqual([]);
    for (const code of codes) expect(code).toMatch(/^ERR_[A-Z0-9_]+$/);
  });

  it.each(codes)('%s: a FerryError with that code and name', (code) => {
    const error = new FerryError(code, 'x');
    expect(error.code).toBe(code);
    expect(error.name).toBe('FerryError');
    expect(error).toBeInstanceOf(FerryError);
  });

  it.each(codes)(
    '%s: raised by a second installed copy of @ferry/oci, still recognised',
    async (code) => {
      vi.resetModules();
      const copy = await import('@ferry/oci');
      expect(copy.FerryError).not.toBe(FerryError);
      const error = new copy.FerryError(code, 'x');
      expect(error).toBeInstanceOf(FerryError);
      expect(isFerryError(error, code)).toBe(true);
      expect(new FerryError(code, 'x')).toBeInstanceOf(copy.FerryError);
    },
  );

  it('the older exported constants are the table’s values, not second copies', () => {
    expect(UNSAFE_PATH).toBe(ArtifactErrorCode.UnsafePath);
    expect(UNSAFE_ARCHIVE).toBe(ArtifactErrorCode.UnsafeArchive);
    expect(ERR_EXPANSION_TOO_LARGE).toBe(ArtifactErrorCode.ExpansionTooLarge);
    expect(UNSUPPORTED_FILE).toBe(ArtifactErrorCode.UnsupportedFile);
    expect(ERR_CACHE_UNSAFE).toBe(ArtifactErrorCode.CacheUnsafe);
    expect(ERR_LAYOUT_INVALID).toBe(ArtifactErrorCode.LayoutInvalid);
  });
});

describe('an OCI layout’s miss is the shared not-found', () => {
  it('resolve, fetch and exists agree with a registry on NotFoundError', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-errors-'));
    try {
      const layout = await OciLayoutTarget.open(dir);
      const missingTag = await layout.resolve('v1').catch((error: unknown) => error);
      expect(missingTag).toBeInstanceOf(NotFoundError);
      expect(isNotFound(missingTag)).toBe(true);
      expect((missingTag as FerryError).code).toBe('ERR_NOT_FOUND');
      vi.resetModules();
      const otherOci = await import('@ferry/oci');
      expect(otherOci.isNotFound(missingTag)).toBe(true);
      expect(missingTag).toBeInstanceOf(otherOci.NotFoundError);
      const digest = `sha256:${'0'.repeat(64)}`;
      const missingDigest = await layout.resolve(digest).catch((error: unknown) => error);
      expect(missingDigest).toBeInstanceOf(NotFoundError);
      const noDirectory = await OciLayoutTarget.open(join(dir, 'absent'), { create: false }).catch(
        (error: unknown) => error,
      );
      expect(noDirectory).toBeInstanceOf(NotFoundError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
