// @ferry/model: models as OCI artifacts. Writes CNCF ModelPack; reads ModelPack, its older cnai
// form, KitOps ModelKits, Docker Model Runner models and plain ORAS artifacts.
export * from './build.js';
export * from './classify.js';
export { ModelErrorCode } from './errors.js';
export * from './gguf.js';
export * from './hf-config.js';
export * from './infer.js';
export * from './inspect.js';
export * from './media-types.js';
export * from './model-config.js';
export * from './pull.js';
export * from './read.js';
export * from './safetensors.js';
export * from './tar-layer.js';
export * from './walk.js';
