import { FerryError } from '@ferry/oci';

/** The exit codes ORAS users script against. */
export const ExitCode = {
  Ok: 0,
  Failure: 1,
  Usage: 2,
} as const;

/** A command line that cannot run as written: exit 2, with yargs' message and usage. */
export class UsageError extends FerryError {
  constructor(message: string) {
    super('ERR_USAGE', message);
  }
}

/** Hints that tell the user what to do next, keyed by error code. */
const hints: Record<string, string> = {
  ERR_INVALID_REFERENCE:
    'References look like registry/repository[:tag][@digest], e.g. localhost:5000/models/llama:v1',
  ERR_DIGEST_MISMATCH:
    'The content changed on the way or at the source; nothing was written. Retry, and report it if it persists',
  ERR_MANIFEST_TOO_LARGE: 'Registries refuse manifests over 4 MiB; split the artifact',
};

export interface Reported {
  exitCode: number;
  lines: string[];
}

/** One line `Error: …`, plus a hint when there is one; usage errors exit 2, others 1. */
export function reportError(error: unknown): Reported {
  if (error instanceof UsageError) {
    return {
      exitCode: ExitCode.Usage,
      lines: [`Error: ${error.message}`, "Run 'ferry --help' for usage."],
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  const lines = [`Error: ${message.split('\n')[0]}`];
  const hint = error instanceof FerryError ? hints[error.code] : undefined;
  if (hint) lines.push(`Hint: ${hint}`);
  return { exitCode: ExitCode.Failure, lines };
}
