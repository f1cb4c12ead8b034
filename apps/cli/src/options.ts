/**
 * The flags every command that talks to a registry shares, with ORAS's names, and their types.
 * Builders only: nothing here imports the heavy packages, so `ferry --help` stays fast.
 */
import type { Argv } from 'yargs';
import { UsageError } from './exit.js';
import { withConnectionOptions, type ConnectionArgs } from './remote-flags.js';

export interface RemoteArgs extends ConnectionArgs {
  username?: string | undefined;
  password?: string | undefined;
  'password-stdin'?: boolean | undefined;
  'identity-token'?: string | undefined;
  'identity-token-stdin'?: boolean | undefined;
  'registry-config'?: string | undefined;
  'plain-http'?: boolean | undefined;
  insecure?: boolean | undefined;
  'ca-file'?: string | undefined;
  'oci-layout'?: boolean | undefined;
  debug?: boolean | undefined;
  'chunk-size'?: string | undefined;
  /** cp only: the source's and the destination's own credentials (ORAS's names). */
  'from-username'?: string | undefined;
  'from-password'?: string | undefined;
  'from-password-stdin'?: boolean | undefined;
  'to-username'?: string | undefined;
  'to-password'?: string | undefined;
  'to-password-stdin'?: boolean | undefined;
}

export interface OutputArgs {
  format: 'text' | 'json';
  'no-tty'?: boolean | undefined;
  tty?: boolean | undefined;
}

export type CommonArgs = RemoteArgs & OutputArgs;

export function withRemoteOptions<T>(yargs: Argv<T>, options: { layout?: boolean } = {}) {
  const built = withConnectionOptions(yargs)
    .option('username', {
      alias: 'u',
      type: 'string',
      describe: 'Registry username',
      group: 'Remote options:',
    })
    .option('password', {
      alias: 'p',
      type: 'string',
      describe: 'Registry password or identity token (prefer --password-stdin)',
      group: 'Remote options:',
    })
    .option('password-stdin', {
      type: 'boolean',
      describe: 'Read the password from stdin',
      group: 'Remote options:',
    })
    .option('identity-token', {
      type: 'string',
      describe: 'Registry identity (OAuth2 refresh) token (prefer --identity-token-stdin)',
      group: 'Remote options:',
    })
    .option('identity-token-stdin', {
      type: 'boolean',
      describe: 'Read the identity token from stdin',
      group: 'Remote options:',
    })
    .option('registry-config', {
      type: 'string',
      describe:
        'Path to a Docker config.json for credentials (default: $DOCKER_CONFIG/config.json)',
      group: 'Remote options:',
    })
    .option('plain-http', {
      type: 'boolean',
      describe: 'Use plain HTTP (automatic for localhost and 127.0.0.1)',
      group: 'Remote options:',
    })
    .option('insecure', {
      type: 'boolean',
      describe: 'Skip TLS certificate verification',
      group: 'Remote options:',
    })
    .option('ca-file', {
      type: 'string',
      describe: 'Trust this CA certificate (PEM)',
      group: 'Remote options:',
    })
    .option('chunk-size', {
      type: 'string',
      describe:
        'Upload blobs larger than this in PATCH chunks of this size (e.g. 50MiB), for proxies that limit request bodies',
      group: 'Remote options:',
    })
    .option('debug', {
      alias: 'd',
      type: 'boolean',
      describe: 'Trace HTTP requests on stderr (credentials redacted)',
      group: 'Remote options:',
    });
  return options.layout === false
    ? built
    : built.option('oci-layout', {
        type: 'boolean',
        describe: 'The reference is an OCI image layout directory: <dir>[:<tag>|@<digest>]',
        group: 'Remote options:',
      });
}

export function withOutputOptions<T>(yargs: Argv<T>) {
  return yargs
    .option('format', {
      choices: ['text', 'json'] as const,
      default: 'text' as const,
      describe: 'Output format',
      group: 'Output options:',
    })
    .option('tty', {
      type: 'boolean',
      default: true,
      describe: 'Show progress bars when stderr is a terminal (--no-tty to disable)',
      group: 'Output options:',
    });
}

export function withConcurrency<T>(yargs: Argv<T>, fallback = 5) {
  return yargs.option('concurrency', {
    type: 'number',
    default: fallback,
    describe: 'Blobs transferred at once',
    coerce: (value: number) => transferLimits(value).concurrency,
  });
}

/**
 * pull, cp, blob fetch and bottle pull: byte ranges of one large blob fetched at once. Named
 * apart from --concurrency (blobs at once, as in ORAS); containerd calls it
 * max_concurrent_downloads_per_layer.
 */
export function withParallelDownloads<T>(yargs: Argv<T>) {
  return yargs.option('parallel', {
    type: 'number',
    describe:
      'Connections per blob of 64 MiB or more, each fetching a byte range (1 turns it off) [default: 4; 1 for a registry on this machine]',
    coerce: (value: number) => parallelDownloads(value),
  });
}

/** A `--parallel` value: a whole number from 1 to 16. */
export function parallelDownloads(given: number): number {
  if (!Number.isInteger(given) || given < 1 || given > 16) {
    throw new UsageError(
      `--parallel ${given}: give a whole number of connections from 1 to 16, like 4 (1 turns parallel downloads off)`,
    );
  }
  return given;
}

/** push, pull and attach: `--concurrency` without a yargs default, so that "not given" is seen. */
export function withTransferConcurrency<T>(yargs: Argv<T>) {
  return yargs.option('concurrency', {
    type: 'number',
    describe: `Blobs transferred at once [default: ${DEFAULT_CONCURRENCY}, and up to ${SMALL_BLOB_CONCURRENCY} for blobs under 1 MiB]`,
  });
}

export const DEFAULT_CONCURRENCY = 5;
/**
 * Small blobs are bound by round trips, not bytes: 1,000 × 4 KiB pulled from registry:2 in 3.3 s
 * at 16 at once against 3.9 s at 5 (pushed: 7.4 against 8.0 s), with no extra memory to speak of.
 * An explicit --concurrency applies to every blob.
 */
export const SMALL_BLOB_CONCURRENCY = 16;
/**
 * A pull without --concurrency fetches this many small blobs at once: while some wait for the
 * registry, others are being written and fsync'ed. 1,000 × 4 KiB at 32 took 6–8% less time than
 * at 16 (medians of two interleaved loops, faster in 7 rounds of 9; BENCHMARKS.md, run G). Push
 * keeps 16: its existence checks and eager uploads are tuned to that many workers.
 */
export const SMALL_PULL_CONCURRENCY = 32;

export interface TransferLimits {
  /** Blobs of 1 MiB or more in flight at once. */
  concurrency: number;
  /** Blobs in flight at once in all, small ones included (at least `concurrency`). */
  total: number;
}

/** The limits for a `--concurrency` that may not have been given; refuses anything but 1, 2, …. */
export function transferLimits(given: number | undefined): TransferLimits {
  if (given === undefined) {
    return { concurrency: DEFAULT_CONCURRENCY, total: SMALL_BLOB_CONCURRENCY };
  }
  if (!Number.isInteger(given) || given < 1) {
    throw new UsageError(`--concurrency ${given}: give a whole number of at least 1, like 5`);
  }
  return { concurrency: given, total: given };
}

/** `8MiB`, `50MB`, `1048576` → bytes; undefined for undefined. */
export function parseSize(input: string | undefined): number | undefined {
  if (input === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?$/i.exec(input.trim());
  if (!match) return Number.NaN;
  const units: Record<string, number> = {
    b: 1,
    k: 1024,
    kb: 1000,
    kib: 1024,
    m: 1024 ** 2,
    mb: 1000 ** 2,
    mib: 1024 ** 2,
    g: 1024 ** 3,
    gb: 1000 ** 3,
    gib: 1024 ** 3,
  };
  return Math.floor(Number(match[1]) * (units[(match[2] ?? 'b').toLowerCase()] ?? 1));
}
