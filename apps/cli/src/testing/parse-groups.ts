/**
 * Parses a command line with only the given option groups, as a command's builder applies them
 * (and with `-` kept, as main.ts keeps it).
 */
import yargs from 'yargs';
import { applyGroups, type AnyGroup, type ArgsOfGroups } from '../options/group.js';
import { protectDashes, restoreDashes } from '../stdin-argument.js';

export type Parsed<G extends readonly AnyGroup[]> =
  { ok: true; args: ArgsOfGroups<G> } | { ok: false; message: string };

export async function parseGroups<const G extends readonly AnyGroup[]>(
  groups: G,
  argv: string[],
): Promise<Parsed<G>> {
  const parser = applyGroups(yargs(protectDashes(argv)).strict().exitProcess(false), groups);
  let failure: string | undefined;
  parser.fail((message, error) => {
    failure = error?.message ?? message;
  });
  // yargs' camelCase copies aside, these are the groups' values (as in commands/define.ts).
  const args: object = restoreDashes(await parser.parseAsync());
  return failure === undefined
    ? { ok: true, args: args as ArgsOfGroups<G> }
    : { ok: false, message: failure };
}
