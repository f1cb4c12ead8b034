/**
 * Turns parsed flags into the objects commands work with: a credential provider, a Registry
 * client per host, and targets (a registry repository or an OCI layout directory) for references.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { OciLayoutTarget, RegistryTarget, type Target } from '@ferry/artifact';
import { FerryError, isDigest, isValidTag, parseReference } from '@ferry/oci';
import {
  CredentialErrorCode,
  CredentialStore,
  Registry,
  type Credential,
  type CredentialProvider,
  type RegistryOptions,
} from '@ferry/registry';
import type { Io } from './io.js';
import {
  SMALL_PULL_CONCURRENCY,
  type ParallelArgs,
  type TransferConcurrencyArgs,
} from './options/concurrency.js';
import type { FormatArgs, ReferrersFormatArgs } from './options/format.js';
import {
  parseSize,
  type DistributionSpecArgs,
  type EndArgs,
  type EndCredentialArgs,
  type OciLayoutArgs,
  type RemoteArgs,
} from './options/remote.js';
import { UsageError } from './exit.js';
import { givenIdentityToken } from './identity-token.js';
import { connectionKey, connectionOptions } from './remote-flags.js';
import { version } from './version.js';

/**
 * The flags a context reads, from the groups that declare them: each command has some of them
 * (cache prune none of the remote ones; only cp the `--from-…`/`--to-…` ones).
 */
export type ContextArgs = Partial<
  RemoteArgs &
    OciLayoutArgs &
    DistributionSpecArgs &
    EndArgs &
    EndCredentialArgs &
    TransferConcurrencyArgs &
    ParallelArgs
> &
  Pick<FormatArgs | ReferrersFormatArgs, 'format'> &
  Partial<Pick<FormatArgs, 'tty'>>;

export interface Context {
  io: Io;
  args: ContextArgs;
  /** Reads all of stdin (for --password-stdin and `-` file arguments). */
  readStdin(): Promise<string>;
}

export interface TargetRef {
  target: Target;
  /** The tag or digest named, if any. */
  reference: string | undefined;
  /** Extra tags from `ref:tag1,tag2`. */
  extraTags: string[];
  /** What to print: `localhost:5000/a/b:v1` or `./layout:v1`. */
  display: string;
  /** The repository or layout without tag or digest: `localhost:5000/a/b` or `./layout`. */
  base: string;
  kind: 'registry' | 'oci-layout';
  /** The registry host (registry targets). */
  host?: string;
}

const registries = new Map<string, Registry>();
const explicitCredentials = new Map<CredentialRole, Promise<Credential | undefined>>();

/**
 * Whose flag credentials a registry gets: `default` is -u/-p/--password-stdin; `cp` gives its
 * source `from` (--from-username/--from-password/--from-password-stdin) and its destination `to`
 * (--to-…, or the plain flags, which mean the destination as in ORAS).
 */
export type CredentialRole = 'default' | 'from' | 'to';

interface CredentialFlags {
  username: string | undefined;
  password: string | undefined;
  passwordStdin: boolean;
  /** How the flags are spelt, for messages. */
  names: { username: string; password: string; stdin: string };
}

function flagsFor(args: ContextArgs, role: CredentialRole): CredentialFlags {
  const plain: CredentialFlags = {
    username: args.username,
    password: args.password,
    passwordStdin: args['password-stdin'] === true,
    names: { username: '--username', password: '--password', stdin: '--password-stdin' },
  };
  if (role === 'default') return plain;
  const prefixed: CredentialFlags = {
    username: args[`${role}-username`],
    password: args[`${role}-password`],
    passwordStdin: args[`${role}-password-stdin`] === true,
    names: {
      username: `--${role}-username`,
      password: `--${role}-password`,
      stdin: `--${role}-password-stdin`,
    },
  };
  if (role === 'from' || !given(plain)) return prefixed;
  if (given(prefixed)) {
    throw new UsageError(
      `give the destination's credentials once: with --to-username/--to-password/--to-password-stdin or with -u/-p/--password-stdin, not both`,
    );
  }
  return plain;
}

function given(flags: CredentialFlags): boolean {
  return flags.username !== undefined || flags.password !== undefined || flags.passwordStdin;
}

/**
 * Credentials for the registry at `registryHost()`: the flags of `role` (if any) for that host
 * alone, else Docker's config.json (or --registry-config). Flag credentials are never offered to
 * another host, whatever asks.
 */
export function credentialsFor(
  context: Context,
  role: CredentialRole | undefined,
  registryHost: () => string,
): CredentialProvider {
  const { args } = context;
  const store = new CredentialStore(
    args['registry-config'] ? { configPath: args['registry-config'] } : {},
  );
  return async (host) => {
    if (role !== undefined && host === registryHost()) {
      let explicitCredential = explicitCredentials.get(role);
      if (!explicitCredential) {
        explicitCredential = explicit(context, role);
        explicitCredentials.set(role, explicitCredential);
      }
      const given = await explicitCredential;
      if (given) return given;
    }
    try {
      return await store.get(host);
    } catch (error) {
      // A broken credential helper should not stop anonymous pulls: say so and go on without.
      if (error instanceof FerryError && error.code === CredentialErrorCode.Helper) {
        context.io.stderr(`Warning: ${error.message}; continuing without stored credentials\n`);
        return undefined;
      }
      throw error;
    }
  };
}

/**
 * The password given on the command line: --password-stdin reads it (one trailing newline
 * dropped); -p works but warns, since it shows up in shell history and process lists.
 */
export async function givenPassword(
  context: Context,
  role: CredentialRole = 'default',
): Promise<string | undefined> {
  const flags = flagsFor(context.args, role);
  if (flags.passwordStdin) {
    if (flags.password !== undefined) {
      throw new UsageError(
        `${flags.names.password} and ${flags.names.stdin} cannot be used together`,
      );
    }
    return (await context.readStdin()).replace(/\r?\n$/, '');
  }
  if (flags.password !== undefined) {
    context.io.stderr(
      `Warning: a password on the command line can leak through shell history and process lists; use ${flags.names.stdin}\n`,
    );
  }
  return flags.password;
}

async function explicit(context: Context, role: CredentialRole): Promise<Credential | undefined> {
  // --identity-token[-stdin] name the registry a command is for (cp's destination): never `from`.
  if (role !== 'from') {
    const identityToken = await givenIdentityToken(context);
    if (identityToken !== undefined) return { identityToken };
  }
  const flags = flagsFor(context.args, role);
  const password = await givenPassword(context, role);
  if (flags.username === undefined && password === undefined) return undefined;
  if (password === undefined) {
    throw new UsageError(
      `${flags.names.username} needs ${flags.names.password} or ${flags.names.stdin}`,
    );
  }
  // ORAS treats a password without a username as an identity (refresh) token.
  return flags.username ? { username: flags.username, password } : { identityToken: password };
}

/** Refuses two flags that would both read stdin (only one can have it). */
export function checkStdinUse(args: ContextArgs): void {
  const readers = [
    ['--password-stdin', args['password-stdin']],
    ['--from-password-stdin', args['from-password-stdin']],
    ['--to-password-stdin', args['to-password-stdin']],
    ['--identity-token-stdin', args['identity-token-stdin']],
  ].filter(([, on]) => on === true);
  if (readers.length > 1) {
    throw new UsageError(
      `${readers.map(([name]) => name).join(' and ')} cannot be used together: stdin holds one password`,
    );
  }
}

export async function openRegistry(
  host: string,
  context: Context,
  extra: Partial<RegistryOptions> = {},
  role: CredentialRole = 'default',
): Promise<Registry> {
  // A role without flags of its own reads config.json only: cp's two ends then share one client.
  checkStdinUse(context.args);
  const identityFlag =
    role !== 'from' &&
    (context.args['identity-token'] !== undefined || context.args['identity-token-stdin'] === true);
  const flagRole = identityFlag || given(flagsFor(context.args, role)) ? role : undefined;
  // A client with its own credentials (Homebrew's upload variables) is never shared with one
  // without: JSON.stringify leaves functions out.
  const own = extra.credentials ? 'own-credentials' : 'shared-credentials';
  const key = `${host} ${flagRole ?? 'config'} ${own} ${connectionKey(context.args, role)} ${JSON.stringify(extra)}`;
  let registry = registries.get(key);
  if (!registry) {
    const { args, io } = context;
    const ca = args['ca-file'] ? await readFile(args['ca-file'], 'utf8') : undefined;
    const chunkSize = parseSize(args['chunk-size']);
    if (chunkSize !== undefined && !(chunkSize >= 1024)) {
      throw new UsageError(
        `--chunk-size ${JSON.stringify(args['chunk-size'])}: give a size of at least 1KiB, like 8MiB`,
      );
    }
    // -H, --resolve, --cert-file/--key-file, --distribution-spec (cp: --from-…/--to-…).
    const connection = await connectionOptions(args, role);
    let registryHost = host;
    registry = new Registry(host, {
      ...(chunkSize ? { chunkSize, monolithicThreshold: chunkSize } : {}),
      // Flag credentials go to this registry only (as contacted: registry-1.docker.io for docker.io).
      credentials: credentialsFor(context, flagRole, () => registryHost),
      ...(args['plain-http'] ? { plainHttp: true } : {}),
      insecure: args.insecure,
      ca,
      ...connection,
      userAgent: `ferry/${version}`,
      // Enough connections for whatever the command moves at once (see transferLimits).
      concurrency: Math.max(4, args.concurrency ?? SMALL_PULL_CONCURRENCY),
      staticBearerToken: undefined,
      debug: args.debug ? (line) => io.stderr(`[debug] ${line}\n`) : undefined,
      ...extra,
    });
    registryHost = registry.host;
    registries.set(key, registry);
  }
  return registry;
}

/** Closes every registry client opened by this process. */
export async function closeRegistries(): Promise<void> {
  await Promise.all([...registries.values()].map((r) => r.close()));
  registries.clear();
  explicitCredentials.clear();
}

/**
 * Opens what a command-line reference names: `registry/repo[:tag[,tag…]][@digest]`, or with
 * --oci-layout `<dir>[:tag[,tag…]|@digest]`.
 */
export async function openTarget(
  input: string,
  context: Context,
  options: {
    layout?: boolean | undefined;
    create?: boolean;
    /** Whose flag credentials the registry gets (cp: `from` for the source, `to` for the destination). */
    credentials?: CredentialRole;
    /** The flag that would make `input` a layout directory, for the hint (`--from-oci-layout`). */
    layoutFlag?: string;
  } = {},
): Promise<TargetRef> {
  const [first = '', ...extraTags] = input.split(',');
  for (const tag of extraTags) {
    if (!isValidTag(tag))
      throw new UsageError(`invalid tag ${JSON.stringify(tag)} in ${JSON.stringify(input)}`);
  }
  if (options.layout ?? context.args['oci-layout']) {
    const { dir, reference } = splitLayoutReference(first);
    const target = await OciLayoutTarget.open(resolvePath(dir), {
      create: options.create ?? false,
    });
    return { target, reference, extraTags, display: first, base: dir, kind: 'oci-layout' };
  }
  if (looksLikeLayout(first)) {
    throw new UsageError(
      `${JSON.stringify(first)} is a path, not a registry reference (registry/repository:tag); for an OCI image layout directory add ${options.layoutFlag ?? '--oci-layout'}`,
    );
  }
  const parsed = parseReference(first);
  const registry = await openRegistry(parsed.host, context, {}, options.credentials);
  return {
    target: new RegistryTarget(registry, parsed.repository, {
      // --parallel, on the commands that download blobs (pull, cp, blob fetch, bottle pull).
      parallel: context.args.parallel,
    }),
    reference: parsed.digest ?? parsed.tag,
    extraTags,
    display: `${parsed.registry}/${parsed.repository}${parsed.tag ? `:${parsed.tag}` : ''}${parsed.digest ? `@${parsed.digest}` : ''}`,
    base: `${parsed.registry}/${parsed.repository}`,
    kind: 'registry',
    host: parsed.host,
  };
}

/**
 * A path rather than a registry reference: `./x`, `../x`, `/x`, `~/x`, `.`, or a directory here
 * that holds an OCI layout. Registry references never start with `.`, `/` or `~`.
 */
function looksLikeLayout(input: string): boolean {
  if (/^(\.{1,2}([\\/]|$|:|@)|[\\/~])/.test(input)) return true;
  const { dir } = (() => {
    try {
      return splitLayoutReference(input);
    } catch {
      return { dir: input };
    }
  })();
  return !dir.includes('/') && existsSync(join(dir, 'oci-layout'));
}

/** `dir`, `dir:tag` or `dir@digest`; a `:` before the last `/` belongs to the path (C:\, ./a:b/c). */
export function splitLayoutReference(input: string): {
  dir: string;
  reference: string | undefined;
} {
  const at = input.lastIndexOf('@');
  if (at > 0 && isDigest(input.slice(at + 1)))
    return { dir: input.slice(0, at), reference: input.slice(at + 1) };
  const colon = input.lastIndexOf(':');
  const slash = Math.max(input.lastIndexOf('/'), input.lastIndexOf('\\'));
  if (colon > slash && colon > 1) {
    const tag = input.slice(colon + 1);
    if (!isValidTag(tag))
      throw new UsageError(`invalid tag ${JSON.stringify(tag)} in ${JSON.stringify(input)}`);
    return { dir: input.slice(0, colon), reference: tag };
  }
  if (!input) throw new UsageError('missing OCI layout directory');
  return { dir: input, reference: undefined };
}

/** The reference a command needs, or a usage error saying what to add. */
export function requireReference(ref: TargetRef, what = 'a tag or digest'): string {
  if (!ref.reference) throw new UsageError(`${ref.display} needs ${what}, e.g. ${ref.display}:v1`);
  return ref.reference;
}
