/**
 * ORAS's remote options: how to reach a registry (-H, --resolve, mutual TLS), whose credentials
 * to present, TLS, and --oci-layout for commands that also read layouts; cp's `--from-…`/`--to-…`
 * of each end. The parsers that turn them into RegistryOptions are in ../remote-flags.ts.
 */
import { type ArgsOf, list, optionGroup, prefixed } from './group.js';

const REMOTE = 'Remote options:';
export const DISTRIBUTION_SPECS = ['v1.1-referrers-api', 'v1.1-referrers-tag'] as const;
type Prefix = '' | 'from-' | 'to-';
const WHOSE = { '': '', 'from-': 'source ', 'to-': 'destination ' } as const;

/** -H, --resolve, --cert-file and --key-file (unprefixed names; `prefix` only words the help). */
function connectionFlags(prefix: Prefix) {
  const whose = WHOSE[prefix];
  // Not `array: true`: that would swallow the positional arguments after the flag. A flag
  // given twice arrives as an array anyway; `list` makes it one either way.
  return {
    header: {
      ...(prefix === '' ? { alias: 'H' } : {}),
      type: 'string',
      describe: `Add a header to every ${whose}registry request, 'Name: value' (repeatable; never sent to another host)`,
      group: REMOTE,
      coerce: list,
    },
    resolve: {
      type: 'string',
      describe: `Connect to another address for a ${whose}registry host: host:port:address[:port] (repeatable)`,
      group: REMOTE,
      coerce: list,
    },
    'cert-file': {
      type: 'string',
      describe: `Client certificate (PEM) for mutual TLS with the ${whose}registry (with --${prefix}key-file)`,
      group: REMOTE,
    },
    'key-file': {
      type: 'string',
      describe: `Private key (PEM) of --${prefix}cert-file`,
      group: REMOTE,
    },
  } as const;
}

function distributionSpecFlag(prefix: Prefix) {
  return {
    'distribution-spec': {
      choices: DISTRIBUTION_SPECS,
      describe: `Referrers of the ${WHOSE[prefix]}registry through the referrers API only, or the sha256-<hex> tag schema only [default: the API when the registry has it, else the tag]`,
      group: REMOTE,
    },
  } as const;
}

/** Every remote command: connection, credentials, TLS, chunked uploads and tracing. */
export const remoteOptions = optionGroup({
  ...connectionFlags(''),
  username: { alias: 'u', type: 'string', describe: 'Registry username', group: REMOTE },
  password: {
    alias: 'p',
    type: 'string',
    describe: 'Registry password or identity token (prefer --password-stdin)',
    group: REMOTE,
  },
  'password-stdin': { type: 'boolean', describe: 'Read the password from stdin', group: REMOTE },
  'identity-token': {
    type: 'string',
    describe: 'Registry identity (OAuth2 refresh) token (prefer --identity-token-stdin)',
    group: REMOTE,
  },
  'identity-token-stdin': {
    type: 'boolean',
    describe: 'Read the identity token from stdin',
    group: REMOTE,
  },
  'registry-config': {
    type: 'string',
    describe: 'Path to a Docker config.json for credentials (default: $DOCKER_CONFIG/config.json)',
    group: REMOTE,
  },
  'plain-http': {
    type: 'boolean',
    describe: 'Use plain HTTP (automatic for localhost and 127.0.0.1)',
    group: REMOTE,
  },
  insecure: { type: 'boolean', describe: 'Skip TLS certificate verification', group: REMOTE },
  'ca-file': { type: 'string', describe: 'Trust this CA certificate (PEM)', group: REMOTE },
  'chunk-size': {
    type: 'string',
    describe:
      'Upload blobs larger than this in PATCH chunks of this size (e.g. 50MiB), for proxies that limit request bodies',
    group: REMOTE,
  },
  debug: {
    alias: 'd',
    type: 'boolean',
    describe: 'Trace HTTP requests on stderr (credentials redacted)',
    group: REMOTE,
  },
});
export type RemoteArgs = ArgsOf<typeof remoteOptions>;

/** Commands that also read and write OCI layout directories. */
export const ociLayoutOption = optionGroup({
  'oci-layout': {
    type: 'boolean',
    describe: 'The reference is an OCI image layout directory: <dir>[:<tag>|@<digest>]',
    group: REMOTE,
  },
});
export type OciLayoutArgs = ArgsOf<typeof ociLayoutOption>;

/** --distribution-spec: how referrers are written and listed (ORAS's option values). */
export const distributionSpecOption = optionGroup(distributionSpecFlag(''));
export type DistributionSpecArgs = ArgsOf<typeof distributionSpecOption>;

/** cp's connection and TLS flags of one end: --from-header, --to-ca-file, …. */
function endOptions<P extends 'from-' | 'to-'>(prefix: P) {
  const whose = WHOSE[prefix];
  return optionGroup(
    prefixed(prefix, {
      ...connectionFlags(prefix),
      ...distributionSpecFlag(prefix),
      'ca-file': {
        type: 'string',
        describe: `Trust this CA certificate (PEM) for the ${whose}registry`,
        group: REMOTE,
      },
      insecure: {
        type: 'boolean',
        describe: `Skip TLS certificate verification for the ${whose}registry`,
        group: REMOTE,
      },
      'plain-http': {
        type: 'boolean',
        describe: `Use plain HTTP for the ${whose}registry`,
        group: REMOTE,
      },
    } as const),
  );
}
export const sourceOptions = endOptions('from-');
export const destinationOptions = endOptions('to-');
export type EndArgs = ArgsOf<typeof sourceOptions> & ArgsOf<typeof destinationOptions>;

/** cp's credentials of each end (the plain -u/-p/--password-stdin mean the destination). */
export const endCredentialOptions = optionGroup({
  'from-username': { type: 'string', describe: 'Source registry username', group: REMOTE },
  'from-password': {
    type: 'string',
    describe: 'Source registry password or identity token (prefer --from-password-stdin)',
    group: REMOTE,
  },
  'from-password-stdin': {
    type: 'boolean',
    describe: 'Read the source password from stdin',
    group: REMOTE,
  },
  'to-username': {
    type: 'string',
    describe: 'Destination registry username (-u means the same)',
    group: REMOTE,
  },
  'to-password': {
    type: 'string',
    describe: 'Destination registry password or identity token (-p means the same)',
    group: REMOTE,
  },
  'to-password-stdin': {
    type: 'boolean',
    describe: 'Read the destination password from stdin (--password-stdin means the same)',
    group: REMOTE,
  },
});
export type EndCredentialArgs = ArgsOf<typeof endCredentialOptions>;

/** `8MiB`, `50MB`, `1048576` → bytes (--chunk-size); NaN for anything else, undefined for undefined. */
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
