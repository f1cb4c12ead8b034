/** `ferry tag`: its arguments, and the type of everything it parses. */
import type { TagConcurrencyArgs } from '../../options/concurrency.js';
import type { FormatArgs } from '../../options/format.js';
import { type ArgsOf, positionalGroup } from '../../options/group.js';
import type { OciLayoutArgs, RemoteArgs } from '../../options/remote.js';

export const tagArguments = positionalGroup({
  reference: { type: 'string', demandOption: true },
  tags: { type: 'string', array: true, demandOption: true },
});

export type TagArgs = RemoteArgs &
  OciLayoutArgs &
  FormatArgs &
  ArgsOf<typeof tagArguments> &
  TagConcurrencyArgs;
