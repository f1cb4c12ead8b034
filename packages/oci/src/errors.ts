/**
 * Every error ferry raises on purpose is a {@link FerryError} with a stable string `code`, the way
 * undici and Node name theirs: callers branch on `code`, never on message text, and the CLI maps
 * codes to exit codes and hints. Subclasses carry the structured facts a caller needs.
 *
 * Each package keeps one closed table of the codes it adds (this one, `RegistryErrorCode`,
 * `ArtifactErrorCode`, `HomebrewErrorCode`, `ModelErrorCode`); a code more than one package raises
 * lives in the lowest package that raises it, so no value appears in two tables.
 */

/** The stable codes. Adding one is fine; renaming one is a breaking change. */
export const ErrorCode = {
  InvalidReference: 'ERR_INVALID_REFERENCE',
  InvalidDigest: 'ERR_INVALID_DIGEST',
  UnsupportedDigestAlgorithm: 'ERR_UNSUPPORTED_DIGEST_ALGORITHM',
  DigestMismatch: 'ERR_DIGEST_MISMATCH',
  SizeMismatch: 'ERR_SIZE_MISMATCH',
  ManifestInvalid: 'ERR_MANIFEST_INVALID',
  ManifestTooLarge: 'ERR_MANIFEST_TOO_LARGE',
  UnsupportedMediaType: 'ERR_UNSUPPORTED_MEDIA_TYPE',
  InvalidPlatform: 'ERR_INVALID_PLATFORM',
  // Shared by every package that has targets, files or options:
  /** A manifest, blob or tag is not in the target (a layout's miss or a registry's 404). */
  NotFound: 'ERR_NOT_FOUND',
  /** A local file the user named does not exist. */
  FileNotFound: 'ERR_FILE_NOT_FOUND',
  /** Writing would replace a file that is already there. */
  FileExists: 'ERR_FILE_EXISTS',
  /** Options that contradict each other or cannot work: the CLI treats it as a usage error. */
  InvalidOptions: 'ERR_INVALID_OPTIONS',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The brand on each class's constructor: which `Symbol.for` key its instances carry. */
const kBrand = Symbol.for('ferry.error.brand');
const kFerryError = Symbol.for('ferry.error');

type Branded = { [kBrand]?: symbol };

/**
 * Marks `errorClass` so that `instanceof` recognises its instances by a `Symbol.for` key rather
 * than by prototype: an error made by a second installed copy of a package (two versions in one
 * node_modules) still passes `instanceof` against the first copy's class, as undici does. Call it
 * once per class, in a `static {}` block; `kind` becomes `Symbol.for('ferry.error.<kind>')`.
 */
export function brandError(
  errorClass: abstract new (...args: never[]) => Error,
  kind: string,
): void {
  const key = errorBrand(kind);
  Object.defineProperty(errorClass, kBrand, { value: key });
  Object.defineProperty(errorClass.prototype, key, { value: true });
}

/** The `Symbol.for` key an instance of a class branded `kind` carries. */
export function errorBrand(kind: string): symbol {
  return Symbol.for(`ferry.error.${kind}`);
}

/**
 * Whether `value` carries the brand `kind`: `instanceof` without importing the class, for code
 * that must not load the package that defines it (the CLI's error report and undici).
 */
export function hasErrorBrand(value: unknown, kind: string): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[errorBrand(kind)] === true
  );
}

export class FerryError extends Error {
  static {
    Object.defineProperty(this, kBrand, { value: kFerryError });
    Object.defineProperty(this.prototype, kFerryError, { value: true });
  }

  /**
   * `instanceof` checks the class's `Symbol.for` brand, so it holds across two copies of a
   * package; a subclass without a brand of its own (an application's) is checked by prototype.
   */
  static override [Symbol.hasInstance]<T>(
    this: abstract new (...args: never[]) => T,
    value: unknown,
  ): value is T {
    const key = Object.hasOwn(this, kBrand) ? (this as Branded)[kBrand] : undefined;
    if (key === undefined) return Function.prototype[Symbol.hasInstance].call(this, value);
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[key] === true
    );
  }

  /** A stable identifier such as `ERR_DIGEST_MISMATCH`: one of a package's code tables. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  override get name(): string {
    return this.constructor.name;
  }
}

export function isFerryError(value: unknown, code?: string): value is FerryError {
  return value instanceof FerryError && (code === undefined || value.code === code);
}

/**
 * What a target raises when it has no such manifest, blob or tag — an OCI layout and a registry
 * alike (oras-go's `errdef.ErrNotFound`). A registry's 404 is a `RegistryError` that carries this
 * class's brand too, so `error instanceof NotFoundError` (or {@link isNotFound}) is the one test.
 */
export class NotFoundError extends FerryError {
  static {
    brandError(this, 'not-found');
  }

  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.NotFound, message, options);
  }
}

/** Whether a target said "not there": a {@link NotFoundError}, or a registry's 404. */
export function isNotFound(error: unknown): boolean {
  return error instanceof NotFoundError || isFerryError(error, ErrorCode.NotFound);
}

export class InvalidReferenceError extends FerryError {
  static {
    brandError(this, 'invalid-reference');
  }

  constructor(
    readonly input: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(ErrorCode.InvalidReference, `invalid reference ${quote(input)}: ${reason}`, options);
  }
}

export class InvalidDigestError extends FerryError {
  static {
    brandError(this, 'invalid-digest');
  }

  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(ErrorCode.InvalidDigest, `invalid digest ${quote(input)}: ${reason}`);
  }
}

export class UnsupportedDigestAlgorithmError extends FerryError {
  static {
    brandError(this, 'unsupported-digest-algorithm');
  }

  constructor(readonly algorithm: string) {
    super(
      ErrorCode.UnsupportedDigestAlgorithm,
      `unsupported digest algorithm ${quote(algorithm)}: ferry supports sha256 and sha512`,
    );
  }
}

/** The bytes read do not hash to the digest they were asked for: never use them. */
export class DigestMismatchError extends FerryError {
  static {
    brandError(this, 'digest-mismatch');
  }

  constructor(
    readonly expected: string,
    readonly actual: string,
    readonly subject?: string,
  ) {
    super(
      ErrorCode.DigestMismatch,
      `digest mismatch${subject ? ` for ${subject}` : ''}: expected ${expected}, got ${actual}`,
    );
  }
}

export class SizeMismatchError extends FerryError {
  static {
    brandError(this, 'size-mismatch');
  }

  constructor(
    readonly expected: number,
    readonly actual: number,
    readonly subject?: string,
  ) {
    super(
      ErrorCode.SizeMismatch,
      `size mismatch${subject ? ` for ${subject}` : ''}: expected ${expected} bytes, got ${actual}`,
    );
  }
}

/** Untrusted manifest JSON failed validation; `path` is the JSON path of the first problem. */
export class ManifestInvalidError extends FerryError {
  static {
    brandError(this, 'manifest-invalid');
  }

  constructor(
    readonly path: string,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(ErrorCode.ManifestInvalid, `invalid manifest: ${path}: ${problem}`, options);
  }
}

export class ManifestTooLargeError extends FerryError {
  static {
    brandError(this, 'manifest-too-large');
  }

  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(
      ErrorCode.ManifestTooLarge,
      `manifest of ${size} bytes exceeds the ${limit}-byte limit (4 MiB) that registries enforce`,
    );
  }
}

export class UnsupportedMediaTypeError extends FerryError {
  static {
    brandError(this, 'unsupported-media-type');
  }

  constructor(
    readonly mediaType: string,
    detail: string,
  ) {
    super(ErrorCode.UnsupportedMediaType, `unsupported media type ${quote(mediaType)}: ${detail}`);
  }
}

export class InvalidPlatformError extends FerryError {
  static {
    brandError(this, 'invalid-platform');
  }

  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(
      ErrorCode.InvalidPlatform,
      `invalid platform ${quote(input)}: ${reason} (expected os/arch[/variant][:os.version], e.g. linux/arm64/v8)`,
    );
  }
}

/** Quotes user input for messages, cut short so that a hostile megabyte never fills a terminal. */
export function quote(input: string, max = 200): string {
  const shown = input.length > max ? `${input.slice(0, max)}…` : input;
  return JSON.stringify(shown);
}
