/**
 * The `--format json` contract, as code: every command prints exactly one JSON object, and a
 * result that names content carries `reference` (`<repository or layout>@<digest>`), `mediaType`,
 * `digest` and `size`. Tests run each command's output through {@link checkResultDocument}; the
 * README's "JSON output" section describes the same fields.
 */

const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** The fields every content result has, and what each must be. */
export const contentFields = {
  reference: 'a string ending in @<digest>, the digest below',
  mediaType: 'a non-empty string',
  digest: 'a digest, algorithm:hex',
  size: 'a whole number of bytes, at least 0',
} as const;

/** Lists of results nested in a document: each entry is a content result too. */
const nestedLists = ['files', 'bottles', 'images', 'referrers'] as const;

function checkContent(value: Record<string, unknown>, where: string, problems: string[]): void {
  const { reference, mediaType, digest, size } = value;
  if (typeof digest !== 'string' || !DIGEST.test(digest)) {
    problems.push(`${where}digest: want ${contentFields.digest}, got ${JSON.stringify(digest)}`);
  }
  if (typeof reference !== 'string' || !reference.endsWith(`@${String(digest)}`)) {
    problems.push(
      `${where}reference: want ${contentFields.reference}, got ${JSON.stringify(reference)}`,
    );
  }
  if (typeof mediaType !== 'string' || mediaType === '') {
    problems.push(
      `${where}mediaType: want ${contentFields.mediaType}, got ${JSON.stringify(mediaType)}`,
    );
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    problems.push(`${where}size: want ${contentFields.size}, got ${JSON.stringify(size)}`);
  }
  if ('annotations' in value) {
    const annotations = value.annotations;
    if (
      typeof annotations !== 'object' ||
      annotations === null ||
      Array.isArray(annotations) ||
      Object.values(annotations).some((v) => typeof v !== 'string')
    ) {
      problems.push(`${where}annotations: want an object of strings`);
    }
  }
  for (const list of nestedLists) {
    if (!(list in value)) continue;
    const entries = value[list];
    if (!Array.isArray(entries)) {
      problems.push(`${where}${list}: want an array`);
      continue;
    }
    entries.forEach((entry: unknown, index) => {
      const at = `${where}${list}[${index}].`;
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
        problems.push(`${at.slice(0, -1)}: want an object`);
      } else if (list !== 'files') {
        checkContent(entry as Record<string, unknown>, at, problems);
      } else {
        // A pulled file: its layer's descriptor (the reference is the artifact's, above).
        const file = entry as Record<string, unknown>;
        checkContent({ ...file, reference: `x@${String(file.digest)}` }, at, problems);
      }
    });
  }
}

/**
 * What is wrong with `stdout` as the output of `--format json` (empty when nothing is).
 * `content: false` for results that name no content (repo ls/tags, login, logout, version,
 * cache prune): those must still be one JSON object.
 */
export function checkResultDocument(stdout: string, options: { content?: boolean } = {}): string[] {
  let document: unknown;
  try {
    document = JSON.parse(stdout);
  } catch (error) {
    return [`not one JSON document: ${(error as Error).message}`];
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    return [`want one JSON object, got ${Array.isArray(document) ? 'an array' : typeof document}`];
  }
  const problems: string[] = [];
  if (options.content !== false) checkContent(document as Record<string, unknown>, '', problems);
  return problems;
}
