/**
 * The header of a safetensors file: an 8-byte little-endian length, then that many bytes of JSON
 * mapping tensor names to `{dtype, shape, data_offsets}` (and `__metadata__`). Only the header is
 * read, never the weights.
 */
import { open } from 'node:fs/promises';
import { FerryError, quote } from '@ferry/oci';
import { ModelErrorCode } from './errors.js';

/** Headers are small (kilobytes to a few MiB); anything larger is not a safetensors file. */
export const SAFETENSORS_HEADER_LIMIT = 100 * 1024 * 1024;

export interface SafetensorsHeader {
  /** Every element of every tensor. */
  parameterCount: number;
  /** Elements per dtype (`BF16`, `F32`, `I8`, …). */
  dtypes: Record<string, number>;
  /** `__metadata__`, when present (strings only). */
  metadata: Record<string, string>;
  tensorCount: number;
}

function invalid(file: string, problem: string): FerryError {
  return new FerryError(
    ModelErrorCode.InvalidHeader,
    `${quote(file)} is not a valid safetensors file: ${problem}`,
  );
}

/** Parses a header's JSON (the bytes after the length). */
export function parseSafetensorsHeader(
  json: Buffer | string,
  file = 'safetensors',
): SafetensorsHeader {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof json === 'string' ? json : json.toString('utf8'));
  } catch (error) {
    throw invalid(file, `the header is not JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalid(file, 'the header is not a JSON object');
  }
  const dtypes: Record<string, number> = {};
  const metadata: Record<string, string> = {};
  let parameterCount = 0;
  let tensorCount = 0;
  for (const [name, value] of Object.entries(parsed)) {
    if (name === '__metadata__') {
      if (typeof value === 'object' && value !== null) {
        for (const [key, text] of Object.entries(value)) {
          if (typeof text === 'string') metadata[key] = text;
        }
      }
      continue;
    }
    const tensor = value as { dtype?: unknown; shape?: unknown };
    if (
      typeof tensor !== 'object' ||
      tensor === null ||
      typeof tensor.dtype !== 'string' ||
      !Array.isArray(tensor.shape) ||
      !tensor.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)
    ) {
      throw invalid(file, `tensor ${quote(name)} has no dtype or shape`);
    }
    const elements = (tensor.shape as number[]).reduce((product, d) => product * d, 1);
    parameterCount += elements;
    dtypes[tensor.dtype] = (dtypes[tensor.dtype] ?? 0) + elements;
    tensorCount++;
  }
  return { parameterCount, dtypes, metadata, tensorCount };
}

/**
 * Reads the header of the safetensors file at `path` (two reads: the length, then the JSON).
 * Errors name the file as `name` (the path in the model, say), else as `path`.
 */
export async function readSafetensorsHeader(
  path: string,
  name: string = path,
): Promise<SafetensorsHeader> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const prefix = Buffer.alloc(8);
    const { bytesRead } = await handle.read(prefix, 0, 8, 0);
    if (bytesRead < 8) throw invalid(name, 'shorter than its 8-byte header length');
    const length = prefix.readBigUInt64LE(0);
    if (length > BigInt(Math.min(SAFETENSORS_HEADER_LIMIT, size - 8))) {
      throw invalid(
        name,
        `a header length of ${length} bytes is larger than the file or the ${SAFETENSORS_HEADER_LIMIT}-byte limit`,
      );
    }
    const json = Buffer.alloc(Number(length));
    const read = await handle.read(json, 0, json.byteLength, 8);
    if (read.bytesRead < json.byteLength) throw invalid(name, 'the header is cut short');
    return parseSafetensorsHeader(json, name);
  } finally {
    await handle.close();
  }
}

/**
 * A parameter count as model names write it: `1.1b`, `350m`, `7b`, `124m`. One decimal below
 * ten, none above; a trailing `.0` dropped.
 */
export function formatParamSize(count: number): string {
  const units: [number, string][] = [
    [1e12, 't'],
    [1e9, 'b'],
    [1e6, 'm'],
    [1e3, 'k'],
  ];
  for (const [scale, suffix] of units) {
    if (count >= scale) {
      const value = count / scale;
      const text = value < 10 ? value.toFixed(1) : Math.round(value).toString();
      return `${text.replace(/\.0$/, '')}${suffix}`;
    }
  }
  return String(count);
}

/** safetensors dtypes as ModelPack precisions (PyTorch's names). */
const DTYPE_PRECISION: Record<string, string> = {
  F64: 'float64',
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  F8_E4M3: 'float8_e4m3fn',
  F8_E5M2: 'float8_e5m2',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
};

/** The precision that holds most of the parameters; undefined for an empty header. */
export function precisionOf(dtypes: Record<string, number>): string | undefined {
  let best: [string, number] | undefined;
  for (const entry of Object.entries(dtypes).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!best || entry[1] > best[1]) best = entry;
  }
  return best && (DTYPE_PRECISION[best[0]] ?? best[0].toLowerCase());
}
