/**
 * JSON exactly as Homebrew writes it. `GitHubPackages#write_hash` (`github_packages.rb`) stores
 * `JSON.pretty_generate(hash)`: two-space indent, `"key": value`, `[]`/`{}` when empty, no
 * trailing newline, keys in insertion order, non-ASCII left as UTF-8 and `/` unescaped. That is
 * byte for byte what `JSON.stringify(value, null, 2)` produces for strings, integers, booleans,
 * null, arrays and objects (Ruby would print floats differently; bottle metadata holds none).
 *
 * One deliberate difference: Homebrew records `json.size`, which Ruby counts in characters; ferry
 * records the byte length, the only size a registry accepts (the two agree for ASCII documents).
 */
import type { Annotations } from '@ferry/oci';
import { compareBytes } from './version-compare.js';

/** `JSON.pretty_generate(value)`. */
export function homebrewJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/** The UTF-8 bytes of {@link homebrewJson}: what Homebrew hashes and uploads. */
export function homebrewJsonBytes(value: unknown): Uint8Array {
  return Buffer.from(homebrewJson(value), 'utf8');
}

/**
 * ActiveSupport's `Hash#compact_blank`: drops nil, empty and whitespace-only values, keeping the
 * order of the rest.
 */
export function compactBlank(values: Record<string, string | undefined>): Annotations {
  const result: Annotations = {};
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined && value.trim() !== '') result[key] = value;
  }
  return result;
}

/** Ruby's `hash.sort.to_h` on string keys: byte order. */
export function sortByKey(values: Annotations): Annotations {
  const result: Annotations = {};
  for (const key of Object.keys(values).sort(compareBytes)) result[key] = values[key] as string;
  return result;
}
