/** `ferry repo ls|tags`: arguments, own flags and the types they parse. */
import type { FormatArgs } from '../../options/format.js';
import { type ArgsOf, optionGroup, positionalGroup } from '../../options/group.js';
import type { OciLayoutArgs, RemoteArgs } from '../../options/remote.js';

export const registryTargetArgument = positionalGroup({
  target: { type: 'string', demandOption: true, describe: 'registry[/namespace]' },
});

export const repositoryTargetArgument = positionalGroup({
  target: { type: 'string', demandOption: true, describe: 'registry/repository' },
});

export const repoLsFlags = optionGroup({
  last: { type: 'string', describe: 'Start after this repository' },
});

export const repoTagsFlags = optionGroup({
  last: { type: 'string', describe: 'Start after this tag' },
  'exclude-digest-tags': { type: 'boolean', describe: 'Hide sha256-<hex> referrer tags' },
});

export type RepoLsArgs = RemoteArgs &
  FormatArgs &
  ArgsOf<typeof registryTargetArgument> &
  ArgsOf<typeof repoLsFlags>;

export type RepoTagsArgs = RemoteArgs &
  OciLayoutArgs &
  FormatArgs &
  ArgsOf<typeof repositoryTargetArgument> &
  ArgsOf<typeof repoTagsFlags>;
