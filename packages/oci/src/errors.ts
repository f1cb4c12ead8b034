/**
 * Every error ferry raises on purpose is a {@link FerryError} with a stable string `code`, the way
 * undici and Node name theirs: callers branch on `code`, never on message text, and the CLI maps
 * codes to exit codes and hints. Subclasses carry the structured facts a caller needs.
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
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class FerryError extends Error {
  /** A stable identifier such as `ERR_DIGEST_MISMATCH`; other packages add their own. */
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

export class InvalidReferenceError extends FerryError {
  constructor(
    readonly input: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(ErrorCode.InvalidReference, `invalid reference ${quote(input)}: ${reason}`, options);
  }
}

export class InvalidDigestError extends FerryError {
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(ErrorCode.InvalidDigest, `invalid digest ${quote(input)}: ${reason}`);
  }
}

export class UnsupportedDigestAlgorithmError extends FerryError {
  constructor(readonly algorithm: string) {
    super(
      ErrorCode.UnsupportedDigestAlgorithm,
      `unsupported digest algorithm ${quote(algorithm)}: ferry supports sha256 and sha512`,
    );
  }
}

/** The bytes read do not hash to the digest they were asked for: never use them. */
export class DigestMismatchError extends FerryError {
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
  constructor(
    readonly path: string,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(ErrorCode.ManifestInvalid, `invalid manifest: ${path}: ${problem}`, options);
  }
}

export class ManifestTooLargeError extends FerryError {
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
  constructor(
    readonly mediaType: string,
    detail: string,
  ) {
    super(ErrorCode.UnsupportedMediaType, `unsupported media type ${quote(mediaType)}: ${detail}`);
  }
}

export class InvalidPlatformError extends FerryError {
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
