/**
 * `WWW-Authenticate` parsing (RFC 9110 §11.6.1, RFC 7235):
 *
 *   WWW-Authenticate = #challenge
 *   challenge        = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 *   auth-param       = token BWS "=" BWS ( token / quoted-string )
 *
 * The grammar is awkward because one comma separates both challenges and the parameters inside a
 * challenge: an element that reads `name=` is a parameter of the current challenge, anything else
 * that starts with a token opens a new challenge. The header comes from a server we do not trust
 * yet, so this is a hand-written single-pass scanner (no regex backtracking) that never throws and
 * keeps whatever it could make sense of.
 */

export interface Challenge {
  /** Lowercased, e.g. `bearer`, `basic`. */
  scheme: string;
  /** Parameter names lowercased; for a duplicated name the first value wins. */
  params: Record<string, string>;
  token68?: string;
}

export interface BearerChallenge {
  realm: string;
  service?: string;
  /** The `scope` parameter split on spaces (a registry may ask for several at once). */
  scope?: string[];
}

export interface ScopeEntry {
  /** e.g. `repository`, `registry`. */
  type: string;
  /** e.g. `library/ubuntu`, `localhost:5000/a/b`. */
  name: string;
  /** e.g. `['pull', 'push']`. */
  actions: string[];
}

/** Real headers are a few hundred bytes; the cap bounds the work a hostile server can cause. */
export const MAX_CHALLENGE_HEADER_LENGTH = 64 * 1024;

export function parseWwwAuthenticate(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  const values = Array.isArray(header) ? header : [header];
  const challenges: Challenge[] = [];
  let budget = MAX_CHALLENGE_HEADER_LENGTH;
  for (const value of values) {
    if (typeof value !== 'string' || budget <= 0) continue;
    const text = value.length > budget ? value.slice(0, budget) : value;
    budget -= text.length;
    // Each header line is a list of its own: parameters never carry over from one to the next.
    new Scanner(text, challenges).run();
  }
  return challenges;
}

/** The first Bearer challenge that names a realm (without one there is nowhere to get a token). */
export function bearerChallenge(challenges: readonly Challenge[]): BearerChallenge | undefined {
  for (const challenge of challenges) {
    const realm = challenge.params['realm'];
    if (challenge.scheme !== 'bearer' || !realm) continue;
    const result: BearerChallenge = { realm };
    const service = challenge.params['service'];
    if (service !== undefined) result.service = service;
    const scope = challenge.params['scope'];
    if (scope !== undefined) result.scope = scope.split(' ').filter((s) => s !== '');
    return result;
  }
  return undefined;
}

/**
 * Splits a token scope (`repository:library/ubuntu:pull,push registry:catalog:*`). The name can
 * itself contain colons (`repository:localhost:5000/a:pull`), so the type ends at the first colon
 * and the actions start after the last one. Malformed entries are dropped.
 */
export function parseScope(scope: string): ScopeEntry[] {
  const entries: ScopeEntry[] = [];
  for (const item of scope.split(' ')) {
    const first = item.indexOf(':');
    const last = item.lastIndexOf(':');
    if (first <= 0 || last === first) continue;
    const name = item.slice(first + 1, last);
    if (name === '') continue;
    const actions = item
      .slice(last + 1)
      .split(',')
      .filter((a) => a !== '');
    entries.push({ type: item.slice(0, first), name, actions });
  }
  return entries;
}

// tchar (RFC 9110 §5.6.2) and token68 characters, as lookup tables indexed by char code.
const TCHAR = charTable("!#$%&'*+-.^_`|~");
const TOKEN68 = charTable('-._~+/');

function charTable(extra: string): Uint8Array {
  const table = new Uint8Array(128);
  for (let c = 0; c < 128; c++) {
    const ch = String.fromCharCode(c);
    if (/[A-Za-z0-9]/.test(ch) || extra.includes(ch)) table[c] = 1;
  }
  return table;
}

function isIn(table: Uint8Array, code: number): boolean {
  return code < 128 && table[code] === 1;
}

const SP = 0x20;
const HTAB = 0x09;
const COMMA = 0x2c;
const EQUALS = 0x3d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

class Scanner {
  private i = 0;
  private current: Challenge | undefined;

  constructor(
    private readonly s: string,
    private readonly out: Challenge[],
  ) {}

  run(): void {
    const { s } = this;
    // Every iteration consumes at least one character, so the loop is linear in the input.
    while (this.skipSeparators() < s.length) {
      const name = this.take(TCHAR);
      if (name === '') {
        this.skipElement(); // garbage that cannot start a challenge or a parameter
        continue;
      }
      this.skipWhitespace();
      if (s.charCodeAt(this.i) === EQUALS) {
        this.i++;
        this.param(name);
      } else {
        this.current = { scheme: name.toLowerCase(), params: {} };
        this.out.push(this.current);
        this.token68();
      }
    }
  }

  /** `name=` has been read: read the value and keep it if it is the first for that name. */
  private param(name: string): void {
    this.skipWhitespace();
    const value = this.s.charCodeAt(this.i) === DQUOTE ? this.quoted() : this.bareValue();
    // A parameter before any scheme, or a value cut short by the end of input, is dropped:
    // better no realm than a truncated one.
    if (value === undefined || this.current === undefined) return;
    const key = name.toLowerCase();
    if (Object.hasOwn(this.current.params, key)) return;
    // defineProperty, not assignment: a `__proto__` parameter must stay plain data.
    Object.defineProperty(this.current.params, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }

  /** Right after a scheme: `1*token68char *"="` followed by the end of the element. */
  private token68(): void {
    const { s } = this;
    const start = this.i;
    let j = start;
    while (j < s.length && isIn(TOKEN68, s.charCodeAt(j))) j++;
    if (j === start) return;
    while (s.charCodeAt(j) === EQUALS) j++;
    const end = j;
    while (s.charCodeAt(j) === SP || s.charCodeAt(j) === HTAB) j++;
    if (j < s.length && s.charCodeAt(j) !== COMMA) return; // it was the first auth-param
    if (this.current) this.current.token68 = s.slice(start, end);
    this.i = j;
  }

  private quoted(): string | undefined {
    const { s } = this;
    this.i++; // opening quote
    let value = '';
    let chunk = this.i;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === DQUOTE) {
        value += s.slice(chunk, this.i);
        this.i++;
        return value;
      }
      if (c === BACKSLASH) {
        // quoted-pair: the backslash is dropped and the next character taken literally.
        value += s.slice(chunk, this.i);
        this.i++;
        chunk = this.i;
      }
      this.i++;
    }
    return undefined; // unterminated
  }

  /**
   * A token value. Servers in the wild send unquoted URLs (`realm=https://x/token`), which are
   * not tokens, so this reads up to the next separator instead of insisting on tchar.
   */
  private bareValue(): string {
    const { s } = this;
    const start = this.i;
    for (; this.i < s.length; this.i++) {
      const c = s.charCodeAt(this.i);
      if (c === COMMA || c === SP || c === HTAB || c === DQUOTE) break;
    }
    return s.slice(start, this.i);
  }

  private take(table: Uint8Array): string {
    const start = this.i;
    while (this.i < this.s.length && isIn(table, this.s.charCodeAt(this.i))) this.i++;
    return this.s.slice(start, this.i);
  }

  private skipWhitespace(): void {
    const { s } = this;
    while (s.charCodeAt(this.i) === SP || s.charCodeAt(this.i) === HTAB) this.i++;
  }

  /** Skips OWS and empty list elements (`,,`); returns the new position. */
  private skipSeparators(): number {
    const { s } = this;
    for (; this.i < s.length; this.i++) {
      const c = s.charCodeAt(this.i);
      if (c !== SP && c !== HTAB && c !== COMMA) break;
    }
    return this.i;
  }

  /** Skips to the next comma outside a quoted string; always consumes at least one character. */
  private skipElement(): void {
    const { s } = this;
    if (s.charCodeAt(this.i) === DQUOTE) {
      this.quoted();
      return;
    }
    this.i++;
    while (this.i < s.length && s.charCodeAt(this.i) !== COMMA) {
      if (s.charCodeAt(this.i) === DQUOTE) this.quoted();
      else this.i++;
    }
  }
}
