/**
 * Option groups, as ORAS's `cmd/oras/internal/option`: each group declares its flags once (names,
 * aliases, help text, defaults, and a `coerce` that validates and normalises the value), and the
 * type of what it parses is derived from that declaration, never written twice. Commands compose
 * groups; `run/` modules name the groups whose values they read. Builders only: nothing here may
 * import the heavy packages, so that `ferry --help` stays fast.
 */
import type { Argv, InferredOptionType, Options, PositionalOptions } from 'yargs';
import { UsageError } from '../exit.js';
import { restoreDash } from '../stdin-argument.js';

export type FlagDeclarations = Readonly<Record<string, Options>>;
export type PositionalDeclarations = Readonly<Record<string, PositionalOptions>>;

/** What yargs parses for each declared name (aliases aside). */
export type Parsed<O> = {
  -readonly [K in keyof O]: O[K] extends Options | PositionalOptions
    ? InferredOptionType<O[K]>
    : never;
};

/** Flags declared together, applied to a command's yargs in one call. */
export interface OptionGroup<O extends FlagDeclarations = FlagDeclarations> {
  readonly kind: 'flags';
  readonly flags: O;
  /** A help heading that lists these flags first (yargs orders headings as first named). */
  readonly heading?: string | undefined;
}

/** A command's positional arguments, declared as flags are. */
export interface PositionalGroup<O extends PositionalDeclarations = PositionalDeclarations> {
  readonly kind: 'positionals';
  readonly positionals: O;
}

export type AnyGroup = OptionGroup | PositionalGroup;

/** The parsed values of a group. */
export type ArgsOf<G> =
  G extends OptionGroup<infer O>
    ? Parsed<O>
    : G extends PositionalGroup<infer P>
      ? Parsed<P>
      : never;

type Intersection<U> = (U extends unknown ? (value: U) => void : never) extends (
  value: infer I,
) => void
  ? I
  : never;

/** The parsed values of groups applied together. */
export type ArgsOfGroups<G extends readonly AnyGroup[]> = Intersection<ArgsOf<G[number]>>;

export function optionGroup<const O extends FlagDeclarations>(
  flags: O,
  options: { heading?: string } = {},
): OptionGroup<O> {
  return { kind: 'flags', flags, heading: options.heading };
}

export function positionalGroup<const O extends PositionalDeclarations>(
  positionals: O,
): PositionalGroup<O> {
  return { kind: 'positionals', positionals };
}

/** The flag names of a group, as help spells them (`--name`). */
export function flagNames(group: AnyGroup): string[] {
  return group.kind === 'flags' ? Object.keys(group.flags) : [];
}

/**
 * Applies groups in order: flags render in the order declared, each under its `group:` heading or
 * the command's own `Options:`. yargs' types cannot follow a loop, so the result is stated once here.
 */
export function applyGroups<T, const G extends readonly AnyGroup[]>(
  yargs: Argv<T>,
  groups: G,
): Argv<T & ArgsOfGroups<G>> {
  // Each call declares on this same instance (and returns it).
  for (const group of groups) {
    if (group.kind === 'positionals') {
      for (const [name, declaration] of Object.entries(group.positionals)) {
        yargs.positional(name, declaration);
      }
      continue;
    }
    if (group.heading !== undefined) yargs.group(Object.keys(group.flags), group.heading);
    yargs.options(group.flags);
  }
  return yargs as Argv<T & ArgsOfGroups<G>>;
}

/** The same declarations under prefixed names: cp's `--from-header`, `--to-header`, …. */
export function prefixed<P extends string, const O extends FlagDeclarations>(
  prefix: P,
  flags: O,
): { [K in keyof O & string as `${P}${K}`]: O[K] } {
  const renamed = Object.entries(flags).map(([name, flag]) => [`${prefix}${name}`, flag]);
  return Object.fromEntries(renamed) as { [K in keyof O & string as `${P}${K}`]: O[K] };
}

/** A flag's value given more than once arrives as an array: refuse it, naming the flag. */
export function once<V>(flag: string, value: V | V[]): V {
  if (Array.isArray(value)) {
    throw new UsageError(`--${flag} was given ${value.length} times: give it once`);
  }
  return value;
}

/** As {@link once}, for text: `-` (protected from yargs while parsing) reads as `-`. */
export function onceText(flag: string, value: string | string[]): string {
  const text = once(flag, value);
  return text === restoreDash(text) ? text : '-';
}

/** A repeatable flag's values as a list, whether it was given once or more. */
export function list(value: string | string[]): string[] {
  return Array.isArray(value) ? value : [value];
}
