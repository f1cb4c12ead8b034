/**
 * Homebrew's version ordering, `Version#<=>` in `Library/Homebrew/version.rb`, token for token.
 *
 * A version string is scanned into tokens with one alternation, tried in this order at each
 * position (Ruby and JavaScript regexes both take the first alternative that matches):
 * alpha (`alpha1`, `a1`), beta (`beta2`, `b2`), pre (`pre3`), rc (`rc4`), patch (`p5`, `p`),
 * post (`.post6`: its leading `.` is Homebrew's unescaped "any character"), numeric, string.
 * Comparison walks both lists: equal tokens are skipped; a numeric token facing a non-numeric one
 * wins if it is non-zero and is otherwise skipped; anything else is decided by the token pair.
 *
 * Faithful, therefore not a total order on arbitrary strings: string tokens compare with
 * composite tokens by text but composites compare with each other by kind, so `1.p < 1.q`,
 * `1.q < 1.rc` and yet `1.rc < 1.p`. On versions made of numbers and the usual
 * alpha/beta/pre/rc suffixes it is antisymmetric and transitive (see the property tests).
 */

type Kind = 'null' | 'numeric' | 'string' | 'alpha' | 'beta' | 'pre' | 'rc' | 'patch' | 'post';

interface Token {
  kind: Kind;
  text: string;
  /** Numeric tokens: the value; composite tokens: the digits in them (0 if none). */
  number: bigint;
}

const SCAN =
  /alpha[0-9]*|a[0-9]+|beta[0-9]*|b[0-9]+|pre[0-9]*|rc[0-9]*|p[0-9]*|.post[0-9]+|[0-9]+|[a-z]+/gi;

// `Token.create`: the first pattern that matches the whole token decides its class.
const CLASSIFY: readonly [Kind, RegExp][] = [
  ['alpha', /^(?:alpha[0-9]*|a[0-9]+)$/i],
  ['beta', /^(?:beta[0-9]*|b[0-9]+)$/i],
  ['rc', /^rc[0-9]*$/i],
  ['pre', /^pre[0-9]*$/i],
  ['patch', /^p[0-9]*$/i],
  ['post', /^.post[0-9]+$/i],
  ['numeric', /^[0-9]+$/],
  ['string', /^[a-z]+$/i],
];

const NULL_TOKEN: Token = { kind: 'null', text: '', number: 0n };
const COMPOSITE: ReadonlySet<Kind> = new Set(['alpha', 'beta', 'pre', 'rc', 'patch', 'post']);
const PRERELEASE: ReadonlySet<Kind> = new Set(['alpha', 'beta', 'pre', 'rc']);
/** How composite kinds rank against each other (patch and post share a rank but are not equal). */
const RANK: Partial<Record<Kind, number>> = { alpha: 0, beta: 1, pre: 2, rc: 3, patch: 4, post: 4 };

function token(text: string): Token {
  const kind = CLASSIFY.find(([, pattern]) => pattern.test(text))?.[0] ?? 'string';
  const digits = kind === 'numeric' ? text : /[0-9]+/.exec(text)?.[0];
  return { kind, text, number: digits === undefined ? 0n : BigInt(digits) };
}

/** The tokens Homebrew sees in a version string (exported for tests and diagnostics). */
export function versionTokens(version: string): string[] {
  return version.match(SCAN) ?? [];
}

function sign(value: number | bigint): -1 | 0 | 1 {
  return value > 0 ? 1 : value < 0 ? -1 : 0;
}

/** Ruby's `String#<=>`: byte order of the UTF-8 encodings. */
export function compareBytes(a: string, b: string): -1 | 0 | 1 {
  return sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}

function compareNull(other: Token): -1 | 0 | 1 {
  if (other.kind === 'null') return 0;
  if (other.kind === 'numeric') return other.number === 0n ? 0 : -1;
  return PRERELEASE.has(other.kind) ? 1 : -1;
}

function compareTokens(a: Token, b: Token): -1 | 0 | 1 {
  if (a.kind === 'null') return compareNull(b);
  if (b.kind === 'null') return -compareNull(a) as -1 | 0 | 1;
  if (a.kind === 'numeric' || b.kind === 'numeric') {
    if (a.kind === b.kind) return sign(a.number - b.number);
    return a.kind === 'numeric' ? 1 : -1;
  }
  if (a.kind === b.kind && COMPOSITE.has(a.kind)) return sign(a.number - b.number);
  const rankA = RANK[a.kind];
  const rankB = RANK[b.kind];
  // Two composite kinds of different rank: pre-releases order alpha < beta < pre < rc < patch/post.
  if (rankA !== undefined && rankB !== undefined && rankA !== rankB) return sign(rankA - rankB);
  // String tokens (and patch against post) fall back to comparing the text, as StringToken does.
  return compareBytes(a.text, b.text);
}

// `HEAD_VERSION_REGEX` (`\AHEAD(?:-.*)?\Z`): Ruby's `.` stops at newlines and `\Z` allows a final one.
const HEAD = /^HEAD(?:-.*)?\n?$/;

/**
 * Homebrew's `Version#<=>`: negative when `a` is older than `b`. `HEAD` versions are newer than any
 * other. Both versions must be non-empty.
 */
export function compareVersions(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  const headA = HEAD.test(a);
  const headB = HEAD.test(b);
  if (headA || headB) return headA === headB ? 0 : headA ? 1 : -1;

  const left = versionTokens(a).map(token);
  const right = versionTokens(b).map(token);
  const max = Math.max(left.length, right.length);
  let l = 0;
  let r = 0;
  while (l < max) {
    const x = left[l] ?? NULL_TOKEN;
    const y = right[r] ?? NULL_TOKEN;
    const order = compareTokens(x, y);
    if (order === 0) {
      l++;
      r++;
    } else if (x.kind === 'numeric' && y.kind !== 'numeric') {
      // A non-zero number beats a word ("1.1" > "1.a"); a zero is skipped ("1.0.a" = "1.a").
      if (x.number > 0n) return 1;
      l++;
    } else if (x.kind !== 'numeric' && y.kind === 'numeric') {
      if (y.number > 0n) return -1;
      r++;
    } else {
      return order;
    }
  }
  return 0;
}
