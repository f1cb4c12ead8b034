/**
 * The rules each part of an image reference must meet, and the normalisation Docker applies to
 * them (distribution/reference's productions, listed in reference.ts): registry, repository
 * path components, tag and digest, each checked by a small linear test so that every rejection
 * names the rule it broke. reference.ts splits a string into these parts.
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

const TAG = /^\w[\w.-]*$/;
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

/** True for a valid tag: `[\w][\w.-]{0,127}`. */
export function isValidTag(tag: unknown): tag is string {
  return typeof tag === 'string' && tag.length > 0 && tag.length <= MAX_TAG_LENGTH && TAG.test(tag);
}

/** Checks and normalises the parts of a reference; errors quote `input`. */
export function validateParts(input: string, parts: ReferenceParts): ReferenceParts {
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
export function isDomain(component: string): boolean {
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
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `${typeof value} ${String(value)}`;
  }
  return typeof value;
}

export function format({ registry, repository, tag, digest }: Partial<ReferenceParts>): string {
  return `${registry}/${repository}${tag === undefined ? '' : `:${tag}`}${digest === undefined ? '' : `@${digest}`}`;
}

/** The parts as a string for error messages, without trusting their types. */
export function describe(parts: ReferenceParts): string {
  const text = (v: unknown) => (typeof v === 'string' || v === undefined ? v : `<${typeName(v)}>`);
  const { registry, repository, tag, digest } = (parts ?? {}) as Partial<ReferenceParts>;
  return format({
    registry: text(registry),
    repository: text(repository),
    tag: text(tag),
    digest: text(digest),
  });
}
