/**
 * The flags every command that talks to a registry shares, with ORAS's names, and their types.
 * Builders only: nothing here imports the heavy packages, so `ferry --help` stays fast.
 */
import type { Argv } from 'yargs';

export interface RemoteArgs {
  username?: string | undefined;
  password?: string | undefined;
  'password-stdin'?: boolean | undefined;
  'registry-config'?: string | undefined;
  'plain-http'?: boolean | undefined;
  insecure?: boolean | undefined;
  'ca-file'?: string | undefined;
  'oci-layout'?: boolean | undefined;
  debug?: boolean | undefined;
}

export interface OutputArgs {
  format: 'text' | 'json';
  'no-tty'?: boolean | undefined;
  tty?: boolean | undefined;
}

export type CommonArgs = RemoteArgs & OutputArgs;

export function withRemoteOptions<T>(yargs: Argv<T>, options: { layout?: boolean } = {}) {
  const built = yargs
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
  });
}
