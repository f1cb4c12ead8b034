/**
 * yargs drops a lone `-` argument (yargs/yargs#1312: it parses it as an empty option), but `-`
 * means stdin or stdout to every ORAS user. It is swapped for a marker before parsing and back in
 * the parsed arguments.
 */
const MARKER = '\u0000ferry-dash\u0000';

export function protectDashes(argv: readonly string[]): string[] {
  const end = argv.indexOf('--');
  return argv.map((arg, index) => (arg === '-' && (end < 0 || index < end) ? MARKER : arg));
}

/** `-` for the marker (a flag's own check sees the value as given). */
export function restoreDash<V>(value: V): V | '-' {
  return value === MARKER ? '-' : value;
}

/** Restores `-` everywhere in a parsed-arguments object (strings and string arrays). */
export function restoreDashes<T extends object>(args: T): T {
  for (const [key, value] of Object.entries(args)) {
    if (value === MARKER) (args as Record<string, unknown>)[key] = '-';
    else if (Array.isArray(value)) {
      (args as Record<string, unknown>)[key] = value.map((item: unknown) =>
        item === MARKER ? '-' : item,
      );
    }
  }
  return args;
}
