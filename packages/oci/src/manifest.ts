/**
 * Validation of untrusted manifest and index JSON. Registries, layouts and users all hand ferry
 * manifests; each is checked here, once, before any field is trusted. The first problem is
 * reported with its JSON path (`manifests[2].digest: …`) so that a user can find it.
 */
import {
  ImageManifestMediaTypes,
  IndexMediaTypes,
  MANIFEST_SIZE_LIMIT,
  MediaType,
} from './constants.js';
import { computeDigest, isDigest, parseDigest, type Digest } from './digest.js';
import {
  FerryError,
  ManifestInvalidError,
  ManifestTooLargeError,
  UnsupportedMediaTypeError,
  quote,
} from './errors.js';
import type { Annotations, Descriptor, ImageIndex, ImageManifest, Platform } from './types.js';

export type ParsedManifest =
  | { kind: 'manifest'; mediaType: string; manifest: ImageManifest }
  | { kind: 'index'; mediaType: string; index: ImageIndex };

// RFC 6838 section 4.2: type "/" subtype, restricted-name characters, 127 at most each.
const MEDIA_TYPE =
  /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** True for a syntactically valid media type without parameters. */
export function isMediaType(value: unknown): value is string {
  return typeof value === 'string' && MEDIA_TYPE.test(value);
}

/** `application/json; charset=utf-8` → `application/json`. */
export function stripMediaTypeParameters(contentType: string): string {
  const semicolon = contentType.indexOf(';');
  return (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}

/**
 * Parses and validates a manifest or index.
 *
 * @param bytes the raw bytes (never re-serialise them: their digest is the manifest's identity)
 * @param contentType the `Content-Type` it came with, if any; a manifest media type there must
 *   agree with the document's own `mediaType`, and types such as `application/json` are ignored
 */
export function parseManifest(bytes: Uint8Array | string, contentType?: string): ParsedManifest {
  const size = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.byteLength;
  if (size > MANIFEST_SIZE_LIMIT) throw new ManifestTooLargeError(size, MANIFEST_SIZE_LIMIT);

  let document: unknown;
  try {
    const text =
      typeof bytes === 'string'
        ? bytes
        : new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    document = JSON.parse(text);
  } catch (error) {
    // Invalid UTF-8, malformed or truncated JSON, a byte-order mark (Go's decoder, which most
    // registries use, refuses one too), or nesting deep enough to exhaust the stack.
    throw new ManifestInvalidError('(root)', `not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const root = object(document, '');

  const hinted = contentType ? stripMediaTypeParameters(contentType) : undefined;
  const hint = hinted && isManifestMediaTypeLike(hinted) ? hinted : undefined;
  const declared = optional(root, 'mediaType', '', mediaTypeField);
  if (declared && hint && declared !== hint) {
    throw new ManifestInvalidError(
      'mediaType',
      `${quote(declared)} does not match the content type ${quote(hint)}`,
    );
  }
  const mediaType = declared ?? hint ?? inferMediaType(root);

  if (ImageManifestMediaTypes.includes(mediaType)) {
    return { kind: 'manifest', mediaType, manifest: imageManifest(root, mediaType) };
  }
  if (IndexMediaTypes.includes(mediaType)) {
    return { kind: 'index', mediaType, index: imageIndex(root, mediaType) };
  }
  if (
    mediaType === MediaType.DockerManifestSchema1 ||
    mediaType === MediaType.DockerManifestSchema1Signed
  ) {
    throw new UnsupportedMediaTypeError(
      mediaType,
      'Docker schema 1 manifests are deprecated; re-push the image with a current client',
    );
  }
  throw new UnsupportedMediaTypeError(mediaType, 'not an OCI or Docker schema 2 manifest or index');
}

/** A descriptor for manifest bytes (digest and size computed here, never trusted from outside). */
export function describeManifest(bytes: Uint8Array, mediaType: string): Descriptor {
  return { mediaType, digest: computeDigest(bytes), size: bytes.byteLength };
}

function isManifestMediaTypeLike(type: string): boolean {
  return (
    ImageManifestMediaTypes.includes(type) ||
    IndexMediaTypes.includes(type) ||
    type === MediaType.DockerManifestSchema1 ||
    type === MediaType.DockerManifestSchema1Signed
  );
}

function inferMediaType(root: Record<string, unknown>): string {
  // Without a mediaType anywhere, the fields decide; a document with both shapes is refused
  // because two parsers could read it two ways.
  const looksLikeIndex = 'manifests' in root;
  const looksLikeManifest = 'config' in root || 'layers' in root;
  if (looksLikeIndex && looksLikeManifest) {
    throw new ManifestInvalidError('(root)', 'has both "manifests" and "config"/"layers"');
  }
  if (looksLikeIndex) return MediaType.OciIndex;
  if (looksLikeManifest) return MediaType.OciManifest;
  if (root.schemaVersion === 1) return MediaType.DockerManifestSchema1;
  throw new ManifestInvalidError(
    'mediaType',
    'missing, and neither "manifests" nor "layers" found',
  );
}

function imageManifest(root: Record<string, unknown>, mediaType: string): ImageManifest {
  schemaVersion(root);
  if ('manifests' in root) {
    throw new ManifestInvalidError('manifests', `not allowed in ${mediaType}`);
  }
  if (mediaType === MediaType.DockerManifest && root.mediaType === undefined) {
    throw new ManifestInvalidError('mediaType', 'required in a Docker schema 2 manifest');
  }
  required(root, 'config', '', descriptor);
  required(root, 'layers', '', (value, path) => array(value, path, descriptor));
  optional(root, 'artifactType', '', mediaTypeField);
  optional(root, 'subject', '', descriptor);
  optional(root, 'annotations', '', annotations);
  return root as unknown as ImageManifest;
}

function imageIndex(root: Record<string, unknown>, mediaType: string): ImageIndex {
  schemaVersion(root);
  for (const key of ['config', 'layers']) {
    if (key in root) throw new ManifestInvalidError(key, `not allowed in ${mediaType}`);
  }
  required(root, 'manifests', '', (value, path) => array(value, path, descriptor));
  optional(root, 'artifactType', '', mediaTypeField);
  optional(root, 'subject', '', descriptor);
  optional(root, 'annotations', '', annotations);
  return root as unknown as ImageIndex;
}

function schemaVersion(root: Record<string, unknown>): void {
  required(root, 'schemaVersion', '', (value, path) => {
    if (value !== 2) throw new ManifestInvalidError(path, `must be 2, got ${preview(value)}`);
  });
}

/** Validates a descriptor in place; `data`, when present, must be the very bytes it describes. */
export function descriptor(value: unknown, path: string): Descriptor {
  const node = object(value, path);
  required(node, 'mediaType', path, mediaTypeField);
  const digest = required(node, 'digest', path, digestField);
  const size = required(node, 'size', path, sizeField);
  optional(node, 'urls', path, (v, p) => array(v, p, stringField));
  optional(node, 'annotations', path, annotations);
  optional(node, 'platform', path, platform);
  optional(node, 'artifactType', path, mediaTypeField);
  optional(node, 'data', path, (v, p) => {
    const data = stringField(v, p);
    if (!BASE64.test(data)) throw new ManifestInvalidError(p, 'not valid base64');
    const bytes = Buffer.from(data, 'base64');
    if (bytes.byteLength !== size) {
      throw new ManifestInvalidError(p, `holds ${bytes.byteLength} bytes but size is ${size}`);
    }
    const actual = computeDigest(bytes, parseDigest(digest).algorithm);
    if (actual !== digest) throw new ManifestInvalidError(p, `hashes to ${actual}, not ${digest}`);
  });
  return node as unknown as Descriptor;
}

function platform(value: unknown, path: string): Platform {
  const node = object(value, path);
  required(node, 'architecture', path, nonEmptyString);
  required(node, 'os', path, nonEmptyString);
  optional(node, 'os.version', path, stringField);
  optional(node, 'variant', path, stringField);
  optional(node, 'os.features', path, (v, p) => array(v, p, stringField));
  optional(node, 'features', path, (v, p) => array(v, p, stringField));
  return node as unknown as Platform;
}

function annotations(value: unknown, path: string): Annotations {
  const node = object(value, path);
  for (const [key, entry] of Object.entries(node)) {
    if (typeof entry !== 'string') {
      throw new ManifestInvalidError(
        `${path}[${JSON.stringify(key)}]`,
        `annotation values are strings, got ${kindOf(entry)}`,
      );
    }
  }
  return node as Annotations;
}

// --- primitives: each takes (value, path) and throws ManifestInvalidError naming the path ---

type Check<T> = (value: unknown, path: string) => T;

function join(path: string, key: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return path ? `${path}.${key}` : key;
  return `${path}[${JSON.stringify(key)}]`;
}

function required<T>(node: Record<string, unknown>, key: string, path: string, check: Check<T>): T {
  const at = join(path, key);
  if (!Object.hasOwn(node, key) || node[key] === undefined) {
    throw new ManifestInvalidError(at, 'required');
  }
  return check(node[key], at);
}

function optional<T>(
  node: Record<string, unknown>,
  key: string,
  path: string,
  check: Check<T>,
): T | undefined {
  if (!Object.hasOwn(node, key)) return undefined;
  return check(node[key], join(path, key));
}

function object(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ManifestInvalidError(path || '(root)', `expected an object, got ${kindOf(value)}`);
  }
  return value as Record<string, unknown>;
}

function array<T>(value: unknown, path: string, each: Check<T>): T[] {
  if (!Array.isArray(value)) {
    throw new ManifestInvalidError(path, `expected an array, got ${kindOf(value)}`);
  }
  return value.map((item, index) => each(item, `${path}[${index}]`));
}

function stringField(value: unknown, path: string): string {
  if (typeof value !== 'string') {
    throw new ManifestInvalidError(path, `expected a string, got ${kindOf(value)}`);
  }
  return value;
}

function nonEmptyString(value: unknown, path: string): string {
  const text = stringField(value, path);
  if (text === '') throw new ManifestInvalidError(path, 'must not be empty');
  return text;
}

function mediaTypeField(value: unknown, path: string): string {
  const text = stringField(value, path);
  if (!MEDIA_TYPE.test(text)) {
    throw new ManifestInvalidError(path, `${quote(text, 80)} is not a valid media type`);
  }
  return text;
}

function digestField(value: unknown, path: string): Digest {
  const text = stringField(value, path);
  if (isDigest(text)) return text;
  try {
    parseDigest(text);
  } catch (error) {
    const reason = error instanceof FerryError ? error.message : String(error);
    throw new ManifestInvalidError(path, `not a valid digest (${reason})`, { cause: error });
  }
  /* c8 ignore next */
  throw new ManifestInvalidError(path, 'not a valid digest');
}

function sizeField(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ManifestInvalidError(
      path,
      `expected a non-negative integer of at most 2^53-1, got ${preview(value)}`,
    );
  }
  return value;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
