// @ferry/oci: the OCI vocabulary every other ferry package speaks. Pure: no I/O beyond hashing
// streams handed to it, and no runtime dependencies.
export * from './constants.js';
export * from './digest.js';
export * from './errors.js';
export * from './manifest.js';
export * from './platform.js';
export * from './reference.js';
export type * from './types.js';
