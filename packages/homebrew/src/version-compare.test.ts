import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareVersions, versionTokens } from './version-compare.js';

// Expectations from Homebrew's own `Library/Homebrew/test/version_spec.rb`, plus the brief's.
const ORDERED: [string, '<' | '=' | '>', string][] = [
  ['0.1', '=', '0.1.0'],
  ['0.1', '<', '0.2'],
  ['1.2.3', '>', '1.2.2'],
  ['1.2.4', '<', '1.2.4.1'],
  ['1.10', '>', '1.9'],
  ['1.0', '<', '1.0.1'],
  ['2.0rc1', '<', '2.0'],
  ['1.2.3', '>', '1.2.3alpha4'],
  ['1.2.3', '>', '1.2.3beta2'],
  ['1.2.3', '>', '1.2.3rc3'],
  ['1.2.3', '<', '1.2.3-p34'],
  ['HEAD', '>', '1.2.3'],
  ['HEAD-abcdef', '>', '1.2.3'],
  ['HEAD-abcdef', '=', 'HEAD-fedcba'],
  ['HEAD', '=', 'HEAD-fedcba'],
  ['1.2.3alpha', '<', '1.2.3'],
  ['1.2.3', '<', '1.2.3a'],
  ['1.2.3alpha4', '=', '1.2.3a4'],
  ['1.2.3alpha4', '=', '1.2.3A4'],
  ['1.2.3alpha4', '>', '1.2.3alpha3'],
  ['1.2.3alpha4', '<', '1.2.3alpha10'],
  ['1.2.3alpha4', '<', '1.2.3beta2'],
  ['1.2.3alpha4', '<', '1.2.3rc3'],
  ['1.2.3alpha4', '<', '1.2.3-p34'],
  ['1.2.3beta2', '=', '1.2.3b2'],
  ['1.2.3beta2', '=', '1.2.3B2'],
  ['1.2.3beta2', '<', '1.2.3beta10'],
  ['1.2.3beta2', '<', '1.2.3rc3'],
  ['1.2.3pre9', '=', '1.2.3PRE9'],
  ['1.2.3pre9', '<', '1.2.3pre10'],
  ['1.2.3pre3', '>', '1.2.3beta5'],
  ['1.2.3pre3', '<', '1.2.3rc2'],
  ['1.2.3pre3', '<', '1.2.3-p2'],
  ['1.2.3rc3', '=', '1.2.3RC3'],
  ['1.2.3rc3', '<', '1.2.3rc10'],
  ['1.2.3rc3', '<', '1.2.3-p34'],
  ['1.2.3-p34', '=', '1.2.3-P34'],
  ['1.2.3-p34', '>', '1.2.3-p9'],
  ['1.2.3.post34', '>', '1.2.3.post33'],
  ['1.2.3.post34', '>', '1.2.3rc35'],
  ['1.2.3.post34', '>', '1.2.3'],
  ['2.1.0-p194', '<', '2.1-p195'],
  ['2.1-p194', '<', '2.1.0-p195'],
  ['2-p194', '<', '2.1-p195'],
  ['3.40.1', '>', '3.40.0'],
  ['8.2.1', '>', '8.2'],
  ['2023-09-28', '<', '2023-10-01'],
  ['1.1', '>', '1.a'],
];

const SYMBOL = { '<': -1, '=': 0, '>': 1 } as const;

describe('compareVersions (Version#<=>)', () => {
  it.each(ORDERED)('%s %s %s', (a, op, b) => {
    expect(compareVersions(a, b)).toBe(SYMBOL[op]);
    expect(compareVersions(b, a)).toBe(-SYMBOL[op] || 0);
  });

  it('sorts Erlang releases as version_spec.rb does', () => {
    const versions = [
      'R16B',
      'R15B03-1',
      'R15B03',
      'R15B02',
      'R15B01',
      'R14B04',
      'R14B03',
      'R14B02',
      'R14B01',
      'R14B',
      'R13B04',
      'R13B03',
      'R13B02-1',
    ].reverse();
    // A fixed shuffle (every 5th of 13, mod 13), so that a comparator answering 0 fails.
    const shuffled = versions.map((_, i) => versions[(i * 5) % versions.length]!);
    expect(shuffled).not.toEqual(versions);
    expect([...shuffled].sort(compareVersions)).toEqual(versions);
    expect([...shuffled].reverse().sort(compareVersions)).toEqual(versions);
  });

  it.each([
    ['1.2.3alpha4', ['1', '2', '3', 'alpha4']],
    ['1.2.3-p34', ['1', '2', '3', 'p34']],
    ['1.2.3.post34', ['1', '2', '3', '.post34']],
    ['1.0post1', ['1', '0post1']], // `.post` is Homebrew's unescaped "any character"
    ['R15B03-1', ['R', '15', 'B03', '1']],
    ['2023-09-28', ['2023', '09', '28']],
  ])('tokens of %s', (version, tokens) => {
    expect(versionTokens(version)).toEqual(tokens);
  });

  // Homebrew's ordering is not transitive everywhere; ferry reproduces it rather than fixing it.
  it('keeps Homebrew’s quirks: a zero facing a word is skipped', () => {
    expect(compareVersions('2.0', '2.0.0')).toBe(0);
    expect(compareVersions('2.0', '2.0rc1')).toBe(1);
    expect(compareVersions('2.0.0', '2.0rc1')).toBe(0);
    // String tokens compare with composites by text, composites with each other by kind.
    expect(compareVersions('1.p', '1.q')).toBe(-1);
    expect(compareVersions('1.q', '1.rc')).toBe(-1);
    expect(compareVersions('1.rc', '1.p')).toBe(-1);
    // The walk stops when the left side runs out, so a skipped zero makes it asymmetric too.
    expect(compareVersions('0', 'A')).toBe(0);
    expect(compareVersions('A', '0')).toBe(1);
  });
});

// Versions on which Homebrew's ordering is a total preorder: a first number, further non-zero
// numbers, and an optional pre-release, patch or post suffix (optionally numbered further).
const positive = fc.integer({ min: 1, max: 30 }).map(String);
const suffix = fc.oneof(
  fc.constant(''),
  fc
    .tuple(
      fc.constantFrom('', '.', '-'),
      fc.constantFrom('alpha', 'beta', 'pre', 'rc', 'a', 'b', 'p', 'ALPHA', 'RC'),
      fc.integer({ min: 1, max: 12 }).map(String),
    )
    .map((parts) => parts.join('')),
  fc.integer({ min: 1, max: 9 }).map((n) => `.post${n}`),
);
const version = fc.oneof(
  {
    weight: 20,
    arbitrary: fc
      .tuple(
        fc.integer({ min: 0, max: 30 }),
        fc.array(positive, { maxLength: 3 }),
        suffix,
        fc.array(positive, { maxLength: 1 }),
      )
      .map(
        ([major, rest, tail, after]) =>
          [String(major), ...rest].join('.') + tail + after.map((n) => `.${n}`).join(''),
      ),
  },
  { weight: 1, arbitrary: fc.constantFrom('HEAD', 'HEAD-abc123') },
);

describe('compareVersions properties', () => {
  it('is reflexive on any strings', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9a-zA-Z._-]{1,12}$/), (a) => {
        expect(compareVersions(a, a)).toBe(0);
      }),
    );
  });

  it('is antisymmetric and transitive on generated versions', () => {
    fc.assert(
      fc.property(version, version, version, (a, b, c) => {
        expect(compareVersions(a, b)).toBe(-compareVersions(b, a) || 0);
        const ab = compareVersions(a, b);
        const bc = compareVersions(b, c);
        if (ab <= 0 && bc <= 0) expect(compareVersions(a, c)).toBeLessThanOrEqual(0);
        if (ab === 0 && bc === 0) expect(compareVersions(a, c)).toBe(0);
        if (ab < 0 && bc <= 0) expect(compareVersions(a, c)).toBe(-1);
      }),
      { numRuns: 5000 },
    );
  });

  it('sorting generated versions is consistent', () => {
    fc.assert(
      fc.property(fc.array(version, { maxLength: 12 }), (versions) => {
        const sorted = [...versions].sort(compareVersions);
        for (let i = 1; i < sorted.length; i++) {
          expect(compareVersions(sorted[i - 1]!, sorted[i]!)).toBeLessThanOrEqual(0);
        }
      }),
    );
  });
});
