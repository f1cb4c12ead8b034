import { FerryError } from '@ferry/oci';
import { describeFileError } from './file-errors.js';

/** The exit codes ORAS users script against. */
export const ExitCode = {
  Ok: 0,
  Failure: 1,
  Usage: 2,
} as const;

/** A command line that cannot run as written: exit 2. */
export class UsageError extends FerryError {
  constructor(message: string) {
    super('ERR_USAGE', message);
  }
}

export interface Reported {
  exitCode: number;
  lines: string[];
}

/** Fields of @ferry/registry's RegistryError, read without importing it (keeps start-up fast). */
interface RegistryErrorLike {
  status: number;
  url: string;
  registry?: string | undefined;
  registryCode?: string | undefined;
}

function isRegistryError(error: unknown): error is FerryError & RegistryErrorLike {
  return (
    error instanceof FerryError && typeof (error as Partial<RegistryErrorLike>).status === 'number'
  );
}

/** `https://host/v2/<repo>/manifests/<ref>` → host, repository, kind and reference. */
function requestParts(url: string) {
  try {
    const parsed = new URL(url);
    const match = /^\/v2\/(.+)\/(manifests|blobs|tags)\/([^/]+)$/.exec(parsed.pathname);
    return { host: parsed.host, repository: match?.[1], kind: match?.[2], reference: match?.[3] };
  } catch {
    return undefined;
  }
}

const codeHints: Record<string, string> = {
  ERR_INVALID_REFERENCE:
    'References look like registry/repository[:tag][@digest], e.g. localhost:5000/models/llama:v1',
  ERR_DIGEST_MISMATCH:
    'The content changed on the way or at the source; the file that failed was not written. Retry, and report it if it persists',
  ERR_LOGIN_REFUSED:
    'check the username and password (or token); registries that issue tokens often want the token as the password with any username',
  ERR_MANIFEST_TOO_LARGE: 'Registries refuse manifests over 4 MiB; split the artifact',
  ERR_INSECURE_REDIRECT:
    'ferry never downgrades https to http; ask the registry operator to fix the redirect',
};

function hintFor(error: unknown): string | undefined {
  if (isRegistryError(error)) {
    const parts = requestParts(error.url);
    // A refusal by the token server names its URL; the user logs in to the registry.
    const host = error.registry ?? parts?.host ?? 'the registry';
    if (error.status === 401) return `check your credentials, or log in: ferry login ${host}`;
    if (error.status === 403 || error.registryCode === 'DENIED') {
      return `the credentials for ${host} lack permission for this operation`;
    }
    // A HEAD's 404 has no body, so no registry code: the path says it was a manifest.
    const missingManifest =
      error.registryCode === 'MANIFEST_UNKNOWN' ||
      (error.status === 404 && parts?.kind === 'manifests' && !error.registryCode);
    if (missingManifest && parts?.repository && parts.reference) {
      const what = parts.reference.includes(':') ? 'the manifest' : 'the tag';
      return `${what} ${JSON.stringify(parts.reference)} was not found in repository ${host}/${parts.repository}; list tags with: ferry repo tags ${host}/${parts.repository}`;
    }
    if (error.registryCode === 'NAME_UNKNOWN' && parts?.repository) {
      return `the repository ${host}/${parts.repository} does not exist (or you may not see it)`;
    }
    if (error.registryCode === 'TOOMANYREQUESTS')
      return 'the registry is rate-limiting you; wait and retry, or log in for a higher limit';
    return undefined;
  }
  if (!(error instanceof FerryError)) return undefined;
  if (error.code === 'ERR_NETWORK') {
    const message = error.message.toLowerCase();
    // A registry that requires a client certificate (TLS 1.3) hangs up right after the
    // handshake, or sends the `certificate required` alert.
    if (
      message.includes('certificate required') ||
      (message.includes(' https://') && message.includes('other side closed'))
    ) {
      return 'the registry may require a client certificate: give --cert-file <cert.pem> --key-file <key.pem> (mutual TLS)';
    }
    if (
      message.includes('certificate') ||
      message.includes('self-signed') ||
      message.includes('self signed')
    ) {
      return 'trust the registry with --ca-file <ca.pem>, or skip verification with --insecure';
    }
    if (message.includes('econnrefused'))
      return 'is the registry running and listening on that host and port?';
    if (message.includes('wrong version number') || message.includes('eproto')) {
      return 'the registry may speak plain HTTP: try --plain-http';
    }
  }
  return codeHints[error.code];
}

/** One line `Error: …`, plus a hint when there is one; usage errors exit 2, others 1. */
export function reportError(error: unknown): Reported {
  // Conflicting options found by the libraries are usage errors too.
  if (
    error instanceof UsageError ||
    (error instanceof FerryError && error.code === 'ERR_INVALID_OPTIONS')
  ) {
    return {
      exitCode: ExitCode.Usage,
      lines: [`Error: ${error.message}`, "Run 'ferry --help' for usage."],
    };
  }
  // A reference that does not parse is the command line's fault: exit 2, with the syntax.
  if (error instanceof FerryError && error.code === 'ERR_INVALID_REFERENCE') {
    const hint = codeHints[error.code];
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
  const hint = hintFor(error);
  if (hint) lines.push(`Hint: ${hint}`);
  return { exitCode: ExitCode.Failure, lines };
}
