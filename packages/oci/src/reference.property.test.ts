/**
 * Property tests for the reference parser: it is total (a Reference or an InvalidReferenceError,
 * whatever the input), it inverts formatting for every canonical reference the grammar can
 * produce, and toString() is a fixed point of parsing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode, FerryError } from './errors.js';
import { MAX_NAME_LENGTH } from './reference-parts.js';
import { Reference, parseReference } from './reference.js';

const RUNS = { numRuns: 2000 };

/** A Reference, or the error, after checking the error is the one kind allowed. */
function parseOrError(input: unknown): Reference | FerryError {
  try {
    return parseReference(input as string);
  } catch (error) {
    if (!(error instanceof FerryError) || error.code !== ErrorCode.InvalidReference) throw error;
    return error;
  }
}

// Inputs from the grammar's own alphabet, where most of the interesting near-misses live.
const alphabet = fc.string({
  unit: fc.constantFrom(...'aAzZ09:/@._-[]'.split(''), 'sha256:', 'localhost', '__', 'a.b'),
  maxLength: 60,
});
// Loose concatenations of plausible pieces: many of these parse, several ways.
const piece = fc.oneof(
  fc.stringMatching(/^[a-z0-9]{1,5}$/),
  fc.constantFrom('/', ':', '@', '.', '_', '__', '-', 'Ab', 'localhost', 'docker.io'),
  fc.constantFrom('index.docker.io', '[::1]', ':5000', `@sha256:${'0'.repeat(64)}`),
);
const loose = fc.array(piece, { maxLength: 12 }).map((pieces) => pieces.join(''));
const anyString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  alphabet,
  loose,
);

describe('parseReference is total', () => {
  it('returns a Reference or throws ERR_INVALID_REFERENCE for any string', () => {
    fc.assert(
      fc.property(anyString, (input) => {
        const result = parseOrError(input);
        expect(result instanceof Reference || result instanceof FerryError).toBe(true);
      }),
      RUNS,
    );
  });

  it('throws ERR_INVALID_REFERENCE for any non-string', () => {
    fc.assert(
      fc.property(
        fc.anything().filter((v) => typeof v !== 'string'),
        (input) => {
          expect(parseOrError(input)).toBeInstanceOf(FerryError);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('stays fast on long hostile input', () => {
    const hostile = [
      'a'.repeat(4096),
      `${'a-'.repeat(2047)}!`,
      `${'a_'.repeat(2000)}__`,
      `[${':'.repeat(4000)}`,
      `${'a.'.repeat(2000)}/x`,
      `x:${'1'.repeat(4000)}`,
    ];
    const start = performance.now();
    for (const input of hostile) parseOrError(input);
    // Catastrophic backtracking takes seconds or never ends; linear parsing takes microseconds.
    // The bound is loose so that a loaded CI machine does not fail it.
    expect(performance.now() - start).toBeLessThan(5000);
  });
});

// Generators for canonical references, straight from the grammar (bounded so names fit 255).
const domainComponent = fc.stringMatching(/^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?$/);
const domainName = fc
  .array(domainComponent, { minLength: 1, maxLength: 4 })
  .map((c) => c.join('.'));
const ipv6 = fc.stringMatching(/^[a-fA-F0-9:]{1,39}$/).map((s) => `[${s}]`);
const host = fc.oneof(domainName, ipv6, fc.constant('localhost'));
const port = fc.option(fc.stringMatching(/^[0-9]{1,5}$/), { nil: undefined });
const registry = fc
  .tuple(host, port)
  .map(([h, p]) => (p === undefined ? h : `${h}:${p}`))
  // splitDockerDomain must see a registry, and docker.io is canonicalised, so excluded here.
  .filter(
    (r) => (r === 'localhost' || /[.:A-Z]/.test(r)) && r !== 'docker.io' && r !== 'index.docker.io',
  );
const pathComponent = fc.stringMatching(/^[a-z0-9]{1,6}(?:(?:[._]|__|-{1,3})[a-z0-9]{1,6}){0,3}$/);
const repository = fc.array(pathComponent, { minLength: 1, maxLength: 4 }).map((c) => c.join('/'));
const tag = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/);
const digest = fc.oneof(
  fc.stringMatching(/^[0-9a-f]{64}$/).map((h) => `sha256:${h}`),
  fc.stringMatching(/^[0-9a-f]{128}$/).map((h) => `sha512:${h}`),
);
const canonical = fc
  .record({
    registry,
    repository,
    tag: fc.option(tag, { nil: undefined }),
    digest: fc.option(digest, { nil: undefined }),
  })
  .filter((p) => p.registry.length + 1 + p.repository.length <= MAX_NAME_LENGTH);

function format(p: { registry: string; repository: string; tag?: string; digest?: string }) {
  return (
    `${p.registry}/${p.repository}` +
    (p.tag === undefined ? '' : `:${p.tag}`) +
    (p.digest === undefined ? '' : `@${p.digest}`)
  );
}

describe('canonical references', () => {
  it('parse to their parts and format back unchanged', () => {
    fc.assert(
      fc.property(canonical, (parts) => {
        const input = format(parts);
        const ref = parseReference(input);
        expect(ref.toString()).toBe(input);
        expect(ref.registry).toBe(parts.registry);
        expect(ref.repository).toBe(parts.repository);
        expect(ref.tag).toBe(parts.tag);
        expect(ref.digest).toBe(parts.digest);
        expect(new Reference(parts).equals(ref)).toBe(true);
      }),
      RUNS,
    );
  });

  // A first component with "." (or "localhost") would be a registry, so only in one-part names.
  const familiar = repository.filter((r) => {
    const first = r.split('/')[0] ?? '';
    return !r.includes('/') || (!first.includes('.') && first !== 'localhost');
  });

  it('familiar Docker Hub names normalise to docker.io', () => {
    fc.assert(
      fc.property(familiar, fc.option(tag, { nil: undefined }), (repo, t) => {
        const ref = parseReference(t === undefined ? repo : `${repo}:${t}`);
        expect(ref.registry).toBe('docker.io');
        expect(ref.repository).toBe(repo.includes('/') ? repo : `library/${repo}`);
        expect(ref.host).toBe('registry-1.docker.io');
      }),
      { numRuns: 500 },
    );
  });
});

describe('toString is a fixed point', () => {
  it('for every input that parses', () => {
    fc.assert(
      fc.property(fc.oneof(anyString, canonical.map(format)), (input) => {
        const result = parseOrError(input);
        if (result instanceof FerryError) return;
        const text = result.toString();
        const again = parseReference(text);
        expect(again.equals(result)).toBe(true);
        expect(again.toString()).toBe(text);
      }),
      RUNS,
    );
  });
});
