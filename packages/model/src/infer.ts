/**
 * Fills a model's facts from its files, so that a user rarely types them: the format from the
 * weights' names, the family, architecture, precision and quantization from a Hugging Face
 * config.json, the exact parameter count and dtypes from safetensors headers, and the
 * architecture, name, file type and parameter count from a GGUF header.
 */
import { readFile, stat } from 'node:fs/promises';
import { readGgufHeader, ggufPrecision } from './gguf.js';
import { readHfConfig } from './hf-config.js';
import type { ModelKind } from './media-types.js';
import type { ModelFacts } from './model-config.js';
import { formatParamSize, precisionOf, readSafetensorsHeader } from './safetensors.js';

export interface LocalModelFile {
  /** Relative, `/`-separated. */
  path: string;
  /** Where to read it (a symlink's target). */
  absolutePath: string;
  kind: ModelKind;
}

/** config.json files larger than this are not read for facts. */
export const HF_CONFIG_LIMIT = 4 * 1024 * 1024;

/** Weight formats by file name, in order of precedence when a directory has several. */
const FORMATS: [RegExp, string][] = [
  [/\.safetensors$/i, 'safetensors'],
  [/\.gguf$/i, 'gguf'],
  [/\.onnx$/i, 'onnx'],
  [/\.(bin|pt|pth|ckpt)$/i, 'pytorch'],
  [/\.(h5|hdf5|keras|pb)$/i, 'tensorflow'],
  [/\.tflite$/i, 'tflite'],
  [/\.msgpack$/i, 'flax'],
  [/\.dduf$/i, 'dduf'],
];

export function formatOf(paths: readonly string[]): string | undefined {
  for (const [pattern, format] of FORMATS) {
    if (paths.some((path) => pattern.test(path))) return format;
  }
  return undefined;
}

/** The facts the files give; a header that cannot be read is an error naming the file. */
export async function inferFacts(files: readonly LocalModelFile[]): Promise<ModelFacts> {
  const weights = files.filter((file) => file.kind === 'weights');
  const facts: ModelFacts = { format: formatOf(weights.map((file) => file.path)) };

  const safetensors = weights.filter((file) => /\.safetensors$/i.test(file.path));
  if (safetensors.length > 0) {
    let parameters = 0;
    const dtypes: Record<string, number> = {};
    for (const file of safetensors) {
      const header = await readSafetensorsHeader(file.absolutePath, file.path);
      parameters += header.parameterCount;
      for (const [dtype, count] of Object.entries(header.dtypes)) {
        dtypes[dtype] = (dtypes[dtype] ?? 0) + count;
      }
    }
    if (parameters > 0) facts.paramSize = formatParamSize(parameters);
    facts.precision = precisionOf(dtypes);
  }

  // Projectors (mmproj) are GGUF too, but not the model.
  const gguf = weights.filter((file) => /\.gguf$/i.test(file.path) && !/mmproj/i.test(file.path));
  if (gguf.length > 0 && facts.format === 'gguf') {
    let parameters = 0;
    for (const file of gguf) {
      const header = await readGgufHeader(file.absolutePath, file.path);
      parameters += header.parameterCount;
      facts.architecture ??= header.architecture;
      facts.family ??= header.architecture;
      facts.name ??= header.name;
      const precision = ggufPrecision(header.fileType);
      if (precision) facts.precision ??= precision;
      else facts.quantization ??= header.fileType;
    }
    if (parameters > 0) facts.paramSize = formatParamSize(parameters);
  }

  const hfConfig = files.find((file) => file.path === 'config.json' && file.kind === 'config');
  // A config.json is a few KiB; one of megabytes is not a Hugging Face model config.
  if (hfConfig && (await stat(hfConfig.absolutePath)).size <= HF_CONFIG_LIMIT) {
    const hf = readHfConfig(await readFile(hfConfig.absolutePath, 'utf8'));
    facts.family = hf.family ?? facts.family;
    facts.architecture = hf.architecture ?? facts.architecture;
    // The dtypes in the weights are what the bytes are; torch_dtype only when there are none.
    facts.precision ??= hf.precision;
    facts.quantization = hf.quantization ?? facts.quantization;
  }
  return facts;
}
