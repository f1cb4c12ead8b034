/**
 * Checks a path the user gave for output (`-o`, `--export-manifest`) before any transfer starts,
 * so that a mistake is reported against what the user typed, not a temporary file ferry made.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { FerryError } from '@ferry/oci';
import { UsageError } from '../exit.js';
import { CliErrorCode } from '../errors.js';

type Kind = 'directory' | 'file' | 'missing';

async function kindOf(path: string): Promise<Kind> {
  try {
    return (await stat(path)).isDirectory() ? 'directory' : 'file';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'missing';
    // ENOTDIR: something above is a file; found by the walk up in nearestExisting.
    if (code === 'ENOTDIR') return 'missing';
    throw error;
  }
}

/** The closest existing path at or above `path`, and what it is. */
async function nearestExisting(path: string): Promise<{ path: string; kind: Kind }> {
  for (let current = resolve(path); ; current = dirname(current)) {
    const kind = await kindOf(current);
    if (kind !== 'missing' || dirname(current) === current) return { path: current, kind };
  }
}

async function writable(directory: string): Promise<boolean> {
  return access(directory, constants.W_OK | constants.X_OK).then(
    () => true,
    () => false,
  );
}

function notWritable(option: string, given: string, directory: string): FerryError {
  return new FerryError(
    CliErrorCode.Permission,
    `${option} ${given}: cannot write in ${directory} (permission denied); choose a directory you can write to, or change its permissions`,
  );
}

/**
 * A directory to write into (created if missing): not a file, nothing above it a file, and
 * writable where it exists or would be created.
 */
export async function checkOutputDirectory(
  option: string,
  given: string,
  /** The command can also stream one file to stdout with `-o -`: say so. */
  options: { stdout?: boolean } = {},
): Promise<void> {
  const found = await nearestExisting(given);
  const wanted = resolve(given);
  if (found.kind === 'file') {
    if (found.path === wanted) {
      throw new UsageError(
        `${option} ${given} is a file, not a directory; name a directory to write into${options.stdout ? ' (or -o - to stream one file to stdout)' : ''}`,
      );
    }
    throw new UsageError(
      `${option} ${given}: ${found.path} is a file, so it cannot hold a directory; name another directory`,
    );
  }
  if (!(await writable(found.path))) throw notWritable(option, given, found.path);
}

/** A file to write: its directory exists and is writable, and it is not itself a directory. */
export async function checkOutputFile(option: string, given: string): Promise<void> {
  const wanted = resolve(given);
  const kind = await kindOf(wanted);
  if (kind === 'directory') {
    throw new UsageError(`${option} ${given} is a directory; name a file to write`);
  }
  const parent = dirname(wanted);
  const found = await nearestExisting(parent);
  if (found.kind === 'file') {
    throw new UsageError(
      `${option} ${given}: ${found.path} is a file, not a directory; name a file in an existing directory`,
    );
  }
  if (found.path !== parent) {
    throw new UsageError(
      `${option} ${given}: the directory ${parent} does not exist; create it first (mkdir -p ${parent})`,
    );
  }
  if (!(await writable(parent))) throw notWritable(option, given, parent);
}
