/**
 * The stable error codes of @ferry/homebrew. Every error raised on purpose is a `FerryError`
 * (from @ferry/oci) carrying one of these codes; callers branch on `code`, never on the message.
 */
export const HomebrewErrorCode = {
  InvalidFormulaName: 'ERR_INVALID_FORMULA_NAME',
  InvalidTapName: 'ERR_INVALID_TAP_NAME',
  InvalidVersion: 'ERR_INVALID_BOTTLE_VERSION',
  InvalidBottleTag: 'ERR_INVALID_BOTTLE_TAG',
  UnsupportedHost: 'ERR_UNSUPPORTED_HOST',
  BottleNotFound: 'ERR_BOTTLE_NOT_FOUND',
  BottleExists: 'ERR_BOTTLE_EXISTS',
  IndexTooLarge: 'ERR_INDEX_TOO_LARGE',
  InvalidBottle: 'ERR_INVALID_BOTTLE',
  /** A broken invariant inside ferry: a bug to report. */
  Internal: 'ERR_INTERNAL',
} as const;

export type HomebrewErrorCode = (typeof HomebrewErrorCode)[keyof typeof HomebrewErrorCode];
