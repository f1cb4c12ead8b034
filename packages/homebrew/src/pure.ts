// @ferry/homebrew's pure half: names, versions, bottle tags, bottle choice, tabs and byte-exact
// bottle images. No I/O here; `host.ts` holds the one helper that asks the OS for its version.
export * from './errors.js';
export * from './names.js';
export * from './versions.js';
export * from './tags.js';
export * from './select.js';
export * from './tab.js';
export * from './json.js';
export * from './bottle-index.js';
export * from './bottle-platform.js';
export * from './build.js';
export * from './spdx.js';
export * from './sbom.js';
export * from './destination.js';
