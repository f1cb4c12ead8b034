/** `ferry model push|pull|inspect`: arguments, own flags and the types they parse. */
import type { CacheDirArgs, KeepInCacheArgs } from '../../options/cache.js';
import type { TransferConcurrencyArgs } from '../../options/concurrency.js';
import type { FormatArgs } from '../../options/format.js';
import { type ArgsOf, optionGroup, positionalGroup } from '../../options/group.js';
import type { KeepOldFilesArgs, OutputDirectoryArgs } from '../../options/output.js';
import type { AnnotationArgs, DigestCacheArgs } from '../../options/packer.js';
import type { PlatformArgs } from '../../options/platform.js';
import type { OciLayoutArgs, RemoteArgs } from '../../options/remote.js';
import type { referenceArgument } from './reference.js';

const repeatable = (describe: string) =>
  ({ type: 'string', array: true, requiresArg: true, describe }) as const;
const text = (describe: string) => ({ type: 'string', requiresArg: true, describe }) as const;

export const modelPushArguments = positionalGroup({
  reference: {
    type: 'string',
    demandOption: true,
    describe: 'registry/repository:tag[,tag…]',
  },
  dir: { type: 'string', demandOption: true, describe: 'The model directory' },
});

/** Globs that say which files are which (before the built-in table). */
export const modelKindFlags = optionGroup(
  {
    weights: repeatable('Files matching this glob are weights (repeatable)'),
    config: repeatable('… are weight configs (repeatable)'),
    doc: repeatable('… are docs (repeatable)'),
    code: repeatable('… are code (repeatable)'),
    dataset: repeatable('… are datasets (repeatable)'),
  },
  { heading: 'File kinds (before the table):' },
);

/** The ModelPack config's fields, each read from the files unless given. */
export const modelConfigFlags = optionGroup(
  {
    name: text('Model name, e.g. llama3-8b-instruct'),
    version: text('Model version'),
    family: text('Family, e.g. llama (default: config.json model_type)'),
    architecture: text('Architecture (default: config.json or GGUF)'),
    'model-format': text(
      'Weight format: safetensors, gguf, onnx, pytorch… (default: from the files)',
    ),
    'param-size': text('Parameter count, e.g. 8b (default: from the headers)'),
    precision: text('e.g. bfloat16 (default: from the headers or config.json)'),
    quantization: text('e.g. awq, q4_k_m (default: config.json or GGUF)'),
    license: repeatable('SPDX license expression (repeatable)'),
    author: repeatable('Author (repeatable)'),
    vendor: text('Distributing organization'),
    title: text('Human-readable title'),
    description: text('Description'),
    'source-url': text('Where the model’s source is'),
    'doc-url': text('Where its documentation is'),
    revision: text('Source revision'),
    created: text('Creation time, RFC 3339 (default: SOURCE_DATE_EPOCH, else none: reproducible)'),
  },
  { heading: 'Model config (default: read from the files):' },
);

export const modelDryRunFlags = optionGroup({
  'dry-run': { type: 'boolean', describe: 'Print the manifest and config; upload nothing' },
});

export const modelPullIncludeFlags = optionGroup({
  only: {
    type: 'string',
    array: true,
    describe: 'Only these kinds: weights,config,docs,code,datasets',
  },
  include: {
    type: 'string',
    array: true,
    describe: 'Only paths matching this glob (repeatable; ** crosses directories)',
  },
});

type Remote = RemoteArgs & OciLayoutArgs & FormatArgs;

export type ModelPushArgs = Remote &
  TransferConcurrencyArgs &
  ArgsOf<typeof modelPushArguments> &
  ArgsOf<typeof modelKindFlags> &
  ArgsOf<typeof modelConfigFlags> &
  AnnotationArgs &
  ArgsOf<typeof modelDryRunFlags> &
  DigestCacheArgs;

export type ModelPullArgs = Remote &
  TransferConcurrencyArgs &
  ArgsOf<typeof referenceArgument> &
  OutputDirectoryArgs &
  ArgsOf<typeof modelPullIncludeFlags> &
  KeepOldFilesArgs &
  PlatformArgs &
  CacheDirArgs &
  KeepInCacheArgs;

export type ModelInspectArgs = Remote & ArgsOf<typeof referenceArgument> & PlatformArgs;
