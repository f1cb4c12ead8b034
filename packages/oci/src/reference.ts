/**
 * Image references: `[registry/]repository[:tag][@digest]`, parsed the way Docker, containerd and
 * ORAS do, so that a reference a user copies from any of them means the same thing here.
 *
 * The grammar is distribution/reference's:
 * - https://github.com/distribution/reference/blob/main/regexp.go (the productions)
 * - https://github.com/distribution/reference/blob/main/normalize.go (`ParseNormalizedNamed`,
 *   `splitDockerDomain`: which first component is a registry, and Docker Hub's `library/`)
 *
 * ```
 * reference      := name [ ":" tag ] [ "@" digest ]
 * name           := [ domain "/" ] path-component ( "/" path-component )*   (≤ 255 chars)
 * domain         := host [ ":" port-number ]
 * host           := domain-name | "[" [a-fA-F0-9:]+ "]"                      (IPv6, no zone)
 * domain-name    := domain-component ( "." domain-component )*
 * domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
 * port-number    := [0-9]+
 * path-component := [a-z0-9]+ ( separator [a-z0-9]+ )*
 * separator      := [._] | "__" | "-"+
 * tag            := [\w][\w.-]{0,127}
 * digest         := sha256 or sha512 in canonical form (see ./digest.ts; stricter than upstream)
 * ```
 *
 * Instead of one big regular expression the input is split at its delimiters and each piece is
 * checked by a small linear test. That keeps hostile input cheap (no backtracking blow-up), and
 * lets every rejection say exactly which rule it broke.
 */
import {
  DOCKER_HUB_HOST,
  DOCKER_HUB_REGISTRY,
  describe,
  format,
  isDomain,
  isValidTag,
  typeName,
  validateParts,
  type ReferenceParts,
} from './reference-parts.js';
import { InvalidReferenceError, quote } from './errors.js';

/**
 * Longer input is rejected before any other work. The longest valid reference is about 520
 * characters (255 name + 129 tag + 136 sha512 digest); 4096 leaves room for `index.docker.io`.
 */
export const MAX_REFERENCE_LENGTH = 4096;

// Every character any production can contain ('+' and '=' only so that parseDigest can explain a
// non-hex digest). Anything else is rejected up front, with the offending character named.
const NOT_IN_ALPHABET = /[^A-Za-z0-9:/@._\-[\]+=]/;
const IMAGE_ID = /^[a-f0-9]{64}$/;

export interface ParseReferenceOptions {
  /** Tag to use when the input names neither a tag nor a digest (Docker uses "latest"). */
  defaultTag?: string;
}

/**
 * A validated, normalised, immutable image reference. Construct one with {@link parseReference},
 * or from parts with `new Reference(parts)`, which validates and normalises the same way.
 */
export class Reference {
  /** The registry as written, except that Docker Hub is always `docker.io`, e.g. `ghcr.io`, `localhost:5000`, `[::1]:5000`. */
  readonly registry: string;
  /** The repository path, e.g. `library/ubuntu`, `homebrew/core/sqlite`. */
  readonly repository: string;
  readonly tag: string | undefined;
  readonly digest: string | undefined;

  constructor(parts: ReferenceParts) {
    const valid = validateParts(describe(parts), parts);
    this.registry = valid.registry;
    this.repository = valid.repository;
    this.tag = valid.tag;
    this.digest = valid.digest;
    Object.freeze(this);
  }

  /** The endpoint to contact: `registry-1.docker.io` for Docker Hub, else {@link registry}. */
  get host(): string {
    return this.registry === DOCKER_HUB_REGISTRY ? DOCKER_HUB_HOST : this.registry;
  }

  /** What to ask the registry for: the digest if there is one (it wins over a tag), else the tag. */
  get reference(): string | undefined {
    return this.digest ?? this.tag;
  }

  /** `registry/repository`. */
  get name(): string {
    return `${this.registry}/${this.repository}`;
  }

  /** `registry/repository[:tag][@digest]`; parsing it gives back an equal Reference. */
  toString(): string {
    return format(this);
  }

  toJSON(): string {
    return this.toString();
  }

  /** A copy with this tag; like distribution's `WithTag`, the digest (if any) is kept. */
  withTag(tag: string): Reference {
    return new Reference({ ...this.#parts(), tag });
  }

  /** A copy with this digest; like distribution's `WithDigest`, the tag (if any) is kept. */
  withDigest(digest: string): Reference {
    return new Reference({ ...this.#parts(), digest });
  }

  /** The bare repository, with neither tag nor digest. */
  withoutReference(): Reference {
    return new Reference({ registry: this.registry, repository: this.repository });
  }

  equals(other: unknown): boolean {
    return (
      other instanceof Reference &&
      other.registry === this.registry &&
      other.repository === this.repository &&
      other.tag === this.tag &&
      other.digest === this.digest
    );
  }

  #parts(): ReferenceParts {
    const { registry, repository, tag, digest } = this;
    return { registry, repository, tag, digest };
  }
}

/**
 * Parses `[registry/]repository[:tag][@digest]` with Docker's normalisation (`ubuntu` →
 * `docker.io/library/ubuntu`). Throws only {@link InvalidReferenceError}, whose `reason` names the
 * rule broken; never a TypeError, whatever `input` is.
 */
export function parseReference(input: string, options?: ParseReferenceOptions): Reference {
  if (typeof input !== 'string') {
    throw new InvalidReferenceError(typeName(input), `expected a string, got ${typeName(input)}`);
  }
  if (input === '') throw new InvalidReferenceError(input, 'empty reference');
  if (input.length > MAX_REFERENCE_LENGTH) {
    throw new InvalidReferenceError(input, `longer than ${MAX_REFERENCE_LENGTH} characters`);
  }
  const scheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.exec(input);
  if (scheme) {
    throw new InvalidReferenceError(
      input,
      `a reference has no URL scheme: drop ${quote(scheme[0])} (write registry/repository[:tag])`,
    );
  }
  const bad = NOT_IN_ALPHABET.exec(input);
  if (bad) {
    const what = /\s/.test(bad[0]) ? 'whitespace' : `the character ${quote(bad[0])}`;
    throw new InvalidReferenceError(input, `contains ${what}, which no part of a reference allows`);
  }

  // Neither a tag nor a digest contains "@" or "/", so the first "@" starts the digest and a
  // ":" after the last "/" starts the tag (a port's ":" is always followed by a "/").
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (digest === '') throw new InvalidReferenceError(input, 'missing digest after "@"');
    if (digest.includes('@')) throw new InvalidReferenceError(input, 'more than one "@"');
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0 && colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  if (rest === '') throw new InvalidReferenceError(input, 'missing repository name');
  if (IMAGE_ID.test(input)) {
    // ParseNormalizedNamed refuses these: Docker would read them as a local image ID.
    throw new InvalidReferenceError(input, 'a 64-digit hex string is an image ID, not a name');
  }

  // splitDockerDomain: the first component is a registry only if something else follows it and
  // it could not be a (lowercase, dot-free) Docker Hub namespace.
  const slash = rest.indexOf('/');
  let registry = DOCKER_HUB_REGISTRY;
  let repository = rest;
  if (slash >= 0 && isDomain(rest.slice(0, slash))) {
    registry = rest.slice(0, slash);
    repository = rest.slice(slash + 1);
  }
  if (tag === undefined && digest === undefined) {
    const defaultTag: unknown = options?.defaultTag;
    if (defaultTag !== undefined) {
      if (typeof defaultTag !== 'string' || !isValidTag(defaultTag)) {
        const shown = typeof defaultTag === 'string' ? quote(defaultTag) : typeName(defaultTag);
        throw new InvalidReferenceError(input, `invalid default tag ${shown}`);
      }
      tag = defaultTag;
    }
  }
  // Validated here too so that errors quote the input as the user wrote it.
  return new Reference(validateParts(input, { registry, repository, tag, digest }));
}

/** True when `input` parses as a reference. Never throws. */
export function isReference(input: unknown): input is string {
  try {
    parseReference(input as string);
    return true;
  } catch {
    return false;
  }
}

/**
 * Parses a repository name without tag or digest (`ghcr.io/org/repo`, `ubuntu`), for commands
 * that take a repository rather than a manifest, such as listing tags.
 */
export function parseRepository(input: string): Reference {
  const ref = parseReference(input);
  if (ref.reference !== undefined) {
    throw new InvalidReferenceError(input, 'expected a repository without a tag or digest');
  }
  return ref;
}
