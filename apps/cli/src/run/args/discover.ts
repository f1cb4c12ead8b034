/** `ferry discover`: its own flags and arguments, and the type of everything it parses. */
import type { ArtifactTypeArgs } from '../../options/artifact-type.js';
import type { ReferrersFormatArgs, ReferrersOutputArgs } from '../../options/format.js';
import { UsageError } from '../../exit.js';
import { type ArgsOf, once, optionGroup } from '../../options/group.js';
import type { PlatformArgs } from '../../options/platform.js';
import type { DistributionSpecArgs, OciLayoutArgs, RemoteArgs } from '../../options/remote.js';
import type { referenceArgument } from './reference.js';

/**
 * How deep discover follows referrers of referrers unless told: real graphs are a few levels
 * (an image, its SBOM, the SBOM's signature), and a registry serving a chain thousands deep would
 * otherwise cost a request per level. ORAS's tree view recurses without a bound.
 */
export const DEFAULT_DISCOVER_DEPTH = 100;
/** The deepest --depth accepted: JSON output nests one level per referrer level. */
export const MAX_DISCOVER_DEPTH = 1000;

/** A --depth value: a whole number from 1 to MAX_DISCOVER_DEPTH. */
export function discoverDepth(given: number): number {
  if (!Number.isInteger(given) || given < 1 || given > MAX_DISCOVER_DEPTH) {
    throw new UsageError(
      `--depth ${given}: give a whole number from 1 to ${MAX_DISCOVER_DEPTH} (default ${DEFAULT_DISCOVER_DEPTH})`,
    );
  }
  return given;
}

export const discoverFlags = optionGroup({
  depth: {
    type: 'number',
    describe: `How deep to follow referrers of referrers, 1 to ${MAX_DISCOVER_DEPTH} [default: ${DEFAULT_DISCOVER_DEPTH}]`,
    coerce: (value: number | number[]): number => discoverDepth(once('depth', value)),
  },
});

export type DiscoverArgs = RemoteArgs &
  OciLayoutArgs &
  ReferrersFormatArgs &
  DistributionSpecArgs &
  ArgsOf<typeof referenceArgument> &
  ArtifactTypeArgs &
  ReferrersOutputArgs &
  ArgsOf<typeof discoverFlags> &
  PlatformArgs;
