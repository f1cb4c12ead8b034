import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Challenge } from './challenge.js';
import { parseWwwAuthenticate } from './challenge.js';

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const TCHARS = [...ALNUM, ..."!#$%&'*+-.^_`|~"];
const TOKEN68_CHARS = [...ALNUM, ...'-._~+/'];
const isToken = (s: string): boolean => s.length > 0 && [...s].every((c) => TCHARS.includes(c));

const token = fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 12 });
const ows = fc.constantFrom('', ' ', '\t', '  ');
const rws = fc.constantFrom(' ', '  ', '\t ');
// Printable values, ASCII and beyond: quotes, backslashes, commas and `=` included.
const value = fc.oneof(
  fc.string({ unit: 'grapheme-ascii', maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.string({ unit: fc.constantFrom('"', '\\', ',', '=', ' ', 'a'), maxLength: 12 }),
  token,
);

interface Generated {
  scheme: string;
  params: { name: string; value: string }[];
  token68?: string;
}

const withParams = fc.record({
  scheme: token,
  params: fc.uniqueArray(fc.record({ name: token, value }), {
    maxLength: 5,
    selector: (p) => p.name.toLowerCase(),
  }),
});
const withToken68 = fc.record({
  scheme: token,
  params: fc.constant<Generated['params']>([]),
  token68: fc
    .tuple(
      fc.string({ unit: fc.constantFrom(...TOKEN68_CHARS), minLength: 1, maxLength: 20 }),
      fc.constantFrom('', '=', '=='),
    )
    .map(([body, pad]) => body + pad),
});
const challenge: fc.Arbitrary<Generated> = fc.oneof(withParams, withToken68);

/** Serialises with random (legal) whitespace, quoting and gratuitous quoted-pairs. */
const serialised = fc.array(challenge, { minLength: 1, maxLength: 4 }).chain((challenges) =>
  fc
    .tuple(
      fc.array(fc.tuple(ows, ows, ows, rws, fc.boolean(), fc.boolean()), {
        minLength: 64,
        maxLength: 64,
      }),
    )
    .map(([noise]) => ({ challenges, text: serialise(challenges, noise) })),
);

type Noise = [string, string, string, string, boolean, boolean];

function serialise(challenges: Generated[], noise: Noise[]): string {
  let n = 0;
  const next = (): Noise => noise[n++ % noise.length] as Noise;
  return challenges
    .map((c) => {
      const [, , , space, upper] = next();
      const scheme = upper ? c.scheme.toUpperCase() : c.scheme;
      if (c.token68 !== undefined) return `${scheme}${space}${c.token68}`;
      if (c.params.length === 0) return scheme;
      const params = c.params.map((p) => {
        const [before, after, comma, , bare, escapeAll] = next();
        const v =
          bare && isToken(p.value)
            ? p.value
            : `"${[...p.value].map((ch) => (escapeAll || ch === '"' || ch === '\\' ? `\\${ch}` : ch)).join('')}"`;
        return `${p.name}${before}=${after}${v}${comma}`;
      });
      return `${scheme}${space}${params.join(',' + next()[0])}`;
    })
    .join(`,${next()[1]}`);
}

function expected(c: Generated): Challenge {
  const params: Record<string, string> = {};
  // Defined, not assigned, as the parser does: assigning `__proto__` would set the prototype.
  for (const p of c.params) {
    const key = p.name.toLowerCase();
    if (!Object.hasOwn(params, key)) {
      Object.defineProperty(params, key, {
        value: p.value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return c.token68 === undefined
    ? { scheme: c.scheme.toLowerCase(), params }
    : { scheme: c.scheme.toLowerCase(), params, token68: c.token68 };
}

describe('parseWwwAuthenticate properties', () => {
  it('never throws on arbitrary strings and arrays', () => {
    const nasty = fc.string({
      unit: fc.constantFrom('"', '\\', ',', '=', ' ', '\t', 'a', 'B', '/', '+', '\u0000', 'é'),
      maxLength: 200,
    });
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: 'binary' }), nasty, fc.array(nasty)),
        (input) => {
          const challenges = parseWwwAuthenticate(input);
          for (const c of challenges) {
            expect(c.scheme).not.toBe('');
            expect(c.scheme).toBe(c.scheme.toLowerCase());
            for (const key of Object.keys(c.params)) expect(key).toBe(key.toLowerCase());
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('parses what a correct serialiser produced back into the same challenges', () => {
    fc.assert(
      fc.property(serialised, ({ challenges, text }) => {
        expect(parseWwwAuthenticate(text)).toEqual(challenges.map(expected));
      }),
      { numRuns: 2000 },
    );
  });

  it('gives the same result for a list split across several header values', () => {
    fc.assert(
      fc.property(fc.array(serialised, { minLength: 1, maxLength: 3 }), (parts) => {
        expect(parseWwwAuthenticate(parts.map((p) => p.text))).toEqual(
          parts.flatMap((p) => p.challenges.map(expected)),
        );
      }),
      { numRuns: 500 },
    );
  });
});
