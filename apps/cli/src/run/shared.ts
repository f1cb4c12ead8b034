/** Pieces several command implementations share. */
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import {
  durable,
  fetchManifest,
  fetchManifestByReference,
  selectFromIndex,
  type FetchedManifest,
  type Target,
} from '@ferry/artifact';
import { hostPlatform, type Descriptor, type Platform } from '@ferry/oci';
import { UsageError } from '../exit.js';
import type { Context, TargetRef } from '../context.js';

/** `[registry]` or `[oci-layout]`, as ORAS marks where a result went. */
export function where(ref: TargetRef): string {
  return `[${ref.kind}]`;
}

/** Resolves the reference of `ref` (and a platform of an index, when asked: --platform). */
export async function resolveRoot(
  ref: TargetRef,
  platform: Platform | undefined,
  context: Context,
): Promise<Descriptor> {
  if (!ref.reference)
    throw new UsageError(`${ref.display} needs a tag or digest, e.g. ${ref.display}:v1`);
  const root = await ref.target.resolve(ref.reference);
  void context;
  return platform ? selectFromIndex(ref.target, root, platform) : root;
}

/**
 * The manifest `ref` names, for commands that pull what it lists: an index of platforms gives the
 * host's (as ORAS does) unless `platform` chose. Without --platform the manifest comes in one
 * `GET` by tag, checked against the digest the registry sends, as brew and skopeo fetch it; a
 * `HEAD` first would cost every pull a round trip to learn what the `GET` says anyway.
 */
export async function fetchPullRoot(
  ref: TargetRef,
  platform: Platform | undefined,
  context: Context,
): Promise<{ root: Descriptor; fetched: FetchedManifest }> {
  let fetched;
  if (platform) {
    fetched = await fetchManifest(ref.target, await resolveRoot(ref, platform, context));
  } else {
    if (!ref.reference)
      throw new UsageError(`${ref.display} needs a tag or digest, e.g. ${ref.display}:v1`);
    fetched = await fetchManifestByReference(ref.target, ref.reference);
  }
  if (fetched.parsed.kind === 'index') {
    const chosen = await selectFromIndex(
      ref.target,
      fetched.descriptor,
      platform ?? hostPlatform(),
    );
    fetched = await fetchManifest(ref.target, chosen);
  }
  return { root: fetched.descriptor, fetched };
}

/**
 * Writes a stream to `path` through a temporary file beside it, renamed into place only when the
 * stream ended without error (a verified fetch errors on bad bytes): never a partial file at `path`.
 */
export async function writeFileAtomically(path: string, source: Readable): Promise<void> {
  const temporary = join(
    dirname(path),
    `.${basename(path)}.ferry-${process.pid}-${Date.now()}.partial`,
  );
  try {
    await pipeline(source, createWriteStream(temporary, { flags: 'wx' }));
    // Synced before the rename and the directory after it: a crash leaves all or nothing.
    await durable.syncPath(temporary);
    await durable.rename(temporary, path);
    await durable.syncDirectory(dirname(path));
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Streams to stdout (binary), or to a file atomically. */
export async function writeOutput(
  context: Context,
  output: string,
  source: Readable,
): Promise<void> {
  if (output === '-') {
    const stdout: Writable = context.io.stdoutStream ?? process.stdout;
    await pipeline(source, stdout, { end: stdout !== process.stdout });
    return;
  }
  await writeFileAtomically(output, source);
}

/**
 * `-o -` puts content on stdout, where `--format json` puts its one document: refuse the mix
 * rather than print bytes that are not the promised JSON.
 */
export function refuseContentOnJsonStdout(context: Context, what: string): void {
  if (context.args.format === 'json') {
    throw new UsageError(
      `--format json prints one JSON document on stdout, so ${what} cannot go there too: write it to a file with -o <file>, or drop --format json`,
    );
  }
}

/** Opens a file argument, or stdin for `-`. */
export function openInput(path: string): () => Readable {
  return path === '-'
    ? () => process.stdin
    : () => createReadStream(path, { highWaterMark: 1024 * 1024 });
}

export async function fileSize(path: string): Promise<number> {
  return (await stat(path)).size;
}

/**
 * Asks y/n on a terminal (or through `io.ask`, for tests and embedding); refuses outright when
 * nobody can answer (CI, pipes). True when the user said yes (or --force); false when they said
 * no, which is their decision and not an error: callers print that nothing happened and exit 0.
 */
export async function confirm(
  context: Context,
  question: string,
  force: boolean | undefined,
): Promise<boolean> {
  if (force) return true;
  const ask = context.io.ask ?? (process.stdin.isTTY ? askTerminal : undefined);
  if (!ask) throw new UsageError(`${question} Refusing without --force when not interactive.`);
  const answer = await ask(`${question} (y/N) `);
  return /^y(es)?$/i.test(answer.trim());
}

async function askTerminal(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await new Promise<string>((resolve) => rl.question(question, resolve));
  } finally {
    rl.close();
  }
}

/** What a command says when the user answered no: on stderr, as the question was. */
export function cancelled(context: Context): void {
  context.io.stderr('Cancelled: nothing was deleted.\n');
}

/** Tags of `ref`, plus its extra ones (`ref:a,b,c`). */
export function tagsOf(ref: TargetRef): string[] {
  const first = ref.reference && !ref.reference.includes(':') ? [ref.reference] : [];
  return [...first, ...ref.extraTags];
}

export type { Target };
