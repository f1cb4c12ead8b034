// @ferry/homebrew: Homebrew bottles in OCI registries. Pure functions for names, versions, tags,
// platform choice, tabs and Homebrew-identical images; and pulling, inspecting, publishing and
// mirroring bottle images on top of @ferry/artifact.
export * from './pure.js';
export * from './env.js';
export { currentBottleTag, readMacosProductVersion } from './host.js';
export * from './info.js';
export * from './inputs.js';
export * from './mirror.js';
export * from './pull.js';
export * from './push.js';
export * from './resolve.js';
export * from './fallback-target.js';
