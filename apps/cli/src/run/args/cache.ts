/** `ferry cache prune`: the type of what it parses. */
import type { CacheDirArgs } from '../../options/cache.js';
import type { FormatArgs } from '../../options/format.js';

export type CachePruneArgs = FormatArgs & CacheDirArgs;
