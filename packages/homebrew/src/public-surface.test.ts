// @ferry/homebrew's public face, pinned: adding or removing an export of index.ts fails here, so that
// either is a decision made in review (and a changeset), never a side effect of `export *`.
// Keep each list one name per line; order does not matter to the comparison.
import { pinPublicSurface } from '../../../scripts/public-surface.mjs';

const VALUES = [
  'bottleInfo',
  'bottleSources',
  'bottleUploadCredentials',
  'currentBottleTag',
  'FallbackTarget',
  'HomebrewErrorCode',
  'imageName',
  'mirrorBottles',
  'parseFormulaFullName',
  'pullBottles',
  'pushBottles',
  'readBottleFiles',
  'skipOrLaterBottles',
  'standardizeBottleTag',
];

const TYPES = [
  'BottleEndpoint',
  'BottleEvent',
  'BottleFile',
  'BottleInfo',
  'BottleInfoEntry',
  'BottleInput',
  'BottleRegistryOptions',
  'BottleSourceOptions',
  'BottleSources',
  'DestinationOptions',
  'FallbackSource',
  'FormulaRef',
  'MatchOptions',
  'MirrorBottlesOptions',
  'MirroredImage',
  'PullBottlesOptions',
  'PulledBottle',
  'PushBottlesOptions',
  'PushedImage',
  'PushEvent',
  'UploadCredentials',
];

pinPublicSurface({
  name: '@ferry/homebrew',
  indexUrl: new URL('./index.ts', import.meta.url),
  load: () => import('./index.js'),
  values: VALUES,
  types: TYPES,
});
