// @ferry/homebrew: Homebrew bottles in OCI registries — pulling, inspecting, publishing and
// mirroring bottle images on top of @ferry/artifact, by Homebrew's own rules. Those rules (names,
// versions, tags, platform choice, tabs, byte-exact images and indexes) are internal, reached
// through the operations; the few a caller needs to prepare their input are exported.
// src/public-surface.test.ts pins this list.

// The operations: pull (with dependencies), inspect, publish and mirror bottle images.
export {
  pullBottles,
  type BottleEvent,
  type PullBottlesOptions,
  type PulledBottle,
} from './pull.js';
export { bottleInfo, type BottleInfo, type BottleInfoEntry } from './info.js';
export { readBottleFiles, type BottleFile } from './inputs.js';
export { pushBottles, type PushBottlesOptions, type PushedImage, type PushEvent } from './push.js';
export { mirrorBottles, type MirrorBottlesOptions, type MirroredImage } from './mirror.js';

// Where bottles come from and go to, as brew decides from its environment; reading from a mirror
// with a fallback to the default domain.
export {
  bottleSources,
  bottleUploadCredentials,
  type BottleEndpoint,
  type BottleRegistryOptions,
  type BottleSourceOptions,
  type BottleSources,
  type UploadCredentials,
} from './env.js';
export { FallbackTarget, type FallbackSource } from './fallback-target.js';

// The machine's bottle tag, and the rules a caller needs to name what to pull or push.
export { currentBottleTag } from './host.js';
export {
  HomebrewErrorCode,
  imageName,
  parseFormulaFullName,
  skipOrLaterBottles,
  standardizeBottleTag,
  type BottleInput,
  type DestinationOptions,
  type FormulaRef,
  type MatchOptions,
} from './pure.js';
