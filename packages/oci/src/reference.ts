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
import { parseDigest } from './digest.js';
import {
  InvalidDigestError,
  InvalidReferenceError,
  UnsupportedDigestAlgorithmError,
  quote,
} from './errors.js';

/** Docker Hub's canonical registry name, as it appears in normalised references. */
export const DOCKER_HUB_REGISTRY = 'docker.io';
/** The host that actually serves Docker Hub's registry API. */
export const DOCKER_HUB_HOST = 'registry-1.docker.io';
/** The legacy "Docker Index" name, normalised to {@link DOCKER_HUB_REGISTRY}. */
const LEGACY_DOCKER_HUB_REGISTRY = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';

/** distribution/reference `NameTotalLengthMax`: registry + "/" + repository. */
export const MAX_NAME_LENGTH = 255;
export const MAX_TAG_LENGTH = 128;
/**
 * Longer input is rejected before any other work. The longest valid reference is about 520
 * characters (255 name + 129 tag + 136 sha512 digest); 4096 leaves room for `index.docker.io`.
 */
export const MAX_REFERENCE_LENGTH = 4096;

// Every character any production can contain ('+' and '=' only so that parseDigest can explain a
// non-hex digest). Anything else is rejected up front, with the offending character named.
const NOT_IN_ALPHABET = /[^A-Za-z0-9:/@._\-[\]+=]/;
const TAG = /^\w[\w.-]*$/;
const IMAGE_ID = /^[a-f0-9]{64}$/;
const DOMAIN_COMPONENT = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$/;
const IPV6 = /^\[[a-fA-F0-9:]+\]$/;
const PORT = /^[0-9]+$/;
const PATH_CHARS = /^[a-z0-9._-]+$/;
const ALNUM = /^[a-z0-9]$/;
const SEPARATOR_RUNS = /[._-]+/g;
const SEPARATOR = /^(?:[._]|__|-+)$/;

export interface ReferenceParts {
  registry: string;
  repository: string;
  tag?: string | undefined;
  digest?: string | undefined;
}

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

/** True for a valid tag: `[\w][\w.-]{0,127}`. */
export function isValidTag(tag: unknown): tag is string {
  return typeof tag === 'string' && tag.length > 0 && tag.length <= MAX_TAG_LENGTH && TAG.test(tag);
}

/** Checks and normalises the parts of a reference; errors quote `input`. */
function validateParts(input: string, parts: ReferenceParts): ReferenceParts {
  const { registry, repository, tag, digest } = (parts ?? {}) as Partial<ReferenceParts>;
  if (typeof registry !== 'string' || typeof repository !== 'string') {
    throw new InvalidReferenceError(input, 'registry and repository must be strings');
  }
  if (tag !== undefined) checkTag(input, tag);
  if (digest !== undefined) checkDigest(input, digest);
  const name = normaliseName(input, registry, repository);
  if (!isDomain(name.registry)) {
    // A registry that parseReference would read as a Docker Hub namespace (e.g. "myhost")
    // would not survive a round trip through toString().
    throw new InvalidReferenceError(
      input,
      `registry ${quote(name.registry)} must contain "." or ":", be "localhost", or contain uppercase letters; otherwise it reads as a Docker Hub namespace`,
    );
  }
  return { ...name, tag, digest };
}

/**
 * The reason `component` is not a valid repository path component, or undefined if it is.
 * Checked piecewise (characters, ends, then each run of separators) to stay linear.
 */
function pathComponentProblem(component: string): string | undefined {
  if (component === '') return 'empty path component (a leading, trailing or doubled "/")';
  const q = quote(component);
  if (!PATH_CHARS.test(component)) {
    return `path component ${q} may contain only a-z, 0-9, ".", "_" and "-"`;
  }
  if (!ALNUM.test(component[0] ?? '') || !ALNUM.test(component.at(-1) ?? '')) {
    return `path component ${q} must start and end with a lowercase letter or digit`;
  }
  for (const run of component.match(SEPARATOR_RUNS) ?? []) {
    if (!SEPARATOR.test(run)) {
      return `invalid separator ${quote(run)} in path component ${q} (use ".", "_", "__" or "-")`;
    }
  }
  return undefined;
}

/** The reason `domain` is not a valid `host[:port]`, or undefined if it is. */
function domainProblem(domain: string): string | undefined {
  let host = domain;
  let port: string | undefined;
  if (domain.startsWith('[')) {
    const close = domain.indexOf(']');
    if (close < 0) return 'unterminated IPv6 address';
    host = domain.slice(0, close + 1);
    const after = domain.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) return 'unexpected text after the IPv6 address';
      port = after.slice(1);
    }
    if (!IPV6.test(host)) {
      return 'an IPv6 address may contain only hex digits and ":" (no zone identifier)';
    }
  } else {
    const colon = domain.indexOf(':');
    if (colon >= 0) {
      host = domain.slice(0, colon);
      port = domain.slice(colon + 1);
    }
    if (host === '') return 'empty host name';
    for (const component of host.split('.')) {
      if (!DOMAIN_COMPONENT.test(component)) {
        return component === ''
          ? 'empty host name component'
          : `host name component ${quote(component)} must be letters, digits and inner "-"`;
      }
    }
  }
  if (port !== undefined && !PORT.test(port)) {
    return port === '' ? 'empty port after ":"' : 'the port must be decimal digits';
  }
  return undefined;
}

/** splitDockerDomain's test: could this first component only be a registry? */
function isDomain(component: string): boolean {
  return (
    component === 'localhost' ||
    component.includes('.') ||
    component.includes(':') ||
    component.toLowerCase() !== component
  );
}

function normaliseName(
  input: string,
  registry: string,
  repository: string,
): { registry: string; repository: string } {
  const problem = domainProblem(registry);
  if (problem) {
    throw new InvalidReferenceError(input, `invalid registry ${quote(registry)}: ${problem}`);
  }
  if (registry === LEGACY_DOCKER_HUB_REGISTRY) registry = DOCKER_HUB_REGISTRY;
  if (repository === '') {
    throw new InvalidReferenceError(input, `missing repository after registry ${quote(registry)}`);
  }
  // Checked before the components, as ParseNormalizedNamed does: it is the likeliest mistake.
  if (repository.toLowerCase() !== repository) {
    throw new InvalidReferenceError(input, 'repository name must be lowercase');
  }
  for (const component of repository.split('/')) {
    const componentProblem = pathComponentProblem(component);
    if (componentProblem) throw new InvalidReferenceError(input, componentProblem);
  }
  if (registry === DOCKER_HUB_REGISTRY && !repository.includes('/')) {
    repository = OFFICIAL_REPO_PREFIX + repository;
  }
  const length = registry.length + 1 + repository.length;
  if (length > MAX_NAME_LENGTH) {
    throw new InvalidReferenceError(
      input,
      `name is ${length} characters long; the limit is ${MAX_NAME_LENGTH} (registry/repository)`,
    );
  }
  return { registry, repository };
}

function checkTag(input: string, tag: unknown): void {
  if (typeof tag !== 'string') throw new InvalidReferenceError(input, 'tag must be a string');
  if (tag === '') throw new InvalidReferenceError(input, 'missing tag after ":"');
  if (tag.length > MAX_TAG_LENGTH) {
    throw new InvalidReferenceError(
      input,
      `tag is ${tag.length} characters long; the limit is ${MAX_TAG_LENGTH}`,
    );
  }
  if (!TAG.test(tag)) {
    throw new InvalidReferenceError(
      input,
      `invalid tag ${quote(tag)}: a tag starts with a letter, digit or "_" and contains only those, "." and "-"`,
    );
  }
}

function checkDigest(input: string, digest: unknown): void {
  if (typeof digest !== 'string') throw new InvalidReferenceError(input, 'digest must be a string');
  try {
    parseDigest(digest);
  } catch (cause) {
    let detail = 'malformed';
    if (cause instanceof InvalidDigestError) detail = cause.reason;
    else if (cause instanceof UnsupportedDigestAlgorithmError) {
      detail = `unsupported algorithm ${quote(cause.algorithm)} (ferry supports sha256 and sha512)`;
    }
    throw new InvalidReferenceError(input, `invalid digest: ${detail}`, { cause });
  }
}

/** A name for a non-string input that cannot itself throw (String(symbol-ish objects) can). */
function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `${typeof value} ${String(value)}`;
  }
  return typeof value;
}

function format({ registry, repository, tag, digest }: Partial<ReferenceParts>): string {
  return `${registry}/${repository}${tag === undefined ? '' : `:${tag}`}${digest === undefined ? '' : `@${digest}`}`;
}

/** The parts as a string for error messages, without trusting their types. */
function describe(parts: ReferenceParts): string {
  const text = (v: unknown) => (typeof v === 'string' || v === undefined ? v : `<${typeName(v)}>`);
  const { registry, repository, tag, digest } = (parts ?? {}) as Partial<ReferenceParts>;
  return format({
    registry: text(registry),
    repository: text(repository),
    tag: text(tag),
    digest: text(digest),
  });
}
