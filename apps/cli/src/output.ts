import type { Descriptor } from '@ferry/oci';
import type { Context } from './context.js';
import { printAboveBars } from './screen.js';
import { oneLine } from './terminal-text.js';

/** The first 12 hex digits, as ORAS prints digests in status lines. */
export function shortDigest(digest: string): string {
  return digest.slice(digest.indexOf(':') + 1, digest.indexOf(':') + 13);
}

/** Prints a result: text lines, or one JSON document (the schema documented in the README). */
export function printResult(context: Context, text: string[], json: unknown): void {
  if (context.args.format === 'json') context.io.stdout(`${JSON.stringify(json, null, 2)}\n`);
  // Each entry is one line: a newline inside one (a tag, a title) is spelt out, not obeyed.
  else if (text.length) context.io.stdout(`${text.map(oneLine).join('\n')}\n`);
}

/** A status line (`Uploaded  title  sha256:…`) in text mode; nothing in JSON mode. */
export function printStatus(context: Context, verb: string, name: string, digest?: string): void {
  if (context.args.format === 'json') return;
  printAboveBars(
    context.io.stdout,
    `${verb.padEnd(10)} ${oneLine(name)}${digest ? `  ${shortDigest(digest)}` : ''}\n`,
  );
}

/**
 * Many status lines with one verb, written at once: a pull of 1,000 files made 1,000 writes to
 * stdout (a syscall each) after the work was done.
 */
export function printStatusLines(
  context: Context,
  verb: string,
  entries: readonly { name: string; digest?: string | undefined }[],
): void {
  if (context.args.format === 'json' || entries.length === 0) return;
  const prefix = verb.padEnd(10);
  printAboveBars(
    context.io.stdout,
    entries
      .map(
        ({ name, digest }) =>
          `${prefix} ${oneLine(name)}${digest ? `  ${shortDigest(digest)}` : ''}\n`,
      )
      .join(''),
  );
}

/** How a descriptor is named in status lines: its title, else its media type. */
export function describe(descriptor: Descriptor): string {
  return descriptor.annotations?.['org.opencontainers.image.title'] ?? descriptor.mediaType;
}

/** The JSON every result carries: reference, mediaType, digest, size (+ more per command). */
export function descriptorJson(
  reference: string,
  descriptor: Descriptor,
  extra: Record<string, unknown> = {},
) {
  return {
    reference,
    mediaType: descriptor.mediaType,
    digest: descriptor.digest,
    size: descriptor.size,
    ...(descriptor.artifactType ? { artifactType: descriptor.artifactType } : {}),
    ...(descriptor.annotations ? { annotations: descriptor.annotations } : {}),
    ...extra,
  };
}

/** `{ content }`: a JSON document's bytes parsed, or null when they are not JSON (as ORAS). */
export function parsedContent(bytes: Uint8Array): { content: unknown } {
  try {
    return { content: JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown };
  } catch {
    return { content: null };
  }
}

/** `1 bottle`, `2 bottles`. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
