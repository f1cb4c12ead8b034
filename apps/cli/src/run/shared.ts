/** Pieces several command implementations share. */
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import { durable, selectFromIndex, type Target } from '@ferry/artifact';
import { parsePlatform, type Descriptor } from '@ferry/oci';
import { UsageError } from '../exit.js';
import type { Context, TargetRef } from '../context.js';

/** `[registry]` or `[oci-layout]`, as ORAS marks where a result went. */
export function where(ref: TargetRef): string {
  return `[${ref.kind}]`;
}

/** Resolves the reference of `ref` (and a platform of an index, when asked). */
export async function resolveRoot(
  ref: TargetRef,
  platform: string | undefined,
  context: Context,
): Promise<Descriptor> {
  if (!ref.reference)
    throw new UsageError(`${ref.display} needs a tag or digest, e.g. ${ref.display}:v1`);
  const root = await ref.target.resolve(ref.reference);
  void context;
  return platform ? selectFromIndex(ref.target, root, parsePlatform(platform)) : root;
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

/** Opens a file argument, or stdin for `-`. */
export function openInput(path: string): () => Readable {
  return path === '-'
    ? () => process.stdin
    : () => createReadStream(path, { highWaterMark: 1024 * 1024 });
}

export async function fileSize(path: string): Promise<number> {
  return (await stat(path)).size;
}

/** Asks y/n on a terminal; refuses outright when nobody can answer (CI, pipes). */
export async function confirm(
  context: Context,
  question: string,
  force: boolean | undefined,
): Promise<void> {
  if (force) return;
  if (!process.stdin.isTTY)
    throw new UsageError(`${question} Refusing without --force when not interactive.`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await new Promise<string>((resolve) => rl.question(`${question} (y/N) `, resolve));
  rl.close();
  if (!/^y(es)?$/i.test(answer.trim())) throw new UsageError('cancelled');
  void context;
}

/** Tags of `ref`, plus its extra ones (`ref:a,b,c`). */
export function tagsOf(ref: TargetRef): string[] {
  const first = ref.reference && !ref.reference.includes(':') ? [ref.reference] : [];
  return [...first, ...ref.extraTags];
}

export type { Target };
