// @ferry/model: models as OCI artifacts. Writes CNCF ModelPack; reads ModelPack, its older cnai
// form, KitOps ModelKits, Docker Model Runner models and plain ORAS artifacts. Every name below is
// public on purpose (src/public-surface.test.ts pins the list); classification tables, header
// readers (safetensors, GGUF, config.json), media-type parsing and tar extraction are internal.

// Write: a directory → a ModelPack artifact, with the facts read from its files.
export { packModel, type PackedModel, type PackModelOptions } from './build.js';
export type { KindOverrides } from './classify.js';
export type { ModelFacts } from './model-config.js';

// Read: any model artifact → one view of files with a kind and a path.
export { inspectModel, type InspectedModel } from './inspect.js';
export type { ModelFile, ModelFormat, ModelView } from './read.js';
export { MODEL_KINDS, type ModelKind, type Packing } from './media-types.js';

// Pull: choose files from the view, write them verified under an output directory.
export {
  pullModel,
  selectFiles,
  type PulledFile,
  type PullModelOptions,
  type SelectOptions,
} from './pull.js';

// Errors: the codes model raises (shared ones come from @ferry/artifact and @ferry/oci).
export { ModelErrorCode } from './errors.js';
