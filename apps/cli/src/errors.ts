/**
 * The error codes the CLI itself raises, beside the libraries' (@ferry/oci's shared ones,
 * RegistryErrorCode, CredentialErrorCode, ArtifactErrorCode, HomebrewErrorCode, ModelErrorCode),
 * whose codes it reuses rather than repeats. exit.ts maps codes to exit codes and hints.
 */
import type { ErrorCode } from '@ferry/oci';
import type { ArtifactErrorCode } from '@ferry/artifact';
import type { HomebrewErrorCode } from '@ferry/homebrew';
import type { ModelErrorCode } from '@ferry/model';
import type { CredentialErrorCode, RegistryErrorCode } from '@ferry/registry';

export const CliErrorCode = {
  /** A command line that cannot run as written (exit 2). */
  Usage: 'ERR_USAGE',
  /** The registry refused the credentials given to `ferry login`; nothing was stored. */
  LoginRefused: 'ERR_LOGIN_REFUSED',
  /** A manifest to push references blobs the target does not have. */
  MissingBlobs: 'ERR_MISSING_BLOBS',
  /** The target cannot do this (deleting from a target that does not support it). */
  Unsupported: 'ERR_UNSUPPORTED',
  /** A referrers walk found more than it is allowed to gather. */
  TooManyReferrers: 'ERR_TOO_MANY_REFERRERS',
  /** A reference that had to name an index names something else. */
  NotAnIndex: 'ERR_NOT_AN_INDEX',
  /** An output directory the user cannot write in. */
  Permission: 'ERR_PERMISSION',
} as const;

export type CliErrorCode = (typeof CliErrorCode)[keyof typeof CliErrorCode];

/** Every code any ferry error can carry: the union of each package's table. */
export type AnyErrorCode =
  | ErrorCode
  | RegistryErrorCode
  | CredentialErrorCode
  | ArtifactErrorCode
  | HomebrewErrorCode
  | ModelErrorCode
  | CliErrorCode;
