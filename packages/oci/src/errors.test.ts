import { describe, expect, it, vi } from 'vitest';
import * as errors from './errors.js';
import {
  DigestMismatchError,
  ErrorCode,
  FerryError,
  InvalidDigestError,
  InvalidPlatformError,
  InvalidReferenceError,
  isNotFound,
  ManifestInvalidError,
  ManifestTooLargeError,
  NotFoundError,
  SizeMismatchError,
  UnsupportedDigestAlgorithmError,
  UnsupportedMediaTypeError,
} from './errors.js';

type Errors = typeof errors;
type ErrorClass = abstract new (...args: never[]) => FerryError;

/** One way to raise each code, and the class it is raised as, for a given copy of the module. */
function table(m: Errors): Record<ErrorCode, { error: FerryError; class: ErrorClass }> {
  return {
    ERR_INVALID_REFERENCE: {
      error: new m.InvalidReferenceError('a b', 'spaces'),
      class: m.InvalidReferenceError,
    },
    ERR_INVALID_DIGEST: {
      error: new m.InvalidDigestError('x', 'no colon'),
      class: m.InvalidDigestError,
    },
    ERR_UNSUPPORTED_DIGEST_ALGORITHM: {
      error: new m.UnsupportedDigestAlgorithmError('md5'),
      class: m.UnsupportedDigestAlgorithmError,
    },
    ERR_DIGEST_MISMATCH: {
      error: new m.DigestMismatchError('sha256:a', 'sha256:b'),
      class: m.DigestMismatchError,
    },
    ERR_SIZE_MISMATCH: { error: new m.SizeMismatchError(1, 2), class: m.SizeMismatchError },
    ERR_MANIFEST_INVALID: {
      error: new m.ManifestInvalidError('$.layers', 'not a list'),
      class: m.ManifestInvalidError,
    },
    ERR_MANIFEST_TOO_LARGE: {
      error: new m.ManifestTooLargeError(5, 4),
      class: m.ManifestTooLargeError,
    },
    ERR_UNSUPPORTED_MEDIA_TYPE: {
      error: new m.UnsupportedMediaTypeError('x/y', 'unknown'),
      class: m.UnsupportedMediaTypeError,
    },
    ERR_INVALID_PLATFORM: {
      error: new m.InvalidPlatformError('x', 'no arch'),
      class: m.InvalidPlatformError,
    },
    ERR_NOT_FOUND: { error: new m.NotFoundError('v1 not found in layout'), class: m.NotFoundError },
    ERR_FILE_NOT_FOUND: {
      error: new m.FerryError(m.ErrorCode.FileNotFound, 'a.txt does not exist'),
      class: m.FerryError,
    },
    ERR_FILE_EXISTS: {
      error: new m.FerryError(m.ErrorCode.FileExists, 'a.txt exists'),
      class: m.FerryError,
    },
    ERR_INVALID_OPTIONS: {
      error: new m.FerryError(m.ErrorCode.InvalidOptions, '--a and --b conflict'),
      class: m.FerryError,
    },
  };
}

/** A second copy of this module, as when two versions of @ferry/oci are installed side by side. */
async function secondCopy(): Promise<Errors> {
  vi.resetModules();
  const copy = (await import('./errors.js')) as Errors;
  expect(copy.FerryError).not.toBe(FerryError);
  return copy;
}

describe('the error vocabulary of @ferry/oci', () => {
  const values = Object.values(ErrorCode);

  it('has no code twice', () => {
    expect(new Set(values).size).toBe(values.length);
    for (const value of values) expect(value).toMatch(/^ERR_[A-Z0-9_]+$/);
  });

  it.each(values)('%s: raised with its code, its name and its class', (code) => {
    const { error, class: errorClass } = table(errors)[code];
    expect(error.code).toBe(code);
    expect(error.name).toBe(errorClass.name);
    expect(error).toBeInstanceOf(errorClass);
    expect(error).toBeInstanceOf(FerryError);
    expect(error).toBeInstanceOf(Error);
    expect(error.message.length).toBeGreaterThan(0);
  });

  it.each(values)('%s: instanceof holds across two installed copies', async (code) => {
    const copy = await secondCopy();
    const fromCopy = table(copy)[code];
    const fromHere = table(errors)[code];
    // An error the other copy raised is recognised by this copy's class, and the other way round.
    expect(fromCopy.error).toBeInstanceOf(fromHere.class);
    expect(fromCopy.error).toBeInstanceOf(FerryError);
    expect(fromHere.error).toBeInstanceOf(fromCopy.class);
    expect(errors.isFerryError(fromCopy.error, code)).toBe(true);
  });

  it('branded classes do not recognise each other', () => {
    const mismatch = new DigestMismatchError('sha256:a', 'sha256:b');
    expect(mismatch).not.toBeInstanceOf(SizeMismatchError);
    expect(mismatch).not.toBeInstanceOf(NotFoundError);
    expect(new FerryError(ErrorCode.DigestMismatch, 'x')).not.toBeInstanceOf(DigestMismatchError);
    expect(new Error('plain')).not.toBeInstanceOf(FerryError);
    expect({ code: 'ERR_NOT_FOUND' }).not.toBeInstanceOf(FerryError);
    for (const value of [null, undefined, 'ERR_NOT_FOUND', 404]) {
      expect((value as unknown as object) instanceof FerryError).toBe(false);
    }
  });

  it('hasErrorBrand tests a brand by its kind, without the class', async () => {
    const copy = await secondCopy();
    expect(errors.hasErrorBrand(new copy.DigestMismatchError('a', 'b'), 'digest-mismatch')).toBe(
      true,
    );
    expect(errors.hasErrorBrand(new copy.DigestMismatchError('a', 'b'), 'ferry')).toBe(false);
    expect(errors.hasErrorBrand(new SizeMismatchError(1, 2), 'digest-mismatch')).toBe(false);
    expect(errors.hasErrorBrand(undefined, 'digest-mismatch')).toBe(false);
  });

  it('an unbranded subclass (an application’s) is checked by prototype', () => {
    class AppError extends FerryError {}
    expect(new AppError('ERR_APP', 'x')).toBeInstanceOf(AppError);
    expect(new AppError('ERR_APP', 'x')).toBeInstanceOf(FerryError);
    expect(new FerryError('ERR_APP', 'x')).not.toBeInstanceOf(AppError);
    expect(new AppError('ERR_APP', 'x').name).toBe('AppError');
  });

  it('isNotFound: a NotFoundError, from either copy, and an error marked with the not-found brand', async () => {
    const copy = await secondCopy();
    expect(isNotFound(new NotFoundError('gone'))).toBe(true);
    expect(isNotFound(new copy.NotFoundError('gone'))).toBe(true);
    // What a registry's 404 does: another class, carrying the brand.
    class Response404 extends FerryError {
      constructor() {
        super('ERR_REGISTRY_RESPONSE', 'GET …: 404 Not Found');
        Object.defineProperty(this, errors.errorBrand('not-found'), { value: true });
      }
    }
    expect(isNotFound(new Response404())).toBe(true);
    expect(new Response404()).toBeInstanceOf(NotFoundError);
    expect(isNotFound(new FerryError(ErrorCode.FileNotFound, 'x'))).toBe(false);
    expect(isNotFound(new InvalidDigestError('x', 'y'))).toBe(false);
    expect(isNotFound(new Error('not found'))).toBe(false);
  });

  it('keeps the structured facts', () => {
    const error = new InvalidReferenceError('a b', 'spaces');
    expect(error.input).toBe('a b');
    expect(new InvalidPlatformError('x', 'y').input).toBe('x');
    expect(new UnsupportedDigestAlgorithmError('md5').algorithm).toBe('md5');
    expect(new ManifestInvalidError('$.a', 'b').path).toBe('$.a');
    expect(new ManifestTooLargeError(5, 4).limit).toBe(4);
    expect(new UnsupportedMediaTypeError('x/y', 'z').mediaType).toBe('x/y');
  });
});
