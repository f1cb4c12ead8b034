import { ArtifactErrorCode } from '@ferry/artifact';
import { ErrorCode, FerryError, isFerryError } from '@ferry/oci';
import { CredentialErrorCode, RegistryErrorCode } from '@ferry/registry';
import { describe, expect, it, vi } from 'vitest';
import { HomebrewErrorCode } from './errors.js';

const codes = Object.values(HomebrewErrorCode);

describe('the error vocabulary of @ferry/homebrew', () => {
  it('has no code twice, and none of a lower package’s', () => {
    expect(new Set(codes).size).toBe(codes.length);
    const lower = new Set<string>([
      ...Object.values(ErrorCode),
      ...Object.values(RegistryErrorCode),
      ...Object.values(CredentialErrorCode),
      ...Object.values(ArtifactErrorCode),
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
});
