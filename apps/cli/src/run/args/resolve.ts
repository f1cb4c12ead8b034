/** `ferry resolve`: its own flags and arguments, and the type of everything it parses. */
import type { FormatArgs } from '../../options/format.js';
import { type ArgsOf, optionGroup } from '../../options/group.js';
import type { PlatformArgs } from '../../options/platform.js';
import type { OciLayoutArgs, RemoteArgs } from '../../options/remote.js';
import type { referenceArgument } from './reference.js';

export const resolveFlags = optionGroup({
  'full-reference': { alias: 'l', type: 'boolean', describe: 'Print registry/repository@digest' },
});

export type ResolveArgs = RemoteArgs &
  OciLayoutArgs &
  FormatArgs &
  ArgsOf<typeof referenceArgument> &
  ArgsOf<typeof resolveFlags> &
  PlatformArgs;
