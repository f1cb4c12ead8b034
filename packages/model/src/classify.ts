/**
 * Which kind each file of a model directory is. A documented table decides by file name (the
 * first row that matches wins); `--weights/--config/--doc/--code/--dataset <glob>` come first.
 * A file nothing claims is reported, never silently dropped or guessed.
 */
import { globMatcher } from '@ferry/artifact';
import { FerryError } from '@ferry/oci';
import type { ModelKind } from './media-types.js';
import { ModelErrorCode } from './errors.js';

export interface ClassificationRule {
  kind: ModelKind;
  /** Globs over the file's name (lower-cased; `*` stays within the name). */
  names: string[];
  /** What the row is for, as the README's table says. */
  note: string;
}

/**
 * The table, in the order rows are tried. Specific names before extensions: `vocab.txt` is a
 * tokenizer file (config), `requirements.txt` is code, other `*.txt` are docs.
 */
export const CLASSIFICATION_TABLE: readonly ClassificationRule[] = [
  {
    kind: 'weights',
    names: [
      '*.safetensors',
      '*.gguf',
      '*.ggml',
      '*.bin',
      '*.pt',
      '*.pth',
      '*.ckpt',
      '*.onnx',
      '*.onnx_data',
      '*.onnx.data',
      '*.h5',
      '*.hdf5',
      '*.keras',
      '*.msgpack',
      '*.tflite',
      '*.pb',
      '*.mlmodel',
      '*.mlpackage',
      '*.dduf',
      '*.nemo',
      '*.llamafile',
      '*.pdparams',
      '*.ot',
      '*.npz',
      '*.npy',
      '*.pkl',
      '*.joblib',
      '*.engine',
      '*.mar',
      '*.mmproj',
    ],
    note: 'weights and checkpoints: safetensors, GGUF, PyTorch, ONNX, TensorFlow/Keras, Flax, …',
  },
  {
    kind: 'config',
    names: [
      'config.json',
      'generation_config.json',
      '*.safetensors.index.json',
      '*.bin.index.json',
      '*.index.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'tokenizer.model',
      'special_tokens_map.json',
      'added_tokens.json',
      'vocab.json',
      'vocab.txt',
      'merges.txt',
      'spiece.model',
      '*.spm',
      'sentencepiece*.model',
      '*.tiktoken',
      'chat_template.json',
      'chat_template.jinja',
      '*.jinja',
      'preprocessor_config.json',
      'processor_config.json',
      'params.json',
      'adapter_config.json',
      'modules.json',
      '*.json',
      '*.yaml',
      '*.yml',
      '*.toml',
      '*.cfg',
      '*.ini',
      'modelfile',
      'kitfile',
    ],
    note: 'weight configs: config.json, generation_config.json, tokenizer files, shard indexes, chat templates, other JSON/YAML/TOML',
  },
  {
    kind: 'code',
    names: [
      '*.py',
      '*.ipynb',
      '*.sh',
      'requirements*.txt',
      '*.js',
      '*.mjs',
      '*.ts',
      '*.c',
      '*.cc',
      '*.cpp',
      '*.h',
      '*.hpp',
      '*.cu',
      '*.go',
      '*.rs',
      '*.java',
      '*.swift',
      '*.r',
      '*.lua',
      'dockerfile',
      'makefile',
    ],
    note: 'code: Python and notebooks, scripts, requirements files, other source files',
  },
  {
    kind: 'datasets',
    names: ['*.csv', '*.tsv', '*.jsonl', '*.parquet', '*.arrow', '*.tfrecord', '*.avro'],
    note: 'datasets: CSV/TSV, JSON Lines, Parquet, Arrow, TFRecord',
  },
  {
    kind: 'docs',
    names: [
      'readme*',
      'license*',
      'licence*',
      'notice*',
      'copying*',
      'changelog*',
      'use_policy*',
      'model_card*',
      '*.md',
      '*.markdown',
      '*.rst',
      '*.txt',
      '*.pdf',
      '*.html',
      '*.png',
      '*.jpg',
      '*.jpeg',
      '*.gif',
      '*.svg',
      '*.webp',
    ],
    note: 'docs: README, LICENSE, NOTICE, Markdown, text, images',
  },
];

/** The flag that claims files for a kind. */
export const KIND_FLAG: Record<ModelKind, string> = {
  weights: '--weights',
  config: '--config',
  docs: '--doc',
  code: '--code',
  datasets: '--dataset',
};

/** Globs given on the command line, by kind; they take precedence over the table. */
export type KindOverrides = Partial<Record<ModelKind, string[]>>;

export interface Classified {
  path: string;
  kind: ModelKind;
}

const compiledTable = CLASSIFICATION_TABLE.map((rule) => ({
  kind: rule.kind,
  matches: globMatcher(rule.names),
}));

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * A matcher for user globs: a glob with a `/` matches the whole relative path; one without
 * matches the file name anywhere, as in .gitignore (`--doc '*.txt'`).
 */
export function pathMatcher(patterns: readonly string[]): (path: string) => boolean {
  const withSlash = globMatcher(patterns.filter((p) => p.includes('/')));
  const names = globMatcher(patterns.filter((p) => !p.includes('/')));
  return (path) => withSlash(path) || names(baseName(path));
}

/** The kind of one file by the table alone; undefined when no row matches. */
export function kindByTable(path: string): ModelKind | undefined {
  const name = baseName(path).toLowerCase();
  return compiledTable.find((rule) => rule.matches(name))?.kind;
}

/**
 * Classifies relative `/`-separated paths. Throws ERR_MODEL_UNCLASSIFIED naming every file no
 * override or row claims, and the flags that would.
 */
export function classifyFiles(
  paths: readonly string[],
  overrides: KindOverrides = {},
): Classified[] {
  // Overrides in a fixed order, so that a file two globs claim always gets the same kind.
  const userRules = (Object.keys(KIND_FLAG) as ModelKind[])
    .filter((kind) => overrides[kind]?.length)
    .map((kind) => ({ kind, matches: pathMatcher(overrides[kind] ?? []) }));
  const classified: Classified[] = [];
  const unclassified: string[] = [];
  for (const path of paths) {
    const kind = userRules.find((rule) => rule.matches(path))?.kind ?? kindByTable(path);
    if (kind) classified.push({ path, kind });
    else unclassified.push(path);
  }
  if (unclassified.length > 0) {
    const shown = unclassified.slice(0, 20).map((p) => JSON.stringify(p));
    const more = unclassified.length > 20 ? ` and ${unclassified.length - 20} more` : '';
    throw new FerryError(
      ModelErrorCode.Unclassified,
      `no rule says what kind of file ${unclassified.length === 1 ? 'this is' : 'these are'}: ${shown.join(', ')}${more}; classify ${unclassified.length === 1 ? 'it' : 'them'} with --weights, --config, --doc, --code or --dataset <glob> (e.g. --doc ${JSON.stringify(suggestGlob(unclassified[0] ?? ''))})`,
    );
  }
  return classified;
}

/** `*.ext` for a file with an extension, else its name. */
function suggestGlob(path: string): string {
  const name = baseName(path);
  const dot = name.lastIndexOf('.');
  return dot > 0 ? `*${name.slice(dot)}` : name;
}
