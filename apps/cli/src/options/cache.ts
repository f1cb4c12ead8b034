/** --cache-dir: the download cache (complete blobs and resumable partial ones). */
import { type ArgsOf, onceText, optionGroup } from './group.js';

export const CACHE_DEFAULT = 'default $FERRY_CACHE, else $XDG_CACHE_HOME/ferry';

export function cacheDirOption(describe: string) {
  return optionGroup({
    'cache-dir': {
      type: 'string',
      describe,
      coerce: (value: string | string[]): string => onceText('cache-dir', value),
    },
  });
}
export type CacheDirArgs = ArgsOf<ReturnType<typeof cacheDirOption>>;

/** --keep-in-cache: commands that place pulled files choose what the cache keeps of large blobs. */
export const keepInCacheOption = optionGroup({
  'keep-in-cache': {
    type: 'boolean',
    describe:
      'Also keep large blobs (64 MiB and up) in the download cache where a copy costs a second write (no reflinks); by default they are moved to the output',
  },
});
export type KeepInCacheArgs = ArgsOf<typeof keepInCacheOption>;
