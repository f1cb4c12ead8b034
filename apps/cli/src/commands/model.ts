/** `ferry model push|pull|inspect`: models as CNCF ModelPack artifacts (and every format pulled). */
import type { Argv, CommandModule } from 'yargs';
import type { Io } from '../io.js';
import {
  withOutputOptions,
  withRemoteOptions,
  withTransferConcurrency,
  type CommonArgs,
} from '../options.js';
import { lazy } from './lazy.js';

export interface ModelPushArgs extends CommonArgs {
  reference: string;
  dir: string;
  weights?: string[];
  config?: string[];
  doc?: string[];
  code?: string[];
  dataset?: string[];
  name?: string;
  version?: string;
  family?: string;
  architecture?: string;
  'model-format'?: string;
  'param-size'?: string;
  precision?: string;
  quantization?: string;
  license?: string[];
  author?: string[];
  vendor?: string;
  title?: string;
  description?: string;
  'source-url'?: string;
  'doc-url'?: string;
  revision?: string;
  created?: string;
  annotation?: string[];
  'dry-run'?: boolean;
  'digest-cache'?: boolean;
  concurrency?: number;
}

export interface ModelPullArgs extends CommonArgs {
  reference: string;
  output: string;
  only?: string[];
  include?: string[];
  'keep-old-files'?: boolean;
  platform?: string;
  'cache-dir'?: string;
  concurrency?: number;
}

export interface ModelInspectArgs extends CommonArgs {
  reference: string;
  platform?: string;
}

const common = <T>(yargs: Argv<T>) => withOutputOptions(withRemoteOptions(yargs));
const repeatable = (describe: string) =>
  ({ type: 'string', array: true, requiresArg: true, describe }) as const;
const text = (describe: string) => ({ type: 'string', requiresArg: true, describe }) as const;

export function modelCommand(io: Io): CommandModule<object, never> {
  const cmd = <A>(module: CommandModule<object, A>) =>
    module as unknown as CommandModule<object, never>;
  const subcommands = [
    cmd<ModelPushArgs>({
      command: 'push <reference> <dir>',
      describe: 'Publish a model directory as a CNCF ModelPack artifact (one layer per file)',
      builder: (yargs) =>
        withTransferConcurrency(common(yargs))
          .positional('reference', {
            type: 'string',
            demandOption: true,
            describe: 'registry/repository:tag[,tag…]',
          })
          .positional('dir', {
            type: 'string',
            demandOption: true,
            describe: 'The model directory',
          })
          .group(['weights', 'config', 'doc', 'code', 'dataset'], 'File kinds (before the table):')
          .option('weights', repeatable('Files matching this glob are weights (repeatable)'))
          .option('config', repeatable('… are weight configs (repeatable)'))
          .option('doc', repeatable('… are docs (repeatable)'))
          .option('code', repeatable('… are code (repeatable)'))
          .option('dataset', repeatable('… are datasets (repeatable)'))
          .group(
            [
              'name',
              'version',
              'family',
              'architecture',
              'model-format',
              'param-size',
              'precision',
              'quantization',
              'license',
              'author',
              'vendor',
              'title',
              'description',
              'source-url',
              'doc-url',
              'revision',
              'created',
            ],
            'Model config (default: read from the files):',
          )
          .option('name', text('Model name, e.g. llama3-8b-instruct'))
          .option('version', text('Model version'))
          .option('family', text('Family, e.g. llama (default: config.json model_type)'))
          .option('architecture', text('Architecture (default: config.json or GGUF)'))
          .option(
            'model-format',
            text('Weight format: safetensors, gguf, onnx, pytorch… (default: from the files)'),
          )
          .option('param-size', text('Parameter count, e.g. 8b (default: from the headers)'))
          .option('precision', text('e.g. bfloat16 (default: from the headers or config.json)'))
          .option('quantization', text('e.g. awq, q4_k_m (default: config.json or GGUF)'))
          .option('license', repeatable('SPDX license expression (repeatable)'))
          .option('author', repeatable('Author (repeatable)'))
          .option('vendor', text('Distributing organization'))
          .option('title', text('Human-readable title'))
          .option('description', text('Description'))
          .option('source-url', text('Where the model’s source is'))
          .option('doc-url', text('Where its documentation is'))
          .option('revision', text('Source revision'))
          .option(
            'created',
            text('Creation time, RFC 3339 (default: SOURCE_DATE_EPOCH, else none: reproducible)'),
          )
          .option('annotation', {
            alias: 'a',
            type: 'string',
            array: true,
            describe: 'Manifest annotation key=value (repeatable)',
          })
          .option('dry-run', {
            type: 'boolean',
            describe: 'Print the manifest and config; upload nothing',
          })
          .option('digest-cache', {
            type: 'boolean',
            default: true,
            describe:
              'Remember digests of large files (--no-digest-cache: always hash; also FERRY_DIGEST_CACHE=0)',
          })
          .example(
            '$0 model push localhost:5000/models/tiny-llama:v1 ./tiny-llama --license Apache-2.0',
            'Publish a Hugging Face model directory',
          )
          .example(
            '$0 model push ghcr.io/me/m:v1 ~/.cache/huggingface/hub/models--org--m/snapshots/<rev>',
            'Publish a Hugging Face cache snapshot (symlinks are followed)',
          )
          .example(
            '$0 model push localhost:5000/m:v1 ./m --doc "*.txt" --dry-run',
            'Show the manifest and config without pushing',
          ) as unknown as Argv<ModelPushArgs>,
      handler: lazy(io, () => import('../run/model-push.js')),
    }),
    cmd<ModelPullArgs>({
      command: 'pull <reference>',
      describe:
        'Pull a model (ModelPack, cnai, KitOps, Docker Model Runner or ORAS) into a directory',
      builder: (yargs) =>
        withTransferConcurrency(common(yargs))
          .positional('reference', { type: 'string', demandOption: true })
          .option('output', {
            alias: 'o',
            type: 'string',
            default: '.',
            describe: 'Output directory',
          })
          .option('only', {
            type: 'string',
            array: true,
            describe: 'Only these kinds: weights,config,docs,code,datasets',
          })
          .option('include', {
            type: 'string',
            array: true,
            describe: 'Only paths matching this glob (repeatable; ** crosses directories)',
          })
          .option('keep-old-files', {
            alias: 'k',
            type: 'boolean',
            describe: 'Fail rather than overwrite existing files',
          })
          .option('platform', {
            type: 'string',
            describe: 'From a multi-platform index, pull os/arch[/variant]',
          })
          .option('cache-dir', {
            type: 'string',
            describe: 'Download cache (default $FERRY_CACHE, else $XDG_CACHE_HOME/ferry)',
          })
          .example(
            '$0 model pull localhost:5000/models/tiny-llama:v1 -o ./tiny-llama',
            'Every file',
          )
          .example(
            '$0 model pull localhost:5000/models/tiny-llama:v1 --only weights,config -o ./m',
            'Weights and configs only; nothing else is fetched',
          ) as unknown as Argv<ModelPullArgs>,
      handler: lazy(io, () => import('../run/model-pull.js')),
    }),
    cmd<ModelInspectArgs>({
      command: 'inspect <reference>',
      describe:
        'Show a model’s format, family, size, precision, licence and files (no weights fetched)',
      builder: (yargs) =>
        common(yargs)
          .positional('reference', { type: 'string', demandOption: true })
          .option('platform', {
            type: 'string',
            describe: 'From a multi-platform index, inspect os/arch[/variant]',
          })
          .example(
            '$0 model inspect localhost:5000/models/tiny-llama:v1 --format json',
            'As JSON',
          ) as unknown as Argv<ModelInspectArgs>,
      handler: lazy(io, () => import('../run/model-inspect.js')),
    }),
  ];
  return {
    command: 'model <command>',
    describe: 'Publish, pull and inspect models (CNCF ModelPack; also KitOps, Docker, ORAS)',
    builder: (yargs) => {
      // The model's --version replaces yargs' own --version inside `model`.
      yargs.version(false);
      for (const sub of subcommands) yargs.command(sub);
      return yargs.demandCommand(1, 'Name a model command.') as unknown as Argv<never>;
    },
    handler: () => {},
  };
}
