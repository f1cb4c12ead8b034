/** `--include` patterns for pull: shell-style globs over titles (`*`, `**`, `?`, `[...]`). */
type Token =
  | { kind: 'char'; test: (char: string) => boolean }
  | { kind: 'star' | 'globstar' | 'globstar-slash' };

function charClass(body: string[]): (char: string) => boolean {
  const negate = body[0] === '!' || body[0] === '^';
  const members = negate ? body.slice(1) : body;
  const ranges: [string, string][] = [];
  for (let j = 0; j < members.length; j++) {
    const low = members[j] ?? '';
    const high = members[j + 2];
    if (members[j + 1] === '-' && high !== undefined) {
      ranges.push([low, high]);
      j += 2;
    } else {
      ranges.push([low, low]);
    }
  }
  return (char) => char !== '/' && ranges.some(([lo, hi]) => char >= lo && char <= hi) !== negate;
}

/** Splits a glob into tokens: `*`, `**` (alone or before a slash), `?`, `[...]` (`[!...]`, `[^...]`), `\x`. */
function tokenize(pattern: string): Token[] {
  const tokens: Token[] = [];
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i] ?? '';
    const close = char === '[' ? chars.indexOf(']', i + 2) : -1;
    if (char === '*' && chars[i + 1] === '*') {
      const slash = chars[i + 2] === '/';
      tokens.push({ kind: slash ? 'globstar-slash' : 'globstar' });
      i += slash ? 2 : 1;
    } else if (char === '*') {
      tokens.push({ kind: 'star' });
    } else if (char === '?') {
      tokens.push({ kind: 'char', test: (c) => c !== '/' });
    } else if (close > 0) {
      tokens.push({ kind: 'char', test: charClass(chars.slice(i + 1, close)) });
      i = close;
    } else {
      const literal = char === '\\' && i + 1 < chars.length ? (chars[++i] ?? '') : char;
      tokens.push({ kind: 'char', test: (c) => c === literal });
    }
  }
  return tokens;
}

/** Matches by dynamic programming over (token, position): linear in both, never backtracking. */
function matches(tokens: Token[], text: string[]): boolean {
  const n = text.length;
  let next = new Uint8Array(n + 1);
  next[n] = 1;
  for (let t = tokens.length - 1; t >= 0; t--) {
    const token = tokens[t] as Token;
    const row = new Uint8Array(n + 1);
    let slashThen = 0; // 1 when some k >= j has text[k] === '/' and next[k + 1]
    for (let j = n; j >= 0; j--) {
      const char = text[j];
      const rest = row[j + 1] ?? 0;
      const after = next[j + 1] ?? 0;
      if (token.kind === 'char') {
        row[j] = char !== undefined && token.test(char) ? after : 0;
      } else if (token.kind === 'star') {
        row[j] = next[j] || (char !== undefined && char !== '/' ? rest : 0);
      } else if (token.kind === 'globstar') {
        row[j] = next[j] || (char !== undefined ? rest : 0);
      } else {
        if (char === '/' && after) slashThen = 1;
        row[j] = next[j] || slashThen;
      }
    }
    next = row;
  }
  return next[0] === 1;
}

/**
 * A title filter for `--include`: true when any pattern matches the whole title. `*` and `?` stay
 * within a path segment, `**` crosses segments, and `**` before a slash also matches zero
 * directories.
 */
export function globMatcher(patterns: string[]): (title: string) => boolean {
  const compiled = patterns.map(tokenize);
  return (title) => compiled.some((tokens) => matches(tokens, [...title]));
}
