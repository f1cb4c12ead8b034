/**
 * Turns parsed flags into the objects commands work with: a credential provider, a Registry
 * client per host, and targets (a registry repository or an OCI layout directory) for references.
 */
import { readFile } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { OciLayoutTarget, RegistryTarget, type Target } from '@ferry/artifact';
import { FerryError, isDigest, isValidTag, parseReference } from '@ferry/oci';
import {
  CredentialStore,
  Registry,
  type Credential,
  type CredentialProvider,
  type RegistryOptions,
} from '@ferry/registry';
import type { Io } from './io.js';
import { parseSize, SMALL_BLOB_CONCURRENCY, type CommonArgs } from './options.js';
import { UsageError } from './exit.js';
import { version } from './version.js';

export interface Context {
  io: Io;
  args: CommonArgs;
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
let explicitCredential: Promise<Credential | undefined> | undefined;

/** Credentials from -u/-p/--password-stdin, else Docker's config.json (or --registry-config). */
export function credentialsFor(context: Context): CredentialProvider {
  const { args } = context;
  const store = new CredentialStore(
    args['registry-config'] ? { configPath: args['registry-config'] } : {},
  );
  explicitCredential ??= explicit(context);
  return async (host) => {
    const given = await explicitCredential;
    if (given) return given;
    try {
      return await store.get(host);
    } catch (error) {
      // A broken credential helper should not stop anonymous pulls: say so and go on without.
      if (error instanceof FerryError && error.code === 'ERR_CREDENTIAL_HELPER') {
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
export async function givenPassword(context: Context): Promise<string | undefined> {
  const { args } = context;
  if (args['password-stdin']) {
    if (args.password !== undefined) {
      throw new UsageError('--password and --password-stdin cannot be used together');
    }
    return (await context.readStdin()).replace(/\r?\n$/, '');
  }
  if (args.password !== undefined) {
    context.io.stderr(
      'Warning: a password on the command line can leak through shell history and process lists; use --password-stdin\n',
    );
  }
  return args.password;
}

async function explicit(context: Context): Promise<Credential | undefined> {
  const { args } = context;
  const password = await givenPassword(context);
  if (args.username === undefined && password === undefined) return undefined;
  if (password === undefined) {
    throw new UsageError('--username needs --password or --password-stdin');
  }
  // ORAS treats a password without a username as an identity (refresh) token.
  return args.username ? { username: args.username, password } : { identityToken: password };
}

export async function openRegistry(
  host: string,
  context: Context,
  extra: Partial<RegistryOptions> = {},
): Promise<Registry> {
  const key = `${host} ${JSON.stringify(extra)}`;
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
    registry = new Registry(host, {
      ...(chunkSize ? { chunkSize, monolithicThreshold: chunkSize } : {}),
      credentials: credentialsFor(context),
      ...(args['plain-http'] ? { plainHttp: true } : {}),
      insecure: args.insecure,
      ca,
      userAgent: `ferry/${version}`,
      // Enough connections for whatever the command moves at once (see transferLimits).
      concurrency: Math.max(
        4,
        Number((args as { concurrency?: number }).concurrency ?? SMALL_BLOB_CONCURRENCY),
      ),
      staticBearerToken: undefined,
      debug: args.debug ? (line) => io.stderr(`[debug] ${line}\n`) : undefined,
      ...extra,
    });
    registries.set(key, registry);
  }
  return registry;
}

/** Closes every registry client opened by this process. */
export async function closeRegistries(): Promise<void> {
  await Promise.all([...registries.values()].map((r) => r.close()));
  registries.clear();
  explicitCredential = undefined;
}

/**
 * Opens what a command-line reference names: `registry/repo[:tag[,tag…]][@digest]`, or with
 * --oci-layout `<dir>[:tag[,tag…]|@digest]`.
 */
export async function openTarget(
  input: string,
  context: Context,
  options: { layout?: boolean | undefined; create?: boolean } = {},
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
  const parsed = parseReference(first);
  const registry = await openRegistry(parsed.host, context);
  return {
    target: new RegistryTarget(registry, parsed.repository, {
      // --parallel, on the commands that download blobs (pull, cp, blob fetch, bottle pull).
      parallel: (context.args as { parallel?: number }).parallel,
    }),
    reference: parsed.digest ?? parsed.tag,
    extraTags,
    display: `${parsed.registry}/${parsed.repository}${parsed.tag ? `:${parsed.tag}` : ''}${parsed.digest ? `@${parsed.digest}` : ''}`,
    base: `${parsed.registry}/${parsed.repository}`,
    kind: 'registry',
    host: parsed.host,
  };
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
