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
