import { ErrorCode, FerryError, hasErrorBrand, isNotFound } from '@ferry/oci';
import type { NetworkError, RegistryError, RegistryErrorCode } from '@ferry/registry';
import { CliErrorCode, type AnyErrorCode } from './errors.js';
import { describeFileError } from './file-errors.js';
import { oneLine } from './terminal-text.js';

/** The exit codes ORAS users script against. */
export const ExitCode = {
  Ok: 0,
  Failure: 1,
  Usage: 2,
} as const;

/** A command line that cannot run as written: exit 2. */
export class UsageError extends FerryError {
  constructor(message: string) {
    super(CliErrorCode.Usage, message);
  }
}

export interface Reported {
  exitCode: number;
  lines: string[];
}

// @ferry/registry's errors are recognised by their brands, not by importing the classes: loading
// the registry client (and undici) only to report an error would slow every start-up.
function isRegistryError(error: unknown): error is RegistryError {
  return hasErrorBrand(error, 'registry-response');
}

function isNetworkError(error: unknown): error is NetworkError {
  return hasErrorBrand(error, 'network');
}

/** Hints by code; the keys are checked against every package's code table. */
const codeHints: Partial<Record<AnyErrorCode, string>> = {
  [ErrorCode.InvalidReference]:
    'References look like registry/repository[:tag][@digest], e.g. localhost:5000/models/llama:v1',
  [ErrorCode.DigestMismatch]:
    'The content changed on the way or at the source; the file that failed was not written. Retry, and report it if it persists',
  [CliErrorCode.LoginRefused]:
    'check the username and password (or token); registries that issue tokens often want the token as the password with any username',
  [ErrorCode.ManifestTooLarge]: 'Registries refuse manifests over 4 MiB; split the artifact',
  ERR_INSECURE_REDIRECT:
    'ferry never downgrades https to http; ask the registry operator to fix the redirect',
};

const REGISTRY_RESPONSE: RegistryErrorCode = 'ERR_REGISTRY_RESPONSE';

function registryHint(error: RegistryError): string | undefined {
  // A refusal by the token server names its URL; the user logs in to the registry.
  const host = error.registry ?? error.host ?? 'the registry';
  if (error.status === 401) return `check your credentials, or log in: ferry login ${host}`;
  if (error.status === 403 || error.registryCode === 'DENIED') {
    return `the credentials for ${host} lack permission for this operation`;
  }
  if (error.registryCode === 'TOOMANYREQUESTS')
    return 'the registry is rate-limiting you; wait and retry, or log in for a higher limit';
  // Hints about tags and repositories only for the registry's own answer: a token server's URL
  // (its realm, from the registry's WWW-Authenticate) may be shaped like anything.
  if (error.code !== REGISTRY_RESPONSE) return undefined;
  // A HEAD's 404 has no body, so no registry code: the request says it was for a manifest.
  const missingManifest =
    error.registryCode === 'MANIFEST_UNKNOWN' ||
    (isNotFound(error) && error.kind === 'manifest' && !error.registryCode);
  if (missingManifest && error.repository && error.reference) {
    const what = error.reference.includes(':') ? 'the manifest' : 'the tag';
    return `${what} ${JSON.stringify(error.reference)} was not found in repository ${host}/${error.repository}; list tags with: ferry repo tags ${host}/${error.repository}`;
  }
  if (error.registryCode === 'NAME_UNKNOWN' && error.repository) {
    return `the repository ${host}/${error.repository} does not exist (or you may not see it)`;
  }
  return undefined;
}

/** Node's and OpenSSL's codes for a server certificate that could not be verified. */
const CERTIFICATE_UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The server wants a client certificate: the TLS alert, when it arrives before the hang-up. */
const CLIENT_CERTIFICATE_REQUIRED = new Set([
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
]);

/** What the TLS layer says when the server answered the handshake in plain HTTP. */
const NOT_TLS = new Set([
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
  'ERR_SSL_HTTP_REQUEST',
  'EPROTO',
]);

function networkHint(error: NetworkError): string | undefined {
  // A body that broke off after the registry answered: the connection itself was fine.
  if (error.answered) return undefined;
  const reason = error.reason ?? '';
  // A registry that requires a client certificate (TLS 1.3) hangs up right after the
  // handshake, or sends the `certificate required` alert.
  if (CLIENT_CERTIFICATE_REQUIRED.has(reason) || (error.secure && reason === 'UND_ERR_SOCKET')) {
    return 'the registry may require a client certificate: give --cert-file <cert.pem> --key-file <key.pem> (mutual TLS)';
  }
  if (CERTIFICATE_UNTRUSTED.has(reason)) {
    return 'trust the registry with --ca-file <ca.pem>, or skip verification with --insecure';
  }
  if (reason === 'ECONNREFUSED')
    return 'is the registry running and listening on that host and port?';
  if (reason === 'ENOTFOUND' || reason === 'EAI_AGAIN') {
    return `the host name ${error.host ?? ''} does not resolve: check the registry's name (and your DNS or proxy settings)`;
  }
  if (NOT_TLS.has(reason)) return 'the registry may speak plain HTTP: try --plain-http';
  return undefined;
}

function hintFor(error: unknown): string | undefined {
  // These hints quote fields read from URLs (host, repository, reference): one line each, with
  // any control character spelt out, so that no path can print a line that looks like ferry's.
  if (isRegistryError(error)) return oneLineOrNone(registryHint(error));
  if (isNetworkError(error)) return oneLineOrNone(networkHint(error));
  if (!(error instanceof FerryError)) return undefined;
  return codeHints[error.code as AnyErrorCode];
}

/**
 * The hint, or none if making it failed: errors are recognised by `Symbol.for` brands that any
 * code in the process can set, and the report of a failure must not fail itself.
 */
function safeHint(error: unknown): string | undefined {
  try {
    return hintFor(error);
  } catch {
    return undefined;
  }
}

function oneLineOrNone(hint: string | undefined): string | undefined {
  return hint === undefined ? undefined : oneLine(hint);
}

/** One line `Error: …`, plus a hint when there is one; usage errors exit 2, others 1. */
export function reportError(error: unknown): Reported {
  // Conflicting options found by the libraries are usage errors too.
  if (
    error instanceof UsageError ||
    (error instanceof FerryError && error.code === ErrorCode.InvalidOptions)
  ) {
    return {
      exitCode: ExitCode.Usage,
      lines: [`Error: ${error.message}`, "Run 'ferry --help' for usage."],
    };
  }
  // A reference that does not parse is the command line's fault: exit 2, with the syntax.
  if (error instanceof FerryError && error.code === ErrorCode.InvalidReference) {
    const hint = codeHints[ErrorCode.InvalidReference];
    return {
      exitCode: ExitCode.Usage,
      lines: [`Error: ${error.message.split('\n')[0]}`, ...(hint ? [`Hint: ${hint}`] : [])],
    };
  }
  const fileError = describeFileError(error);
  if (fileError) {
    return {
      exitCode: ExitCode.Failure,
      lines: [`Error: ${fileError.message}`, `Hint: ${fileError.hint}`],
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  const lines = [`Error: ${message.split('\n')[0]}`];
  const hint = safeHint(error);
  if (hint) lines.push(`Hint: ${hint}`);
  return { exitCode: ExitCode.Failure, lines };
}
